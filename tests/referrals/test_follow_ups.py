"""Follow-ups after admission: the daily reminder to the responsible coordinator (with the clock
moved), the list of what is due, and recording how the person is doing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role
from config.celery import app
from intake.models import Intake
from notifications.models import Notification
from referrals.models import FollowUp
from referrals.placement.services import follow_up_record, follow_up_reminders
from referrals.placement.tasks import remind_follow_ups

from ..conftest import client_for
from ..factories import DepartmentFactory, IntakeFactory, user_with_role
from .placement_helpers import admitted, local_input

BOSTON = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
# Admitted on Tuesday 14 April 2026 in Massachusetts: the +1 day follow-up is due on the 15th.
ADMITTED_AT = datetime(2026, 4, 14, 14, 0, tzinfo=BOSTON)


def noon_utc(day: int, month: int = 4) -> datetime:
    """When the beat task runs: 12:00 UTC, 08:00 in Massachusetts."""
    return datetime(2026, month, day, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(ADMITTED_AT + timedelta(minutes=30), tick=False)
    return time_machine


@pytest.fixture
def coordinator(department):
    return user_with_role(Role.COORDINATOR, department, username="coordinator", phone="+19785550190")


def _admitted_walk_in(department, officer, coordinator, first_name="Wren", last_name="Okafor") -> Intake:
    intake = IntakeFactory(
        department=department,
        logged_by=officer,
        arrived_at=ADMITTED_AT - timedelta(hours=3),
        status=Intake.Status.SEARCHING_PLACEMENT,
        companion_needed_at=None,
        person__first_name=first_name,
        person__last_name=last_name,
    )
    admitted(intake, coordinator, at=ADMITTED_AT)
    return intake


@pytest.fixture
def walk_in(clock, department, officer, coordinator):
    return _admitted_walk_in(department, officer, coordinator)


def _messages(**filters):
    return list(Notification.objects.filter(kind=Notification.Kind.FOLLOW_UPS_DUE, **filters).order_by("pk"))


# --- the daily reminder -----------------------------------------------------------------------


def test_nothing_is_sent_before_a_follow_up_is_due(walk_in):
    assert follow_up_reminders(now=noon_utc(14)) == 0
    assert follow_up_reminders(now=datetime(2026, 4, 15, 3, 59, tzinfo=UTC)) == 0  # 23:59 on the 14th locally
    assert not _messages()


def test_the_responsible_coordinator_is_reminded_once_on_the_due_day(walk_in, coordinator, department):
    assert follow_up_reminders(now=noon_utc(15)) == 2

    sms, email = sorted(_messages(), key=lambda n: n.channel)[::-1]
    assert (sms.channel, sms.to, sms.recipient) == ("sms", "+19785550190", coordinator)
    assert (email.channel, email.to) == ("email", coordinator.email)
    assert sms.body.startswith(
        "Harbor: 1 follow-up is due at Gloucester Police Department. Open Harbor to record it:"
    )
    assert sms.body.endswith("/referrals/follow-ups/")
    assert email.subject == "Follow-ups due at Gloucester Police Department"
    assert sms.intake is None
    assert FollowUp.objects.get(intake=walk_in, days_after_admission=1).last_reminded_on == date(2026, 4, 15)


def test_running_twice_the_same_day_sends_nothing_more(walk_in):
    follow_up_reminders(now=noon_utc(15))

    assert follow_up_reminders(now=noon_utc(15) + timedelta(hours=6)) == 0
    assert len(_messages()) == 2


def test_a_second_host_that_missed_the_marks_is_stopped_by_the_idempotency_key(walk_in):
    follow_up_reminders(now=noon_utc(15))
    FollowUp.objects.update(last_reminded_on=None)

    assert follow_up_reminders(now=noon_utc(15) + timedelta(minutes=1)) == 0
    assert len(_messages()) == 2


def test_an_open_follow_up_is_reminded_again_the_next_day(walk_in):
    follow_up_reminders(now=noon_utc(15))

    assert follow_up_reminders(now=noon_utc(16)) == 2
    assert "1 follow-up is due" in _messages(channel="sms")[-1].body
    assert FollowUp.objects.get(intake=walk_in, days_after_admission=1).last_reminded_on == date(2026, 4, 16)


def test_no_reminder_once_the_outcome_is_recorded(walk_in, coordinator, clock):
    follow_up_reminders(now=noon_utc(15))
    clock.move_to(noon_utc(15) + timedelta(hours=2), tick=False)
    follow_up_record(
        follow_up=FollowUp.objects.get(intake=walk_in, days_after_admission=1),
        actor=coordinator,
        outcome=FollowUp.Outcome.IN_TREATMENT,
    )

    assert follow_up_reminders(now=noon_utc(16)) == 0
    assert len(_messages()) == 2


def test_one_message_counts_every_due_follow_up(clock, walk_in, department, officer, coordinator):
    _admitted_walk_in(department, officer, coordinator, "Ada", "Quill")
    _admitted_walk_in(department, officer, coordinator, "Bo", "Marsh")

    # A week later the +1 follow-ups are overdue and the +7 ones are due: six in all.
    assert follow_up_reminders(now=noon_utc(21)) == 2

    sms = _messages(channel="sms")[0]
    assert sms.body.startswith(
        "Harbor: 6 follow-ups are due at Gloucester Police Department. Open Harbor to record them:"
    )
    assert (
        "6 follow-ups are due or overdue at Gloucester Police Department."
        in _messages(channel="email")[0].body
    )


def test_no_message_names_the_person_or_the_treatment(walk_in):
    follow_up_reminders(now=noon_utc(15))

    for message in _messages():
        text = f"{message.subject} {message.body}".lower()
        for word in ("wren", "okafor", "recovery center", "3.7", "withdrawal", "treatment"):
            assert word not in text, word


def test_only_the_responsible_coordinator_is_reminded(walk_in, department):
    colleague = user_with_role(Role.COORDINATOR, department, username="colleague", phone="+19785550191")

    follow_up_reminders(now=noon_utc(15))

    assert not _messages(recipient=colleague)


def test_when_the_responsible_coordinator_leaves_every_coordinator_is_reminded(
    walk_in, department, coordinator
):
    colleague = user_with_role(Role.COORDINATOR, department, username="colleague")
    Membership.objects.filter(user=coordinator, role=Role.COORDINATOR).delete()

    follow_up_reminders(now=noon_utc(15))

    assert [m.recipient for m in _messages()] == [colleague]
    assert not _messages(recipient=coordinator)


def test_a_coordinator_of_two_departments_gets_one_message(clock, walk_in, officer, coordinator):
    rockport = DepartmentFactory(name="Rockport Police Department")
    Membership.objects.create(user=coordinator, department=rockport, role=Role.COORDINATOR)
    _admitted_walk_in(
        rockport, user_with_role(Role.DESK_OFFICER, rockport, username="rockport-desk"), coordinator
    )

    assert follow_up_reminders(now=noon_utc(15)) == 2
    assert "2 follow-ups are due at Gloucester Police Department and Rockport Police Department." in (
        _messages(channel="sms")[0].body
    )


def test_follow_ups_with_nobody_to_remind_wait_for_a_coordinator(walk_in, department, coordinator):
    Membership.objects.filter(user=coordinator, role=Role.COORDINATOR).delete()

    assert follow_up_reminders(now=noon_utc(15)) == 0
    assert FollowUp.objects.get(intake=walk_in, days_after_admission=1).last_reminded_on is None

    newcomer = user_with_role(Role.COORDINATOR, department, username="newcomer")
    follow_up_reminders(now=noon_utc(15) + timedelta(hours=1))
    assert [m.recipient for m in _messages()] == [newcomer]


def test_the_daily_task_reminds_with_the_clock_moved(walk_in, clock):
    clock.move_to(noon_utc(14), tick=False)
    remind_follow_ups()
    assert not _messages()

    clock.move_to(noon_utc(15), tick=False)
    remind_follow_ups()
    remind_follow_ups()
    assert len(_messages()) == 2


def test_the_task_runs_daily_from_beat():
    entry = app.conf.beat_schedule["remind-follow-ups"]

    assert entry["task"] == "referrals.placement.tasks.remind_follow_ups"
    assert entry["task"] in app.tasks
    assert entry["schedule"].hour == {12}
    assert entry["schedule"].minute == {0}


# --- recording outcomes -----------------------------------------------------------------------


def _record_url(follow_up: FollowUp) -> str:
    return reverse("referrals:follow_up_record", kwargs={"follow_up_id": follow_up.pk})


def test_a_coordinator_records_the_outcome(walk_in, coordinator, clock):
    clock.move_to(noon_utc(15), tick=False)
    follow_up = FollowUp.objects.get(intake=walk_in, days_after_admission=1)
    client = client_for(coordinator)

    page = client.get(_record_url(follow_up))
    assert page.status_code == 200
    assert "Follow-up +1 days: Wren O." in page.text
    response = client.post(
        _record_url(follow_up),
        {
            "outcome": "in_treatment",
            "completed_at": local_input(timezone.now(), walk_in.department),
            "note": "Doing OK",
        },
    )

    assert response["Location"] == reverse("referrals:follow_ups")
    follow_up.refresh_from_db()
    assert (follow_up.outcome, follow_up.note, follow_up.completed_by) == (
        "in_treatment",
        "Doing OK",
        coordinator,
    )
    assert follow_up.completed_at is not None
    again = client.post(_record_url(follow_up), {"outcome": "relapsed", "completed_at": "", "note": ""})
    assert again.status_code == 200
    follow_up.refresh_from_db()
    assert follow_up.outcome == "in_treatment"


def test_a_follow_up_is_recorded_once(walk_in, coordinator):
    from django.core.exceptions import ValidationError

    follow_up = FollowUp.objects.get(intake=walk_in, days_after_admission=1)
    follow_up_record(follow_up=follow_up, actor=coordinator, outcome=FollowUp.Outcome.LOST_CONTACT)

    with pytest.raises(ValidationError, match="already recorded"):
        follow_up_record(follow_up=follow_up, actor=coordinator, outcome=FollowUp.Outcome.IN_TREATMENT)


def test_after_a_death_no_later_follow_up_is_left_open(walk_in, coordinator, clock):
    clock.move_to(noon_utc(22), tick=False)
    week = FollowUp.objects.get(intake=walk_in, days_after_admission=7)

    follow_up_record(follow_up=week, actor=coordinator, outcome=FollowUp.Outcome.DECEASED)

    later = FollowUp.objects.filter(intake=walk_in, days_after_admission__gt=7)
    assert set(later.values_list("outcome", flat=True)) == {"deceased"}
    assert FollowUp.objects.get(intake=walk_in, days_after_admission=1).completed_at is None
    assert follow_up_reminders(now=noon_utc(23)) == 2  # the +1 only, still open


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"outcome": "cured"}, "Select a valid choice"),
        ({"outcome": ""}, "This field is required."),
        ({"completed_at": "2026-13-01T10:00"}, "Enter a valid date/time."),
        ({"completed_at": "2030-01-01T10:00"}, "The follow-up cannot be in the future."),
        ({"completed_at": "2026-04-01T10:00"}, "The follow-up cannot be before the admission."),
        ({"note": "x" * 501}, "at most 500 characters"),
        ({"note": "a\u202eb"}, "invisible control characters"),
    ],
)
def test_hostile_input_on_the_follow_up_form_is_a_clear_error(walk_in, coordinator, clock, data, message):
    clock.move_to(noon_utc(15), tick=False)
    follow_up = FollowUp.objects.get(intake=walk_in, days_after_admission=1)
    form = {"outcome": "in_treatment", "completed_at": "2026-04-15T08:00", "note": "", **data}

    response = client_for(coordinator).post(_record_url(follow_up), form)

    assert response.status_code == 200
    assert message in response.text
    follow_up.refresh_from_db()
    assert follow_up.completed_at is None


def test_another_departments_coordinator_cannot_open_a_follow_up(walk_in, other_coordinator, volunteer_user):
    follow_up = FollowUp.objects.filter(intake=walk_in).first()

    assert client_for(other_coordinator).get(_record_url(follow_up)).status_code == 404
    assert client_for(volunteer_user).get(_record_url(follow_up)).status_code == 403


# --- the list ---------------------------------------------------------------------------------


def test_the_list_shows_due_and_overdue_follow_ups_of_the_coordinators_departments(
    clock, walk_in, coordinator, other_department
):
    other_officer = user_with_role(Role.DESK_OFFICER, other_department, username="rockport-desk")
    other_coordinator = user_with_role(Role.COORDINATOR, other_department, username="rockport-coordinator")
    _admitted_walk_in(other_department, other_officer, other_coordinator, "Hidden", "Elsewhere")
    clock.move_to(noon_utc(22), tick=False)
    client = client_for(coordinator)

    due = client.get(reverse("referrals:follow_ups"))

    assert due.status_code == 200
    assert due.text.count("Wren O.") == 2  # +1 (overdue) and +7 (due today)
    assert "overdue" in due.text
    assert "+30 days" not in due.text
    assert "Hidden" not in due.text
    upcoming = client.get(reverse("referrals:follow_ups") + "?show=upcoming")
    assert "+30 days" not in upcoming.text  # 30 days out is beyond the next two weeks
    assert client.get(reverse("referrals:follow_ups") + "?show=<script>").status_code == 200


def test_overdue_is_judged_on_the_departments_own_date(time_machine, db):
    """At 10 p.m. in Los Angeles it is already tomorrow on the server's (Eastern) clock: a
    follow-up due today in Los Angeles is due, not overdue."""
    from referrals.models import FollowUp as FollowUpModel

    pacific = DepartmentFactory(name="Santa Monica Police Department", time_zone="America/Los_Angeles")
    coordinator = user_with_role(Role.COORDINATOR, pacific, username="santa-monica-coordinator")
    time_machine.move_to(
        datetime(2026, 4, 10, 5, 0, tzinfo=ZoneInfo("UTC")), tick=False
    )  # 10 p.m. Apr 9 in LA
    intake = IntakeFactory(department=pacific)
    FollowUpModel.objects.create(
        department=pacific, intake=intake, days_after_admission=7, due_on=date(2026, 4, 9)
    )

    page = client_for(coordinator).get(reverse("referrals:follow_ups")).text

    assert "Apr 9, 2026" in page
    assert 'badge text-bg-warning">overdue' not in page
