"""Paging in waves on database timers, escalation to coordinators, and the sweep."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
import time_machine
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from accounts.models import Role
from intake.models import Intake
from notifications.models import Notification
from volunteers.models import OFFER_OPEN_FOR, Offer
from volunteers.paging.services import offer_accept, offers_expire, paging_advance, walk_in_close, walk_in_log
from volunteers.paging.tasks import sweep_paging

from ..factories import IntakeFactory, OfferFactory, user_with_role
from .conftest import minutes, run_at_once, volunteer_on_call, waiting

pytestmark = pytest.mark.django_db

NOBODY_ACCEPTED = "nobody has accepted yet"
T0 = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # 10:00 in Gloucester


@pytest.fixture
def volunteers(department):
    """Nine volunteers on shift, enough for three waves; they rank in the order created."""
    return [volunteer_on_call(department) for _ in range(9)]


@pytest.fixture
def walk_in(department, officer):
    return waiting(department, officer)


def texts_to(sms_outbox, phone) -> list[str]:
    return [sms.body for sms in sms_outbox if sms.to == str(phone)]


def paged_in_wave(intake, wave: int) -> set:
    return set(Offer.objects.filter(intake=intake, wave=wave).values_list("volunteer", flat=True))


def coordinator_pages(coordinator, sms_outbox) -> list[str]:
    return [body for body in texts_to(sms_outbox, coordinator.phone) if NOBODY_ACCEPTED in body]


# --- waves ----------------------------------------------------------------------------------------


def test_logging_a_walk_in_pages_the_first_wave_at_once(department, officer, volunteers, sms_outbox, worker):
    with worker():
        intake = walk_in_log(
            department=department,
            officer=officer,
            person_data={"first_name": "Wren", "approximate_age": 34},
            intake_data={"warrant_check": "none"},
        )

    offers = Offer.objects.filter(intake=intake)
    assert [(o.wave, o.source, o.status) for o in offers] == [
        (1, Offer.Source.WAVE, Offer.Status.PENDING)
    ] * 3
    assert {o.volunteer for o in offers} == set(volunteers[:3])
    assert sorted(sms.to for sms in sms_outbox) == sorted(str(v.phone) for v in volunteers[:3])
    for sms in sms_outbox:
        assert sms.body.startswith(
            "Harbor: someone needs a companion at Gloucester Police Department, 197 Main"
        )
        assert "/volunteers/offers/" in sms.body
        assert "Wren" not in sms.body
    intake.refresh_from_db()
    assert intake.companion_needed_at == offers[0].created_at + timedelta(minutes=department.wave_minutes)


def test_no_second_wave_before_it_is_due(walk_in, volunteers, sms_outbox, worker):
    with worker():
        paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 0))
        assert paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 4.99)) == []

    assert Offer.objects.filter(intake=walk_in).count() == 3
    assert len(sms_outbox) == 3


def test_after_wave_minutes_the_next_three_are_paged(walk_in, volunteers, sms_outbox, worker):
    with worker():
        paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 0))
        second = paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 5))

    assert {o.volunteer for o in second} == set(volunteers[3:6])
    assert paged_in_wave(walk_in, 2) == {v.pk for v in volunteers[3:6]}
    assert paged_in_wave(walk_in, 1) == {v.pk for v in volunteers[:3]}
    assert len(sms_outbox) == 6
    assert {sms.to for sms in sms_outbox[3:]} == {str(v.phone) for v in volunteers[3:6]}
    # The first wave's pages stay open alongside the second's.
    assert Offer.objects.filter(intake=walk_in, status=Offer.Status.PENDING).count() == 6


def test_a_department_can_page_two_at_a_time_every_minute(
    department, walk_in, volunteers, sms_outbox, worker
):
    department.wave_size, department.wave_minutes = 2, 1
    department.save()

    with worker():
        first = paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 0))
        early = paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 0.99))
        second = paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 1))

    assert [o.volunteer for o in first] == volunteers[:2]
    assert early == []
    assert [o.volunteer for o in second] == volunteers[2:4]
    assert len(sms_outbox) == 4
    walk_in.refresh_from_db()
    assert walk_in.companion_needed_at == minutes(walk_in, 2)


# --- escalation -----------------------------------------------------------------------------------


def test_coordinators_are_paged_after_two_unanswered_waves(
    department, walk_in, volunteers, coordinator_on_call, sms_outbox, mailoutbox, worker
):
    department.escalate_after_minutes = 60  # only the wave count can escalate here
    department.save()

    with worker():
        paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 0))
        paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 5))
    assert len(sms_outbox) == 6
    assert coordinator_pages(coordinator_on_call, sms_outbox) == []
    with worker():
        paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 10))

    assert coordinator_pages(coordinator_on_call, sms_outbox) == [
        "Harbor: nobody has accepted yet at Gloucester Police Department (waiting 10 min). "
        "Please find a companion."
    ]
    assert [m.to for m in mailoutbox] == [[coordinator_on_call.email]]
    walk_in.refresh_from_db()
    assert walk_in.paging_escalated_at == minutes(walk_in, 10)
    # Waves go on after the coordinators were told.
    assert paged_in_wave(walk_in, 3) == {v.pk for v in volunteers[6:9]}


def test_coordinators_are_paged_after_escalate_minutes_even_with_fewer_waves(
    department, walk_in, volunteers, coordinator_on_call, sms_outbox, worker
):
    department.wave_minutes, department.escalate_after_minutes, department.escalate_after_waves = 10, 7, 5
    department.save()

    with worker():
        paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 0))
    walk_in.refresh_from_db()
    assert walk_in.companion_needed_at == minutes(walk_in, 7)
    with worker():
        assert paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 6.99)) == []
    assert coordinator_pages(coordinator_on_call, sms_outbox) == []

    with worker():
        escalation = paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 7))

    assert escalation == []  # no wave is due yet: only the coordinators are paged
    assert len(coordinator_pages(coordinator_on_call, sms_outbox)) == 1
    walk_in.refresh_from_db()
    assert walk_in.companion_needed_at == minutes(walk_in, 10)  # the waves keep their cadence
    with worker():
        second = paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 10))

    assert {o.volunteer for o in second} == set(volunteers[3:6])
    assert len(coordinator_pages(coordinator_on_call, sms_outbox)) == 1


def test_coordinators_are_paged_at_once_when_nobody_can_be_paged(
    walk_in, coordinator_on_call, sms_outbox, mailoutbox, worker
):
    """Nobody was asked, so the message says nobody fits (not "nobody has accepted yet")."""
    with worker():
        assert paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 0)) == []

    assert texts_to(sms_outbox, coordinator_on_call.phone) == [
        "Harbor: nobody can be paged at Gloucester Police Department: no on-call volunteer fits "
        "what the person asked for (waiting 0 min). Please find a companion now."
    ]
    assert coordinator_pages(coordinator_on_call, sms_outbox) == []
    assert [m.subject for m in mailoutbox] == ["No volunteer fits at Gloucester Police Department"]


def test_coordinators_are_not_paged_twice_for_the_same_escalation(
    department, walk_in, volunteers, coordinator_on_call, sms_outbox, worker
):
    with worker():
        for n in (0, 5, 10):  # escalated at 10, after two unanswered waves
            paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, n))
        for n in (10, 11, 15, 20, 24.9):
            paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, n))
        # Even if the escalation mark were lost, the idempotency key stops a second page.
        Intake.objects.filter(pk=walk_in.pk).update(
            paging_escalated_at=None, companion_needed_at=minutes(walk_in, 10)
        )
        paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 10))

    assert len(coordinator_pages(coordinator_on_call, sms_outbox)) == 1
    escalations = Notification.objects.filter(intake=walk_in, kind=Notification.Kind.NOBODY_ACCEPTED)
    assert sorted(escalations.values_list("channel", flat=True)) == [
        Notification.Channel.EMAIL,
        Notification.Channel.SMS,
    ]


def test_coordinators_are_paged_again_every_escalate_minutes_while_the_person_waits(
    department, walk_in, volunteers, coordinator_on_call, sms_outbox, worker
):
    with worker():
        for n in (0, 5, 10, 15, 20, 24.9, 25, 30, 35):
            paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, n))

    pages = coordinator_pages(coordinator_on_call, sms_outbox)
    assert len(pages) == 2
    assert "(waiting 10 min)" in pages[0]
    assert "(waiting 25 min)" in pages[1]


def test_only_the_coordinators_of_the_walk_in_department_are_paged(
    walk_in, department, other_coordinator, coordinator_on_call, sms_outbox, worker
):
    other_coordinator.phone = "+19785559001"
    other_coordinator.phone_verified_at = timezone.now()  # texted only once verified
    other_coordinator.save()
    desk = user_with_role(Role.DESK_OFFICER, department, username="desk", phone="+19785559002")
    retired = user_with_role(
        Role.COORDINATOR, department, username="retired", phone="+19785559003", is_active=False
    )

    with worker():
        paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 0))

    assert len(texts_to(sms_outbox, coordinator_on_call.phone)) == 1
    for user in (other_coordinator, desk, retired):
        assert texts_to(sms_outbox, user.phone) == []
    assert not Notification.objects.filter(recipient__in=[other_coordinator, desk, retired]).exists()


# --- when paging stops ------------------------------------------------------------------------------


def _accept_first_offer(intake):
    offer = Offer.objects.filter(intake=intake).first()
    offer_accept(offer_id=offer.pk, volunteer=offer.volunteer, now=minutes(intake, 1))


def _close(intake):
    walk_in_close(intake=intake, actor=intake.logged_by, reason=Intake.CloseReason.LEFT_BEFORE_PLACEMENT)


def _move_status_but_leave_the_timer(intake):
    Intake.objects.filter(pk=intake.pk).update(status=Intake.Status.COMPANION_ARRIVED)


@pytest.mark.parametrize("end_waiting", [_accept_first_offer, _close, _move_status_but_leave_the_timer])
def test_paging_stops_once_the_person_is_no_longer_waiting(
    walk_in, volunteers, coordinator_on_call, sms_outbox, worker, end_waiting
):
    with worker():
        paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 0))
    end_waiting(walk_in)
    sms_outbox.clear()
    offers_before = Offer.objects.filter(intake=walk_in).count()

    with worker():
        for n in (5, 10, 15, 20):
            assert paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, n)) == []

    assert Offer.objects.filter(intake=walk_in).count() == offers_before
    assert sms_outbox == []
    walk_in.refresh_from_db()
    assert walk_in.companion_needed_at is None
    assert walk_in.paging_escalated_at is None


# --- the sweep ------------------------------------------------------------------------------------


def test_the_sweep_pages_every_walk_in_that_is_due_and_only_those(department, officer, sms_outbox, worker):
    with time_machine.travel(T0, tick=False) as clock:
        volunteers = [volunteer_on_call(department) for _ in range(6)]
        due = waiting(department, officer)
        later = IntakeFactory(
            department=department, logged_by=officer, companion_needed_at=T0 + timedelta(minutes=3)
        )
        stopped = IntakeFactory(department=department, logged_by=officer, companion_needed_at=None)

        with worker():
            sweep_paging()
        assert paged_in_wave(due, 1) == {v.pk for v in volunteers[:3]}
        assert not Offer.objects.filter(intake__in=[later, stopped]).exists()
        assert len(sms_outbox) == 3

        clock.shift(timedelta(minutes=3))
        with worker():
            sweep_paging()
        assert paged_in_wave(later, 1) == {v.pk for v in volunteers[:3]}  # busy only once accepted
        assert Offer.objects.filter(intake=due).count() == 3

        clock.shift(timedelta(minutes=2))
        with worker():
            sweep_paging()
        assert paged_in_wave(due, 2) == {v.pk for v in volunteers[3:6]}
        assert not Offer.objects.filter(intake=stopped).exists()
        assert len(sms_outbox) == 9


def test_the_sweep_expires_old_offers(department, walk_in, volunteers):
    first_wave = paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 0))

    with time_machine.travel(walk_in.arrived_at + OFFER_OPEN_FOR, tick=False):
        sweep_paging()

    assert len(first_wave) == 3
    for offer in first_wave:
        offer.refresh_from_db()
        assert offer.status == Offer.Status.EXPIRED
    # The sweep paged a fresh wave in the same pass; those pages are open.
    assert paged_in_wave(walk_in, 2) == {v.pk for v in volunteers[3:6]}
    assert not Offer.objects.filter(intake=walk_in, wave=2).exclude(status=Offer.Status.PENDING).exists()


def test_offers_expire_once_open_for_has_passed(department, walk_in, volunteers):
    now = walk_in.arrived_at
    old = OfferFactory(intake=walk_in, volunteer=volunteers[0], created_at=now - OFFER_OPEN_FOR)
    fresh = OfferFactory(intake=walk_in, volunteer=volunteers[1], created_at=now - timedelta(minutes=59))
    answered = OfferFactory(
        intake=walk_in,
        volunteer=volunteers[2],
        created_at=now - 2 * OFFER_OPEN_FOR,
        status=Offer.Status.DECLINED,
        responded_at=now - 2 * OFFER_OPEN_FOR,
    )

    assert offers_expire(now=now) == 1

    old.refresh_from_db()
    assert (old.status, old.responded_at) == (Offer.Status.EXPIRED, now)
    fresh.refresh_from_db()
    assert fresh.status == Offer.Status.PENDING
    answered.refresh_from_db()
    assert answered.status == Offer.Status.DECLINED
    assert offers_expire(now=now) == 0


# --- two workers at once ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_the_same_walk_in_send_one_wave(department, officer, queued_sends):
    for _ in range(6):
        volunteer_on_call(department)

    for _ in range(10):
        walk_in = waiting(department, officer)
        now = walk_in.arrived_at
        results = run_at_once([partial(paging_advance, intake_id=walk_in.pk, now=now)] * 2)

        assert not [r for r in results if isinstance(r, Exception)]
        assert sorted(len(r) for r in results) == [0, 3]
        assert Offer.objects.filter(intake=walk_in).count() == 3
        assert Notification.objects.filter(intake=walk_in, kind=Notification.Kind.OFFER).count() == 3
    assert len(queued_sends) == 30


@pytest.mark.django_db(transaction=True)
def test_a_worker_skips_a_walk_in_another_worker_is_paging(department, officer, queued_sends):
    volunteer_on_call(department)
    walk_in = waiting(department, officer)
    holding, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                Intake.objects.select_for_update().get(pk=walk_in.pk)
                holding.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")
        try:
            assert paging_advance(intake_id=walk_in.pk, now=walk_in.arrived_at) == []
        except OperationalError:
            pytest.fail("paging_advance waited for a locked walk-in instead of skipping it")
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
    finally:
        release.set()
        thread.join(timeout=10)

    assert not Offer.objects.filter(intake=walk_in).exists()
    assert len(paging_advance(intake_id=walk_in.pk, now=walk_in.arrived_at)) == 1
