"""The demo's people have verified contacts, so the demo pages someone."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from accounts.models import Membership, Role
from volunteers.models import Volunteer


def test_demo_volunteers_and_coordinators_can_be_paged(db):
    call_command("seed_demo", stdout=StringIO())

    volunteers = Volunteer.objects.all()
    assert volunteers.exists()
    assert volunteers.reachable().count() == volunteers.count()
    assert all(volunteer.verified_phone for volunteer in volunteers)
    coordinators = [m.user for m in Membership.objects.filter(role=Role.COORDINATOR).select_related("user")]
    assert coordinators
    assert all(user.verified_phone and user.verified_email for user in coordinators)
