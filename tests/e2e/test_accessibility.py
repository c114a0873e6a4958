"""Beyond the journeys: the walk-in form with the keyboard alone, errors that are announced,
the error pages, and every list's empty state, each checked like a journey's step (axe-core,
no sideways scrolling, no console error)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from intake.models import Intake
from referrals.models import Facility

from .helpers import expect, sign_in

pytestmark = pytest.mark.e2e

MAX_TABS = 60


def focused(page: Page) -> dict:
    """What has the keyboard focus: its tag, id, the text of its label (or its own text)."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const label = el.labels && el.labels.length ? el.labels[0].innerText : el.innerText || '';
            return {tag: el.tagName.toLowerCase(), id: el.id, type: el.type || '', label: label.trim()};
        }"""
    )


def tab_to(page: Page, label: str | re.Pattern) -> dict:
    """Press Tab until the focus is on the control whose label (or text) matches ``label``."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        now = focused(page)
        text = now["label"].replace("*", "").strip()
        if label.search(text) if isinstance(label, re.Pattern) else text.startswith(label):
            return now
    raise AssertionError(f"{label!r} is not reachable with the Tab key (focus ended on {focused(page)})")


def test_the_walk_in_form_can_be_completed_with_the_keyboard_alone(browse, program, celery_running):
    desk = browse.desktop()
    page = desk.page
    sign_in(page, "officer")
    page.goto("/intake/new/")

    # The skip link is the first stop, and leads into the form.
    page.keyboard.press("Tab")
    assert focused(page)["label"] == "Skip to main content"
    page.keyboard.press("Enter")

    # Sent empty, the form comes back with its problems announced and focused.
    tab_to(page, "Save and page a companion")
    page.keyboard.press("Enter")
    summary = page.get_by_role("alert").filter(has_text="Please check")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("First name or alias: This field is required.")
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.get_by_label("First name or alias")).to_have_attribute("aria-invalid", "true")
    desk.check("keyboard-1-errors-announced")

    # From the summary, the link to the field puts the cursor in it.
    page.keyboard.press("Tab")
    assert focused(page)["label"].startswith("First name or alias")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "id_first_name"
    page.keyboard.type("Wren")

    tab_to(page, "Or approximate age")
    page.keyboard.type("29")
    tab_to(page, "Preferred language")
    page.keyboard.type("Spanish")  # a closed select chooses by typing
    tab_to(page, "Outstanding warrant")
    page.keyboard.type("No outstanding")
    tab_to(page, "Drugs or equipment surrendered")
    page.keyboard.press("Space")
    tab_to(page, "Syringes or needles")  # shown once the box is ticked
    page.keyboard.press("Space")
    tab_to(page, "Disposed of")
    page.keyboard.press("Space")
    expect(page.get_by_label("Preferred language")).to_have_value("es")
    expect(page.get_by_label("Outstanding warrant")).to_have_value("none")
    desk.check("keyboard-2-form-filled")
    tab_to(page, "Save and page a companion")
    page.keyboard.press("Enter")

    expect(page.get_by_role("status").filter(has_text="Walk-in logged")).to_be_visible()
    intake = Intake.objects.select_related("person").get()
    assert intake.person.first_name == "Wren"
    assert intake.person.approximate_age == 29
    assert intake.companion_language == "es"
    assert intake.warrant_check == "none"
    assert (intake.items_surrendered, intake.surrendered_item_types, intake.surrendered_items_disposed) == (
        True,
        ["syringes"],
        True,
    )


def test_a_wrong_password_is_announced(browse, program):
    tab = browse.phone()
    page = tab.page
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("jamie")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    summary = page.get_by_role("alert").filter(has_text="Please enter a correct username and password")
    expect(summary).to_be_focused()
    tab.check("errors-sign-in-refused")


def test_error_pages_are_harbors_own(browse, program):
    tab = browse.desktop()
    page = tab.page
    sign_in(page, "officer")

    tab.allow_console_error("status of 404")
    page.goto("/intake/no-such-page/")
    expect(page.get_by_role("heading", name="We can't find that page")).to_be_visible()
    tab.check("error-404")

    tab.allow_console_error("status of 403")
    page.goto("/dashboard/")
    expect(page.get_by_role("heading", name="This page isn't part of your role")).to_be_visible()
    tab.check("error-403")

    # A form whose security token no longer matches (the cookie is gone: a new session elsewhere).
    page.goto("/intake/new/")
    page.context.clear_cookies(name="csrftoken")
    page.get_by_label("First name or alias").fill("Wren")
    page.get_by_role("button", name="Save and page a companion").click()
    expect(page.get_by_role("heading", name="Please try that again")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("This form was open too long")
    tab.check("error-csrf")
    page.get_by_role("link", name="Go back to the form").click()
    expect(page.get_by_role("heading", name="New walk-in")).to_be_visible()
    assert not Intake.objects.exists()

    phone = browse.phone()
    phone.allow_console_error("status of 400")
    phone.page.goto("/volunteers/offers/no-such-link/")
    expect(phone.page.get_by_role("heading", name="This link is not valid")).to_be_visible()
    phone.check("error-bad-offer-link")


def test_every_list_has_a_kind_empty_state(browse, program):
    """A department on its first day: nothing logged, nobody on call, no facility shared yet."""
    Facility.objects.all().delete()
    officer = browse.desktop()
    sign_in(officer.page, "officer")
    expect(officer.page.get_by_text("No walk-ins logged by you in the last 24 hours")).to_be_visible()
    officer.check("empty-officer-desk")

    coordinator = browse.desktop()
    page = coordinator.page
    sign_in(page, "coordinator")
    for path, text, name in [
        ("/dashboard/", "Nobody is waiting for a companion", "empty-board"),
        ("/intake/", "No walk-ins to show", "empty-walk-ins"),
        ("/referrals/follow-ups/", "No follow-ups are due", "empty-follow-ups"),
        ("/referrals/facilities/", "No facilities match", "empty-directory"),
        ("/accounts/locked-out/", "No account of your departments is locked", "empty-locked-out"),
        ("/volunteers/roster/", "", "roster"),
        ("/volunteers/roster/coverage/", "", "coverage"),
        ("/dashboard/figures/", "", "empty-figures"),
    ]:
        page.goto(path)
        if text:
            expect(page.get_by_text(text)).to_be_visible()
        coordinator.check(name)

    volunteer = browse.phone()
    page = volunteer.page
    sign_in(page, "sam")
    expect(page.get_by_text("No one needs a companion right now")).to_be_visible()
    volunteer.check("empty-volunteer-home")
    page.goto("/volunteers/shifts/")
    volunteer.check("volunteer-my-shifts")
    page.goto("/volunteers/preferences/")
    volunteer.check("volunteer-preferences")
