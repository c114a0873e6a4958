"""Why nobody can be paged: every rule that left each volunteer out, counted, and the near fits."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from volunteers.models import Offer
from volunteers.paging.explain import RULES, paging_explanation
from volunteers.paging.services import offer_accept

from ..factories import OfferFactory
from .conftest import volunteer_on_call, waiting

pytestmark = pytest.mark.django_db


def named(department, first_name: str, **fields):
    volunteer = volunteer_on_call(department, **fields)
    volunteer.user.first_name = first_name
    volunteer.user.save()
    return volunteer


@pytest.fixture
def walk_in(department, officer):
    """A person who asked for a Vietnamese-speaking woman."""
    return waiting(department, officer, companion_language="vi", companion_gender="woman")


@pytest.fixture
def everyone(department, officer, walk_in):
    """One volunteer left out by each rule, in the rules' order, plus near fits."""
    people = {
        "Paused": named(department, "Paused", languages=["vi"], gender="woman", is_active=False),
        "Lapsed": named(
            department, "Lapsed", languages=["vi"], gender="woman", background_check_on=date(2001, 1, 1)
        ),
        "Offcall": named(department, "Offcall", languages=["vi"], gender="woman", on_shift=False),
        "Quiet": named(
            department,
            "Quiet",
            languages=["vi"],
            gender="woman",
            on_shift=False,
            call_any_time=True,
            quiet_hours_start=time(0, 0),
            quiet_hours_end=time(23, 59),
        ),
        "Busy": named(department, "Busy", languages=["vi"], gender="woman"),
        "Ann": named(department, "Ann", languages=["en"], gender="woman"),
        "Tom": named(department, "Tom", languages=["vi"], gender="man"),
        "Bob": named(department, "Bob", languages=["en"], gender="man"),  # two rules: no near fit
        "Dee": named(department, "Dee", languages=["vi"], gender="woman"),
    }
    elsewhere = waiting(department, officer)
    offer_accept(
        offer_id=OfferFactory(intake=elsewhere, volunteer=people["Busy"]).pk, volunteer=people["Busy"]
    )
    OfferFactory(
        intake=walk_in, volunteer=people["Dee"], status=Offer.Status.DECLINED, responded_at=timezone.now()
    )
    return people


def test_each_volunteer_is_counted_under_the_first_rule_that_left_them_out(walk_in, everyone):
    explanation = paging_explanation(intake=walk_in)

    assert [rule.key for rule in RULES] == [
        "vetted",
        "reachable",
        "on_call",
        "free",
        "language",
        "gender",
        "not_asked",
    ]
    assert {rule.key: n for rule, n in explanation.removed} == {
        "vetted": 2,
        "reachable": 0,
        "on_call": 2,
        "free": 1,
        "language": 2,
        "gender": 1,
        "not_asked": 1,
    }
    assert (explanation.total, explanation.eligible) == (9, 0)
    assert explanation.on_call == 7  # "Paused" and "Lapsed" are on shift, yet not vetted
    assert [(n.first_name, n.rule.key) for n in explanation.near_fits] == [
        ("Ann", "language"),
        ("Offcall", "on_call"),
        ("Quiet", "on_call"),
        ("Tom", "gender"),
    ]


def test_a_volunteer_with_no_verified_phone_or_e_mail_is_named_as_such(department, walk_in):
    """A page goes only to a verified contact: a fitting volunteer without one is not paged, and
    the explanation says why (and offers no "Page anyway": nothing would reach them)."""
    volunteer = named(department, "Una", languages=["vi"], gender="woman")
    volunteer.phone_verified_at = None
    volunteer.save()
    volunteer.user.email_verified_at = None
    volunteer.user.save()

    explanation = paging_explanation(intake=walk_in)

    assert {rule.key: n for rule, n in explanation.removed}["reachable"] == 1
    assert "1 no verified phone or e-mail" in explanation.text
    assert explanation.near_fits == []


def test_the_explanation_reads_plainly(walk_in, everyone):
    text = paging_explanation(intake=walk_in).text

    assert text == (
        "Nobody else can be paged: 0 of 7 on-call volunteers fit (of 9 in the department: "
        "2 not vetted or paused, 2 not on call now, 1 busy with another person, "
        "2 do not speak Vietnamese, 1 not a woman, as the person asked, 1 already asked for this "
        "walk-in); 1 (Ann) fits but does not speak Vietnamese; 2 (Offcall, Quiet) fit but are not "
        "on call now; 1 (Tom) speaks Vietnamese but the person asked for a woman."
    )


def test_the_explanation_costs_the_same_queries_for_three_or_thirty_volunteers(department, walk_in):
    for n in range(3):
        named(department, f"V{n}", languages=["en"])
    with CaptureQueriesContext(connection) as few:
        assert paging_explanation(intake=walk_in).total == 3
    for n in range(27):
        named(department, f"W{n}", languages=["vi"], gender="man")
    with CaptureQueriesContext(connection) as many:
        explanation = paging_explanation(intake=walk_in)
    assert explanation.total == 30
    assert len(many) == len(few) == 1


def test_the_coordinator_sees_the_near_fits_with_a_page_anyway_button(walk_in, everyone, coordinator_client):
    panel = coordinator_client.get(
        reverse("volunteers:paging_panel", kwargs={"intake_id": walk_in.pk})
    ).content.decode()

    for name in ("Ann", "Offcall", "Quiet", "Tom"):
        assert f"Page {name} anyway" in panel
    for name in ("Bob", "Busy", "Paused", "Lapsed", "Dee"):
        assert f"Page {name} anyway" not in panel
