"""The benchmark's data generator, at its tiny size: it runs, respects every constraint and
trigger, and gives department 1 the eligible volunteers the matching benchmark relies on."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone

from accounts.models import Department
from bench.generate import SIZES, generate, row_counts
from intake.models import Intake
from volunteers.matching import eligible_volunteers

from ..factories import IntakeFactory


@pytest.mark.django_db
def test_tiny_data_set(officer):
    size = SIZES["tiny"]
    generate(size=size, out=io.StringIO())
    counts = row_counts()
    assert counts["intakes"] == size.intakes
    assert counts["facilities"] == size.facilities
    assert (
        counts["placements"] > 0 and counts["follow_ups"] > 0 and counts["notifications"] > counts["offers"]
    )

    first = Department.objects.filter(name__startswith="Bench Police Department").order_by("pk").first()
    intake = IntakeFactory(department=first, logged_by=officer)
    # Its matching volunteers, and those of its own who happen to be on call now.
    assert eligible_volunteers(intake=intake, now=timezone.now()).count() >= size.matching_volunteers
    assert (
        not Intake.objects.filter(department=first, status__in=Intake.OPEN_STATUSES)
        .exclude(pk=intake.pk)
        .exists()
    )


@pytest.mark.django_db
def test_generated_staff_complete_two_factor_sign_in_as_the_load_scripts_do():
    from django.test import Client

    from bench.generate import BENCH_PASSWORD
    from bench.two_factor import complete_two_factor

    generate(size=SIZES["tiny"], out=io.StringIO())
    client = Client()
    assert (
        client.post("/accounts/login/", {"username": "officer-1-1", "password": BENCH_PASSWORD}).status_code
        == 302
    )
    assert client.get("/intake/desk/")["Location"].startswith("/accounts/two-factor/")

    assert complete_two_factor(client, "")
    assert client.get("/intake/desk/").status_code == 200
