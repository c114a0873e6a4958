"""One person's walk-in, from the front desk to a treatment bed, in four browsers at once.

1. The desk officer signs in, logs the walk-in with the quick form and watches the paging start
   and update live on the intake page.
2. Jamie, a volunteer on call, opens the link in the text message on a phone, signs in, accepts,
   sees the minimum necessary about the person, marks "arrived" and records a call to a facility.
3. Sam, paged in the same wave, opens his link after Jamie accepted and is told it is taken.
4. The coordinator sees the person on the live board, records the placement and the admission,
   sees the program figures and charts change, and downloads the figures as CSV.

The paging and every text message go through the real Celery worker and broker; the screens are
checked with axe-core, for sideways scrolling and for console errors at every step.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role, User
from intake.models import Intake, Person
from referrals.models import PlacementAttempt
from tests.conftest import enrolled_totp

from ..dashboard import builders
from ..factories import user_with_role
from .helpers import expect, htmx_settled, link_in, sign_in, texts_to, wait_for_sms

pytestmark = pytest.mark.e2e

LIVE = 25_000  # ms: the paging panel refreshes every 10 s, the status every 15 s


def seed_history(program) -> None:
    """A year of earlier walk-ins (about two in three placed), for the figures to show. Another
    officer logged them (rows written today would be on the journey's officer's desk)."""
    now = timezone.now()
    earlier_officer = user_with_role(Role.DESK_OFFICER, program.department, username="night-desk")
    for week in range(1, 50):
        for n in range((week * 7) % 4):
            person = builders.person(program.department, f"Earlier{week}x{n}")
            placed = (week + n) % 3 != 0
            builders.walk_in(
                person=person,
                officer=earlier_officer,
                arrived_at=now - timedelta(days=7 * week + n, hours=3),
                accepted_after=4 + n + week % 5,
                arrived_after=22 + week % 17,
                placed_after=120 + 7 * (week % 11) if placed else None,
                admitted_after=260 + 9 * (week % 13) if placed else None,
                facility=program.facility,
                close_reason="" if placed else "left_before_placement",
            )


def figure(page, name: str) -> str:
    return page.locator(f"#figures-walk-ins [data-figure='{name}']").inner_text().split()[0]


def chart_total(page, canvas_id: str, dataset: int) -> int:
    """The sum of one dataset of a Chart.js chart as drawn on the page."""
    page.wait_for_function("(id) => window.Chart && Chart.getChart(id)", arg=canvas_id)
    return page.evaluate(
        "([id, i]) => Chart.getChart(id).data.datasets[i].data.reduce((a, b) => a + b, 0)",
        [canvas_id, dataset],
    )


def test_a_walk_in_from_the_desk_to_a_treatment_bed(browse, program, celery_running):
    seed_history(program)
    jamie, sam = program.volunteers

    # --- 1. The desk officer logs the walk-in and watches the paging -----------------------
    desk = browse.desktop()
    officer = desk.page
    # A first sign-in: the officer sets up the authenticator app, then lands on the desk.
    sign_in(officer, "officer", check=lambda step: desk.check(f"officer-0-{step}"))
    expect(officer).to_have_url(re.compile(r"/intake/desk/$"))
    expect(officer.get_by_role("heading", name="Front desk")).to_be_visible()
    desk.check("officer-1-front-desk")

    officer.get_by_role("main").get_by_role("link", name="New walk-in").click()
    expect(officer.get_by_role("heading", name="New walk-in")).to_be_visible()
    officer.get_by_label("First name or alias").fill("Wren")
    officer.get_by_label("Last name (optional)").fill("Zabriskie")
    officer.get_by_label("Or approximate age").fill("34")
    officer.get_by_label("Outstanding warrant").select_option("none")
    desk.check("officer-2-walk-in-form")
    officer.get_by_role("button", name="Save and page a companion").click()

    expect(officer.get_by_role("heading", name="Wren Zabriskie")).to_be_visible()
    expect(officer.get_by_role("status").filter(has_text="Walk-in logged")).to_be_visible()
    panel = officer.locator("#paging-panel")
    # The first wave goes out through the worker at once: both volunteers on call are asked.
    expect(panel.get_by_role("row").filter(has_text="Waiting for an answer")).to_have_count(2, timeout=LIVE)
    expect(panel).to_contain_text("Jamie")
    expect(panel).to_contain_text("Sam")
    htmx_settled(officer)
    desk.check("officer-3-paging-started")

    # The texts carry the station and a link, never the person.
    jamie_text = wait_for_sms(to=str(jamie.phone), containing="someone needs a companion")
    sam_text = wait_for_sms(to=str(sam.phone), containing="someone needs a companion")
    for sms in (jamie_text, sam_text):
        assert "Gloucester Police Department" in sms.body
        assert "Wren" not in sms.body
        assert "Zabriskie" not in sms.body

    # --- 2. Jamie answers on a phone -------------------------------------------------------
    phone = browse.phone()
    jamie_page = phone.page
    jamie_page.goto(link_in(jamie_text))
    expect(jamie_page.get_by_role("heading", name="Someone needs a companion")).to_be_visible()
    expect(jamie_page.get_by_text("Gloucester Police Department")).to_be_visible()
    expect(jamie_page.get_by_text("Wren")).to_have_count(0)
    phone.check("volunteer-1-request")
    jamie_page.get_by_role("button", name="Accept").click()

    # Answering needs the volunteer's own account: sign in, then back to the request.
    expect(jamie_page).to_have_url(re.compile(r"/accounts/login/"))
    phone.check("volunteer-2-sign-in")
    sign_in(jamie_page, "jamie")
    expect(jamie_page.get_by_role("heading", name="Someone needs a companion")).to_be_visible()
    jamie_page.get_by_role("button", name="Accept").click()

    expect(jamie_page.get_by_role("heading", name="You are Wren's companion")).to_be_visible()
    details = jamie_page.locator("section", has=jamie_page.get_by_role("heading", name="What you need"))
    expect(details).to_contain_text("Wren")
    expect(details).to_contain_text("English")
    # Minimum necessary: no last name, age or safety screen for the companion.
    shown = jamie_page.get_by_role("main").inner_text()
    for private in ("Zabriskie", "warrant", "Warrant"):
        assert private not in shown, f"the companion's page shows {private!r}"
    # The age (34), but not a time of day such as "Expected by 1:34 PM".
    assert not re.search(r"(?<![:\d])34\b", shown), "the companion's page shows the age"
    phone.check("volunteer-3-assignment")

    # The desk sees the acceptance without reloading.
    expect(panel.get_by_text(re.compile(r"Accepted \d"))).to_be_visible(timeout=LIVE)
    expect(panel.get_by_role("row").filter(has_text="Jamie")).to_contain_text("Accepted")
    expect(panel.get_by_role("row").filter(has_text="Sam")).to_contain_text("Withdrawn")
    htmx_settled(officer)
    desk.check("officer-4-companion-accepted")

    jamie_page.get_by_role("button", name="I've arrived").click()
    expect(jamie_page.get_by_role("status").filter(has_text="You arrived at")).to_be_visible()
    phone.check("volunteer-4-arrived")
    expect(officer.locator("#intake-status")).to_contain_text("Companion arrived", timeout=LIVE)

    jamie_page.get_by_role("link", name="Record a call to a facility").click()
    expect(jamie_page.get_by_role("heading", name="Record a call to a facility")).to_be_visible()
    jamie_page.get_by_label("Facility").select_option(label=f"{program.facility.name} — Beverly")
    jamie_page.get_by_label("No bed", exact=True).check()
    jamie_page.get_by_label("Note (optional, no health details)").fill("Call back after 2 PM")
    phone.check("volunteer-5-call-form")
    jamie_page.get_by_role("button", name="Save the call").click()
    expect(jamie_page.get_by_role("status").filter(has_text="Call recorded")).to_be_visible()
    expect(jamie_page.get_by_role("heading", name="Calls to facilities (1)")).to_be_visible()
    expect(jamie_page.get_by_text("No bed", exact=True)).to_be_visible()
    phone.check("volunteer-6-call-recorded")
    intake = Intake.objects.get(person__first_name="Wren")
    assert intake.status == Intake.Status.SEARCHING_PLACEMENT
    assert PlacementAttempt.objects.filter(intake=intake, attempted_by=jamie.user).count() == 1

    # --- 3. Sam opens his link after Jamie accepted ------------------------------------------
    wait_for_sms(to=str(sam.phone), containing="filled by another companion")
    second = browse.phone()
    second.page.goto(link_in(sam_text))
    expect(second.page.get_by_role("heading", name="Already taken")).to_be_visible()
    expect(second.page.get_by_role("status")).to_contain_text("Someone else is already on the way")
    second.check("volunteer-7-already-taken")
    assert len(texts_to(str(sam.phone))) == 2  # the request, then "filled, thank you"

    # --- 4. The coordinator places the person -----------------------------------------------
    board_tab = browse.desktop()
    coordinator = board_tab.page
    # The coordinator set up the authenticator app before: the code it shows now.
    enrolled_totp(User.objects.get(username="coordinator"))
    sign_in(coordinator, "coordinator", check=lambda step: board_tab.check(f"coordinator-0-{step}"))
    expect(coordinator).to_have_url(re.compile(r"/dashboard/$"))
    searching = coordinator.locator(
        "section", has=coordinator.get_by_role("heading", name="Placement searches")
    )
    expect(searching.get_by_role("row").filter(has_text="Wren")).to_contain_text("1")
    board_tab.check("coordinator-1-live-board")

    coordinator.get_by_role("link", name="Program figures").click()
    expect(coordinator.get_by_role("heading", name="Program figures")).to_be_visible()
    walk_ins, placed, admitted = (
        int(figure(coordinator, name)) for name in ("walk_ins", "placed", "admitted")
    )
    weekly_placed = chart_total(coordinator, "weekly-chart", 1)
    monthly_walk_ins = chart_total(coordinator, "monthly-chart", 0)
    assert walk_ins == monthly_walk_ins
    board_tab.check("coordinator-2-figures-before")

    coordinator.get_by_role("link", name="Live board").click()
    searching.get_by_role("link", name="Wren").click()
    expect(coordinator.get_by_role("heading", name="Wren Zabriskie")).to_be_visible()
    placement_panel = coordinator.locator("#placement-panel")
    expect(placement_panel).to_contain_text("No bed")
    board_tab.check("coordinator-3-intake")
    placement_panel.get_by_role("link", name="Record the placement").click()
    coordinator.get_by_label("Facility").select_option(label=f"{program.facility.name} — Beverly")
    coordinator.get_by_label("Level of care").select_option("3.7-WM")
    board_tab.check("coordinator-4-placement-form")
    coordinator.get_by_role("button", name="Placed: save").click()
    expect(coordinator.get_by_role("status").filter(has_text="Placed in treatment")).to_be_visible()
    coordinator.get_by_role("link", name="Confirm the admission").click()
    coordinator.get_by_label("The facility confirmed that the person was admitted.").check()
    coordinator.get_by_role("button", name="Confirm the admission").click()
    expect(coordinator.get_by_role("status").filter(has_text="Admission confirmed")).to_be_visible()
    expect(coordinator.locator("#placement-panel")).to_contain_text("Confirmed")
    board_tab.check("coordinator-5-admitted")

    coordinator.goto("/dashboard/figures/")
    assert int(figure(coordinator, "walk_ins")) == walk_ins
    assert int(figure(coordinator, "placed")) == placed + 1
    assert int(figure(coordinator, "admitted")) == admitted + 1
    assert chart_total(coordinator, "weekly-chart", 1) == weekly_placed + 1
    board_tab.check("coordinator-6-figures-after")

    with coordinator.expect_download() as download:
        coordinator.get_by_role("link", name="Download CSV").click()
    path = download.value.path()
    text = path.read_text(encoding="utf-8")
    rows = {(section, name): value for section, name, value in csv.reader(io.StringIO(text))}
    assert rows[("walk_ins", "placed")] == str(placed + 1)
    assert rows[("walk_ins", "admitted")] == str(admitted + 1)
    # Aggregates only: nobody's name is in the export.
    for name in Person.objects.values_list("first_name", flat=True):
        assert name not in text
