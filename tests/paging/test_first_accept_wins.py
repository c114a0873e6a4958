"""Twenty volunteers accept the same walk-in at the same instant: exactly one wins, every time.

These tests commit for real (``transaction=True``) and race real threads on PostgreSQL, each on
its own database connection.
"""

from __future__ import annotations

import threading
import time
from functools import partial

import pytest
from django.db import OperationalError, connection, transaction

from intake.models import Intake, IntakeEvent
from notifications.models import Notification
from volunteers.models import Offer
from volunteers.paging.services import OfferUnavailable, offer_accept, walk_in_close

from ..factories import IntakeFactory, OfferFactory
from .conftest import run_at_once, volunteer_on_call

pytestmark = pytest.mark.django_db(transaction=True)

VOLUNTEERS = 20
ROUNDS = 20


def test_twenty_volunteers_accepting_at_the_same_instant_one_wins_every_time(
    department, officer, queued_sends
):
    volunteers = [volunteer_on_call(department) for _ in range(VOLUNTEERS)]
    started = time.monotonic()

    for _ in range(ROUNDS):
        walk_in = IntakeFactory(department=department, logged_by=officer)
        offers = [OfferFactory(intake=walk_in, volunteer=volunteer) for volunteer in volunteers]

        results = run_at_once(
            [partial(offer_accept, offer_id=offer.pk, volunteer=offer.volunteer) for offer in offers]
        )

        unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, OfferUnavailable)]
        assert unexpected == []
        winners = [r for r in results if isinstance(r, Offer)]
        assert len(winners) == 1
        assert sum(isinstance(r, OfferUnavailable) for r in results) == VOLUNTEERS - 1
        (accepted,) = Offer.objects.filter(intake=walk_in, status=Offer.Status.ACCEPTED)
        assert accepted.pk == winners[0].pk
        assert Offer.objects.filter(intake=walk_in, status=Offer.Status.WITHDRAWN).count() == VOLUNTEERS - 1
        walk_in.refresh_from_db()
        assert walk_in.status == Intake.Status.COMPANION_ASSIGNED
        assert (
            IntakeEvent.objects.filter(intake=walk_in, to_status=Intake.Status.COMPANION_ASSIGNED).count()
            == 1
        )
        thanks = Notification.objects.filter(intake=walk_in, kind=Notification.Kind.FILLED)
        assert sorted(thanks.values_list("offer__volunteer", flat=True)) == sorted(
            v.pk for v in volunteers if v.pk != accepted.volunteer_id
        )

    assert len(queued_sends) == ROUNDS * (VOLUNTEERS - 1)
    # A budget, not a benchmark: the whole race should stay quick enough to run on every commit.
    assert time.monotonic() - started < 60


def test_an_accept_in_progress_does_not_hold_up_other_walk_ins_of_the_department(
    department, officer, coordinator, queued_sends
):
    """Answering locks the walk-in and its offers, not the department or the volunteers: closing
    another walk-in (whose pages go to the same volunteers) goes ahead while an accept is open."""
    first, second = (IntakeFactory(department=department, logged_by=officer) for _ in range(2))
    accepting, paged_for_both = volunteer_on_call(department), volunteer_on_call(department)
    offer = OfferFactory(intake=first, volunteer=accepting)
    OfferFactory(intake=first, volunteer=paged_for_both)
    OfferFactory(intake=second, volunteer=paged_for_both)
    accepted, release = threading.Event(), threading.Event()

    def accept_and_hold_the_transaction_open():
        try:
            with transaction.atomic():
                offer_accept(offer_id=offer.pk, volunteer=accepting)
                accepted.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    thread = threading.Thread(target=accept_and_hold_the_transaction_open)
    thread.start()
    try:
        assert accepted.wait(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        try:
            walk_in_close(intake=second, actor=coordinator, reason=Intake.CloseReason.DUPLICATE)
        except OperationalError as error:
            pytest.fail(f"closing one walk-in waited for an accept on another: {error}")
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
    finally:
        release.set()
        thread.join(timeout=10)

    assert Intake.objects.get(pk=second.pk).status == Intake.Status.CLOSED
    assert Intake.objects.get(pk=first.pk).status == Intake.Status.COMPANION_ASSIGNED
    assert set(Offer.objects.filter(volunteer=paged_for_both).values_list("status", flat=True)) == {
        Offer.Status.WITHDRAWN
    }
