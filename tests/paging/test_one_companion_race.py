"""One volunteer accepts two walk-ins at the same instant: never two assignments, 50 times over.

These tests commit for real (``transaction=True``) and race real threads on PostgreSQL, each on
its own database connection.
"""

from __future__ import annotations

from functools import partial

import pytest

from intake.models import Intake
from volunteers.models import Offer
from volunteers.paging.services import OfferUnavailable, VolunteerBusy, offer_accept

from ..factories import IntakeFactory, OfferFactory
from .conftest import run_at_once, volunteer_on_call

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 50


def test_one_volunteer_accepting_two_walk_ins_at_once_gets_one_assignment_every_time(
    department, officer, queued_sends
):
    tom = volunteer_on_call(department)

    for _ in range(ROUNDS):
        walk_ins = [IntakeFactory(department=department, logged_by=officer) for _ in range(2)]
        offers = [OfferFactory(intake=walk_in, volunteer=tom) for walk_in in walk_ins]

        results = run_at_once([partial(offer_accept, offer_id=o.pk, volunteer=tom) for o in offers])

        unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, OfferUnavailable)]
        assert unexpected == []
        winners = [r for r in results if isinstance(r, Offer)]
        assert len(winners) == 1
        (refused,) = [r for r in results if isinstance(r, OfferUnavailable)]
        assert isinstance(refused, VolunteerBusy)
        assert Offer.objects.filter(intake__in=walk_ins, status=Offer.Status.ACCEPTED).count() == 1
        engaged = Offer.objects.filter(
            volunteer=tom, status=Offer.Status.ACCEPTED, intake__status__in=Intake.COMPANION_ENGAGED_STATUSES
        )
        assert engaged.count() == 1
        statuses = sorted(
            Intake.objects.filter(pk__in=[w.pk for w in walk_ins]).values_list("status", flat=True)
        )
        assert statuses == [Intake.Status.COMPANION_ASSIGNED, Intake.Status.WAITING_FOR_COMPANION]
        loser = next(o for o in offers if o.pk != winners[0].pk)
        assert Offer.objects.get(pk=loser.pk).status == Offer.Status.WITHDRAWN
        # The person is placed: Tom is free again for the next round.
        Intake.objects.filter(pk=winners[0].intake_id).update(status=Intake.Status.PLACED)
