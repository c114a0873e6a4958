"""Pages whose query count must not grow with the number of rows (docs/design.md "Scale")."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from intake.models import Intake, IntakeEvent

from .factories import ConsentFactory, IntakeFactory


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def _more_walk_ins(officer, department, count: int) -> None:
    for _ in range(count):
        IntakeFactory(department=department, logged_by=officer)


def test_desk_page_query_count_does_not_grow_with_walk_ins(officer_client, officer, department):
    IntakeFactory(department=department, logged_by=officer)
    with_one = _queries(officer_client, reverse("intake:desk"))
    _more_walk_ins(officer, department, 199)
    assert Intake.objects.count() == 200
    assert _queries(officer_client, reverse("intake:desk")) == with_one


def test_coordinator_list_query_count_does_not_grow_with_walk_ins(coordinator_client, officer, department):
    IntakeFactory(department=department, logged_by=officer)
    with_one = _queries(coordinator_client, reverse("intake:list"))
    _more_walk_ins(officer, department, 199)
    assert _queries(coordinator_client, reverse("intake:list")) == with_one


def test_intake_page_query_count_does_not_grow_with_walk_ins_events_or_consents(
    officer_client, officer, department
):
    walk_in = IntakeFactory(department=department, logged_by=officer)
    ConsentFactory(intake=walk_in)
    url = reverse("intake:detail", kwargs={"intake_id": walk_in.pk})
    with_one = _queries(officer_client, url)

    _more_walk_ins(officer, department, 199)
    now = timezone.now()
    IntakeEvent.objects.bulk_create(
        IntakeEvent(
            intake=walk_in,
            from_status="waiting_for_companion",
            to_status="waiting_for_companion",
            at=now + timedelta(seconds=i),
        )
        for i in range(50)
    )
    for _ in range(5):
        ConsentFactory(intake=walk_in)
    assert _queries(officer_client, url) == with_one
