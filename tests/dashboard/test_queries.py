"""The board, the figures, the CSV and the public summary cost the same number of queries with
10 walk-ins as with 1,000 (docs/design.md "Scale": aggregates in SQL, constant query counts)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from intake.models import Intake
from referrals.models import FollowUp, Placement

from ..factories import FacilityFactory
from . import builders
from .conftest import local, volunteer

# Mid-2025; the walk-ins start a year earlier, every 3 hours (1,000 of them span 125 days).
NOW = local(6, 20, 12)
FIRST_ARRIVAL = local(2, 1, 8)


def _queries(client, url: str, **headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, url
    return len(captured)


@pytest.fixture
def setting(department, officer):
    facilities = [FacilityFactory() for _ in range(12)]
    volunteers = [volunteer(department, f"angel{n}") for n in range(3)]

    def add(count: int) -> None:
        builders.bulk_walk_ins(
            department=department,
            officer=officer,
            count=count,
            facilities=facilities,
            volunteers=volunteers,
            first_arrival=FIRST_ARRIVAL + timedelta(days=Intake.objects.count()),
        )

    return add


def test_query_counts_do_not_grow_with_walk_ins(setting, coordinator_client, department):
    public = Client()
    urls = {
        "board": (coordinator_client, reverse("dashboard:board"), {}),
        "board refresh": (coordinator_client, reverse("dashboard:board"), {"HX-Request": "true"}),
        "figures": (coordinator_client, reverse("dashboard:figures"), {}),
        "figures csv": (coordinator_client, reverse("dashboard:figures_csv"), {}),
        "public page": (public, reverse("public:department", args=[department.pk]), {}),
        "public json": (public, reverse("public:department_json", args=[department.pk]), {}),
    }
    with time_machine.travel(NOW, tick=False):
        setting(10)
        with_ten = {name: _queries(client, url, **headers) for name, (client, url, headers) in urls.items()}

        setting(990)
        assert Intake.objects.count() == 1000
        assert Placement.objects.count() == 200
        assert FollowUp.objects.count() == 200
        with_thousand = {
            name: _queries(client, url, **headers) for name, (client, url, headers) in urls.items()
        }

    assert with_thousand == with_ten
    # Today's counts, for the record (a change here is fine if it stays constant).
    assert with_ten["public json"] == 3
