"""The placement panel and the follow-ups list answer in a fixed number of queries, however many
calls, disclosures or follow-ups there are (docs/design.md "Scale")."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from intake.models import Intake

from ..conftest import client_for
from ..factories import (
    ConsentFactory,
    DisclosureFactory,
    FacilityFactory,
    IntakeFactory,
    PlacementAttemptFactory,
)
from .placement_helpers import admitted, companion_arrived


def _queries(client, url: str, **headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return len(captured)


def test_the_placement_panel_does_not_grow_with_calls_disclosures_or_follow_ups(
    department, officer, coordinator, volunteer_user
):
    walk_in = companion_arrived(
        department, officer, volunteer_user, arrived_at=timezone.now() - timedelta(hours=3)
    )
    PlacementAttemptFactory(intake=walk_in, attempted_by=coordinator)
    consent = ConsentFactory(intake=walk_in)
    DisclosureFactory(intake=walk_in, consent=consent, disclosed_by=coordinator)
    url = reverse("referrals:placement", kwargs={"intake_id": walk_in.pk})
    clients = {"coordinator": client_for(coordinator), "companion": client_for(volunteer_user)}
    with_one = {who: _queries(client, url, HTTP_HX_REQUEST="true") for who, client in clients.items()}
    pages = {who: _queries(client, url) for who, client in clients.items()}

    for _ in range(24):
        PlacementAttemptFactory(intake=walk_in, facility=FacilityFactory(), attempted_by=coordinator)
        DisclosureFactory(intake=walk_in, consent=consent, disclosed_by=coordinator)
    assert {who: _queries(client, url, HTTP_HX_REQUEST="true") for who, client in clients.items()} == with_one
    assert {who: _queries(client, url) for who, client in clients.items()} == pages

    # Placed and admitted, with its follow-ups (the companion's part is over by then).
    admitted(walk_in, coordinator)
    assert _queries(clients["coordinator"], url, HTTP_HX_REQUEST="true") == with_one["coordinator"]


def test_the_follow_ups_list_does_not_grow_with_follow_ups(department, officer, coordinator):
    def admitted_walk_in():
        intake = IntakeFactory(
            department=department,
            logged_by=officer,
            arrived_at=timezone.now() - timedelta(days=100),
            status=Intake.Status.SEARCHING_PLACEMENT,
            companion_needed_at=None,
        )
        admitted(intake, coordinator, at=timezone.now() - timedelta(days=95))

    admitted_walk_in()
    client = client_for(coordinator)
    url = reverse("referrals:follow_ups")
    with_one = _queries(client, url)

    for _ in range(15):
        admitted_walk_in()

    assert _queries(client, url) == with_one
    assert _queries(client, url + "?show=upcoming") <= with_one
