"""Volunteers answer: decline, accept (first wins), arrive. Coordinators stop, resume, page by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse

from intake.models import Intake, IntakeEvent
from intake.services import intake_transition
from notifications.models import Notification
from volunteers.models import Offer
from volunteers.paging.services import (
    ARRIVAL_GRACE,
    OfferUnavailable,
    arrival_checks,
    companion_mark_arrived,
    offer_accept,
    offer_decline,
    offer_page_by_hand,
    paging_advance,
    paging_resume,
    paging_stop,
    walk_in_close,
)
from volunteers.paging.tokens import offer_token

from ..conftest import client_for
from ..factories import IntakeFactory, OfferFactory
from .conftest import minutes, volunteer_on_call, waiting

pytestmark = pytest.mark.django_db

Status = Intake.Status
FILLED = "has been filled"
NO_LONGER_NEEDED = "is no longer needed"
ALREADY_ON_THE_WAY = "Someone else is already on the way."


@pytest.fixture
def volunteers(department):
    """Four on shift: the first wave pages three, the fourth is next in line."""
    return [volunteer_on_call(department) for _ in range(4)]


@pytest.fixture
def walk_in(department, officer):
    return waiting(department, officer)


@pytest.fixture
def first_wave(walk_in, volunteers, worker, sms_outbox) -> list[Offer]:
    with worker():
        offers = paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 0))
    assert [o.volunteer for o in offers] == volunteers[:3]
    sms_outbox.clear()
    return offers


def texts_to(sms_outbox, volunteer_or_user) -> list[str]:
    return [sms.body for sms in sms_outbox if sms.to == str(volunteer_or_user.phone)]


def reload(offer: Offer) -> Offer:
    return Offer.objects.get(pk=offer.pk)


# --- decline ------------------------------------------------------------------------------------


def test_decline_pages_the_next_volunteer_at_once(walk_in, volunteers, first_wave, sms_outbox, worker):
    declined = first_wave[0]

    with worker():
        offer_decline(offer_id=declined.pk, volunteer=declined.volunteer, now=minutes(walk_in, 1))

    declined = reload(declined)
    assert (declined.status, declined.responded_at) == (Offer.Status.DECLINED, minutes(walk_in, 1))
    (replacement,) = Offer.objects.filter(intake=walk_in, source=Offer.Source.DECLINE)
    assert (replacement.volunteer, replacement.wave, replacement.status) == (
        volunteers[3],
        1,
        Offer.Status.PENDING,
    )
    assert [sms.to for sms in sms_outbox] == [str(volunteers[3].phone)]
    assert "someone needs a companion at Gloucester Police Department" in sms_outbox[0].body


def test_a_decline_pages_nobody_when_nobody_is_left(walk_in, volunteers, first_wave, sms_outbox, worker):
    with worker():
        offer_decline(offer_id=first_wave[0].pk, volunteer=first_wave[0].volunteer, now=minutes(walk_in, 1))
    sms_outbox.clear()

    with worker():
        offer_decline(offer_id=first_wave[1].pk, volunteer=first_wave[1].volunteer, now=minutes(walk_in, 2))

    assert reload(first_wave[1]).status == Offer.Status.DECLINED
    assert Offer.objects.filter(intake=walk_in).count() == 4
    assert sms_outbox == []


def test_declining_twice_pages_only_one_replacement(walk_in, volunteers, first_wave, sms_outbox, worker):
    offer = first_wave[0]
    with worker():
        offer_decline(offer_id=offer.pk, volunteer=offer.volunteer, now=minutes(walk_in, 1))
        again = offer_decline(offer_id=offer.pk, volunteer=offer.volunteer, now=minutes(walk_in, 2))

    assert again.status == Offer.Status.DECLINED
    assert again.responded_at == minutes(walk_in, 1)
    assert Offer.objects.filter(intake=walk_in, source=Offer.Source.DECLINE).count() == 1
    assert len(sms_outbox) == 1


# --- accept ---------------------------------------------------------------------------------------


def test_accept_assigns_the_companion_and_thanks_the_others(
    department, walk_in, volunteers, first_wave, sms_outbox, worker
):
    department.expected_arrival_minutes = 20
    department.save()
    winner, *others = first_wave

    with worker():
        accepted = offer_accept(offer_id=winner.pk, volunteer=winner.volunteer, now=minutes(walk_in, 2))

    assert accepted.status == Offer.Status.ACCEPTED
    assert accepted.responded_at == minutes(walk_in, 2)
    assert accepted.expected_arrival_at == minutes(walk_in, 22)
    assert accepted.arrival_check_at == minutes(walk_in, 22)
    walk_in.refresh_from_db()
    assert walk_in.status == Status.COMPANION_ASSIGNED
    assert walk_in.companion_needed_at is None
    (event,) = IntakeEvent.objects.filter(intake=walk_in, to_status=Status.COMPANION_ASSIGNED)
    assert (event.from_status, event.actor) == (Status.WAITING_FOR_COMPANION, winner.volunteer.user)
    for offer in others:
        offer = reload(offer)
        assert (offer.status, offer.responded_at) == (Offer.Status.WITHDRAWN, minutes(walk_in, 2))
        (thanks,) = texts_to(sms_outbox, offer.volunteer)
        assert FILLED in thanks
        assert "Gloucester Police Department" in thanks
    assert texts_to(sms_outbox, winner.volunteer) == []
    assert len(sms_outbox) == 2


def test_accepting_twice_is_harmless(walk_in, first_wave, sms_outbox, worker):
    offer = first_wave[0]
    with worker():
        offer_accept(offer_id=offer.pk, volunteer=offer.volunteer, now=minutes(walk_in, 2))
    texts, events = len(sms_outbox), IntakeEvent.objects.filter(intake=walk_in).count()

    with worker():
        again = offer_accept(offer_id=offer.pk, volunteer=offer.volunteer, now=minutes(walk_in, 3))

    assert (again.pk, again.status, again.responded_at) == (
        offer.pk,
        Offer.Status.ACCEPTED,
        minutes(walk_in, 2),
    )
    assert IntakeEvent.objects.filter(intake=walk_in).count() == events
    assert len(sms_outbox) == texts


def test_a_late_accept_is_refused_because_someone_else_is_on_the_way(walk_in, first_wave):
    first, late = first_wave[0], first_wave[1]
    offer_accept(offer_id=first.pk, volunteer=first.volunteer, now=minutes(walk_in, 2))

    with pytest.raises(OfferUnavailable) as refused:
        offer_accept(offer_id=late.pk, volunteer=late.volunteer, now=minutes(walk_in, 3))

    assert ALREADY_ON_THE_WAY in refused.value.reason
    assert reload(late).status == Offer.Status.WITHDRAWN
    assert list(Offer.objects.filter(intake=walk_in, status=Offer.Status.ACCEPTED)) == [first]


def test_a_late_accept_from_the_link_answers_409_with_already_on_the_way(walk_in, first_wave):
    first, late = first_wave[0], first_wave[1]
    offer_accept(offer_id=first.pk, volunteer=first.volunteer)

    response = client_for(late.volunteer.user).post(
        reverse("volunteers:offer", kwargs={"token": offer_token(late)}), {"answer": "accept"}
    )

    assert response.status_code == 409
    assert "already on the way" in response.content.decode()
    assert "Accept" not in response.content.decode()
    assert list(Offer.objects.filter(intake=walk_in, status=Offer.Status.ACCEPTED)) == [first]


def test_accept_after_the_walk_in_was_closed_is_refused(walk_in, officer, first_wave):
    walk_in_close(intake=walk_in, actor=officer, reason=Intake.CloseReason.LEFT_BEFORE_PLACEMENT)
    offer = first_wave[0]

    with pytest.raises(OfferUnavailable) as refused:
        offer_accept(offer_id=offer.pk, volunteer=offer.volunteer)

    assert "no longer needed" in refused.value.reason
    walk_in.refresh_from_db()
    assert walk_in.status == Status.CLOSED
    assert not Offer.objects.filter(intake=walk_in, status=Offer.Status.ACCEPTED).exists()
    assert not IntakeEvent.objects.filter(intake=walk_in, to_status=Status.COMPANION_ASSIGNED).exists()


def test_closing_a_walk_in_tells_everyone_paged_it_is_no_longer_needed(
    walk_in, officer, volunteers, first_wave, sms_outbox, worker
):
    offer_decline(offer_id=first_wave[0].pk, volunteer=first_wave[0].volunteer)  # pages the fourth
    sms_outbox.clear()

    with worker():
        walk_in_close(intake=walk_in, actor=officer, reason=Intake.CloseReason.DECLINED_TREATMENT)

    assert sorted(sms.to for sms in sms_outbox) == sorted(str(v.phone) for v in volunteers[1:4])
    assert all(NO_LONGER_NEEDED in sms.body for sms in sms_outbox)
    statuses = dict(Offer.objects.filter(intake=walk_in).values_list("volunteer", "status"))
    assert statuses == {
        volunteers[0].pk: Offer.Status.DECLINED,
        **{v.pk: Offer.Status.WITHDRAWN for v in volunteers[1:4]},
    }


# --- stop and resume ------------------------------------------------------------------------------


def test_stop_paging_withdraws_the_open_pages_and_pages_no_one_else(
    walk_in, coordinator_on_call, volunteers, first_wave, sms_outbox, worker
):
    with worker():
        withdrawn = paging_stop(intake=walk_in, actor=coordinator_on_call, now=minutes(walk_in, 1))

    assert withdrawn == 3
    assert sorted(sms.to for sms in sms_outbox) == sorted(str(v.phone) for v in volunteers[:3])
    assert all(NO_LONGER_NEEDED in sms.body for sms in sms_outbox)
    assert set(Offer.objects.filter(intake=walk_in).values_list("status", flat=True)) == {
        Offer.Status.WITHDRAWN
    }
    walk_in.refresh_from_db()
    assert walk_in.companion_needed_at is None
    assert walk_in.status == Status.WAITING_FOR_COMPANION
    sms_outbox.clear()

    with worker():
        for n in (5, 10, 20, 30):
            assert paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, n)) == []

    assert sms_outbox == []  # no wave, and no coordinator escalation either
    assert Offer.objects.filter(intake=walk_in).count() == 3


def test_resume_paging_sends_the_next_wave_now(department, officer, coordinator, sms_outbox, worker):
    start = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        volunteers = [volunteer_on_call(department) for _ in range(4)]
        walk_in = waiting(department, officer)
        with worker():
            paging_advance(intake_id=walk_in.pk)
        clock.shift(timedelta(minutes=1))
        paging_stop(intake=walk_in, actor=coordinator)
        sms_outbox.clear()

        clock.shift(timedelta(minutes=1))  # well before the next wave would be due
        with worker():
            paging_resume(intake=walk_in, actor=coordinator)

    (paged,) = Offer.objects.filter(intake=walk_in, status=Offer.Status.PENDING)
    assert (paged.volunteer, paged.wave, paged.created_at) == (volunteers[3], 2, start + timedelta(minutes=2))
    assert [sms.to for sms in sms_outbox] == [str(volunteers[3].phone)]
    walk_in.refresh_from_db()
    assert walk_in.companion_needed_at == start + timedelta(minutes=7)


def test_resume_paging_is_refused_once_a_companion_is_assigned(walk_in, coordinator, first_wave):
    offer_accept(offer_id=first_wave[0].pk, volunteer=first_wave[0].volunteer)

    with pytest.raises(OfferUnavailable):
        paging_resume(intake=walk_in, actor=coordinator)

    walk_in.refresh_from_db()
    assert walk_in.companion_needed_at is None


def test_with_paging_stopped_a_declined_page_by_hand_is_not_replaced(
    department, walk_in, coordinator, first_wave, sms_outbox, worker
):
    paging_stop(intake=walk_in, actor=coordinator)
    chosen = volunteer_on_call(department, on_shift=False)
    offer = offer_page_by_hand(intake=walk_in, volunteer=chosen, coordinator=coordinator)
    sms_outbox.clear()

    with worker():
        offer_decline(offer_id=offer.pk, volunteer=chosen)

    assert sms_outbox == []
    assert not Offer.objects.filter(intake=walk_in, source=Offer.Source.DECLINE).exists()


# --- paging by hand -------------------------------------------------------------------------------


def test_a_coordinator_can_page_a_vetted_volunteer_who_is_off_shift(
    department, walk_in, coordinator, first_wave, sms_outbox, worker
):
    off_shift = volunteer_on_call(department, on_shift=False)

    with worker():
        offer = offer_page_by_hand(intake=walk_in, volunteer=off_shift, coordinator=coordinator)

    assert (offer.volunteer, offer.source, offer.wave, offer.status) == (
        off_shift,
        Offer.Source.COORDINATOR,
        1,
        Offer.Status.PENDING,
    )
    assert "off shift" in offer.reasons
    (page,) = texts_to(sms_outbox, off_shift)
    assert "someone needs a companion" in page
    assert "/volunteers/offers/" in page


def _already_paged(department, first_wave):
    return first_wave[0].volunteer


def _busy(department, first_wave):
    volunteer = volunteer_on_call(department, on_shift=False)
    other = IntakeFactory(department=department, status=Status.COMPANION_ASSIGNED, companion_needed_at=None)
    OfferFactory(
        intake=other, volunteer=volunteer, status=Offer.Status.ACCEPTED, responded_at=other.arrived_at
    )
    return volunteer


def _unvetted(department, first_wave):
    return volunteer_on_call(department, on_shift=False, training_completed_on=None)


def _wrong_language(department, first_wave):
    return volunteer_on_call(department, on_shift=False, languages=["pt"])


@pytest.mark.parametrize("choose", [_already_paged, _busy, _unvetted, _wrong_language])
def test_paging_by_hand_refuses_a_volunteer_who_cannot_be_paged(
    department, walk_in, coordinator, first_wave, sms_outbox, worker, choose
):
    volunteer = choose(department, first_wave)
    offers_before = Offer.objects.filter(intake=walk_in).count()

    with worker(), pytest.raises(OfferUnavailable) as refused:
        offer_page_by_hand(intake=walk_in, volunteer=volunteer, coordinator=coordinator)

    assert "cannot be paged" in refused.value.reason
    assert Offer.objects.filter(intake=walk_in).count() == offers_before
    assert sms_outbox == []


def test_paging_by_hand_is_refused_once_a_companion_is_assigned(department, walk_in, coordinator, first_wave):
    offer_accept(offer_id=first_wave[0].pk, volunteer=first_wave[0].volunteer)

    with pytest.raises(OfferUnavailable):
        offer_page_by_hand(
            intake=walk_in, volunteer=volunteer_on_call(department, on_shift=False), coordinator=coordinator
        )


# --- arrival --------------------------------------------------------------------------------------


@pytest.fixture
def assignment(department, walk_in, first_wave) -> Offer:
    """The first volunteer accepted two minutes in; they are expected 20 minutes later."""
    department.expected_arrival_minutes = 20
    department.save()
    offer = first_wave[0]
    return offer_accept(offer_id=offer.pk, volunteer=offer.volunteer, now=minutes(walk_in, 2))


def test_marking_arrival_moves_the_walk_in_on(walk_in, assignment):
    arrived = companion_mark_arrived(
        offer_id=assignment.pk, volunteer=assignment.volunteer, now=minutes(walk_in, 15)
    )

    assert arrived.arrived_at == minutes(walk_in, 15)
    assert arrived.arrival_check_at is None
    walk_in.refresh_from_db()
    assert walk_in.status == Status.COMPANION_ARRIVED
    (event,) = IntakeEvent.objects.filter(intake=walk_in, to_status=Status.COMPANION_ARRIVED)
    assert (event.from_status, event.actor) == (Status.COMPANION_ASSIGNED, assignment.volunteer.user)


def test_marking_arrival_twice_records_it_once(walk_in, assignment):
    companion_mark_arrived(offer_id=assignment.pk, volunteer=assignment.volunteer, now=minutes(walk_in, 15))
    again = companion_mark_arrived(
        offer_id=assignment.pk, volunteer=assignment.volunteer, now=minutes(walk_in, 16)
    )

    assert again.arrived_at == minutes(walk_in, 15)
    assert IntakeEvent.objects.filter(intake=walk_in, to_status=Status.COMPANION_ARRIVED).count() == 1


def test_only_the_companion_who_accepted_can_mark_arrival(walk_in, assignment, first_wave):
    withdrawn = first_wave[1]

    with pytest.raises(OfferUnavailable):
        companion_mark_arrived(offer_id=withdrawn.pk, volunteer=withdrawn.volunteer)

    walk_in.refresh_from_db()
    assert walk_in.status == Status.COMPANION_ASSIGNED


def test_a_late_companion_is_reminded_then_the_coordinators_are_told_each_once(
    walk_in, assignment, coordinator_on_call, sms_outbox, worker
):
    companion = assignment.volunteer
    sms_outbox.clear()

    with worker():
        assert arrival_checks(now=minutes(walk_in, 21.9)) == 0
    assert sms_outbox == []

    with worker():
        assert arrival_checks(now=minutes(walk_in, 22)) == 1
        assert arrival_checks(now=minutes(walk_in, 23)) == 0
    (reminder,) = texts_to(sms_outbox, companion)
    assert "Are you on your way?" in reminder
    assert "/volunteers/offers/" in reminder
    assert texts_to(sms_outbox, coordinator_on_call) == []

    late = minutes(walk_in, 22) + ARRIVAL_GRACE
    with worker():
        assert arrival_checks(now=late - timedelta(seconds=1)) == 0
        assert arrival_checks(now=late) == 1
        assert arrival_checks(now=late + timedelta(hours=1)) == 0
    (alert,) = texts_to(sms_outbox, coordinator_on_call)
    assert "has not arrived yet at Gloucester Police Department (waiting 32 min)" in alert
    assert len(texts_to(sms_outbox, companion)) == 1
    offer = reload(assignment)
    assert (offer.arrival_reminded_at, offer.arrival_escalated_at, offer.arrival_check_at) == (
        minutes(walk_in, 22),
        late,
        None,
    )


def test_nothing_is_sent_when_the_companion_arrives_in_time(
    walk_in, assignment, coordinator_on_call, sms_outbox, worker
):
    companion_mark_arrived(offer_id=assignment.pk, volunteer=assignment.volunteer, now=minutes(walk_in, 20))
    sms_outbox.clear()

    with worker():
        for n in (22, 40, 120):
            assert arrival_checks(now=minutes(walk_in, n)) == 0

    assert sms_outbox == []
    assert not Notification.objects.filter(
        kind__in=[Notification.Kind.ARRIVAL_REMINDER, Notification.Kind.COMPANION_LATE]
    ).exists()


def test_closing_the_walk_in_tells_the_companion_on_the_way_and_stops_the_reminder(
    walk_in, officer, assignment, sms_outbox, worker
):
    sms_outbox.clear()

    with worker():
        walk_in_close(intake=walk_in, actor=officer, reason=Intake.CloseReason.LEFT_BEFORE_PLACEMENT)
    (cancelled,) = texts_to(sms_outbox, assignment.volunteer)
    assert NO_LONGER_NEEDED in cancelled

    with worker():
        for n in (22, 40):
            assert arrival_checks(now=minutes(walk_in, n)) == 0

    assert len(sms_outbox) == 1
    assert reload(assignment).status == Offer.Status.ACCEPTED  # the record of who came


def test_no_reminder_once_the_desk_recorded_the_arrival_instead(
    walk_in, coordinator, assignment, sms_outbox, worker
):
    intake_transition(intake=walk_in, to_status=Status.COMPANION_ARRIVED, actor=coordinator)
    sms_outbox.clear()

    with worker():
        assert arrival_checks(now=minutes(walk_in, 22)) == 1  # the timer is cleared, nothing sent
        assert arrival_checks(now=minutes(walk_in, 40)) == 0

    assert sms_outbox == []
    assert reload(assignment).arrival_check_at is None


# --- quiet hours ----------------------------------------------------------------------------------


def test_a_filled_notice_in_quiet_hours_goes_by_email_not_by_text(
    department, officer, mailoutbox, worker, sms_outbox
):
    night = datetime.combine(date(2026, 3, 4), time(23, 30), tzinfo=department.tzinfo)
    with time_machine.travel(night, tick=False):
        sleeper = volunteer_on_call(department, quiet_hours_start=time(22), quiet_hours_end=time(7))
        winner = volunteer_on_call(department)
        walk_in = waiting(department, officer)
        with worker():
            paging_advance(intake_id=walk_in.pk)
        assert len(texts_to(sms_outbox, sleeper)) == 1  # on shift: the page itself is urgent
        sms_outbox.clear()

        with worker():
            offer_accept(offer_id=Offer.objects.get(volunteer=winner).pk, volunteer=winner)

    assert sms_outbox == []
    (email,) = mailoutbox
    assert email.to == [sleeper.user.email]
    assert FILLED in email.body
