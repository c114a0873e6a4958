"""The benchmark's data generator, at its tiny size: it runs, respects every constraint and
trigger, and gives department 1 the eligible volunteers the matching benchmark relies on."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone

from accounts.models import Department
from bench.generate import SIZES, generate, row_counts
from intake.models import Intake
from volunteers.paging.matching import eligible_volunteers

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


@pytest.mark.django_db
def test_every_foreign_key_of_the_generated_rows_holds():
    """The load runs with triggers off (as a restore does), so foreign keys are checked here."""
    from django.apps import apps
    from django.db import connection, models

    generate(size=SIZES["tiny"], out=io.StringIO())
    orphans = {}
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if not model._meta.managed or model._meta.proxy:  # views such as pghistory's events
                continue
            for field in model._meta.concrete_fields:
                if not isinstance(field, models.ForeignKey) or not field.db_constraint:
                    continue
                parent, key, column = (
                    field.related_model._meta.db_table,
                    field.target_field.column,
                    field.column,
                )
                cursor.execute(
                    f'SELECT count(*) FROM "{model._meta.db_table}" c '  # noqa: S608 (model metadata)
                    f'LEFT JOIN "{parent}" p ON p."{key}" = c."{column}" '
                    f'WHERE c."{column}" IS NOT NULL AND p."{key}" IS NULL'
                )
                if count := cursor.fetchone()[0]:
                    orphans[f"{model._meta.label}.{field.name}"] = count
    assert orphans == {}


def test_the_load_scripts_sign_in_over_http_with_two_factor(live_server, transactional_db):
    """``bench.run`` and ``bench.chaos`` sign officers in over HTTP, code page included, and log
    walk-ins."""
    from bench.generate import BENCH_PASSWORD
    from bench.two_factor import signed_in_session
    from bench.walk_ins import post_walk_in

    generate(size=SIZES["tiny"], out=io.StringIO())

    session = signed_in_session(live_server.url, "officer-1-1", BENCH_PASSWORD)

    desk = session.get(f"{live_server.url}/intake/desk/", allow_redirects=False, timeout=30)
    assert desk.status_code == 200
    # The bursts' walk-in, as an officer logs it.
    assert post_walk_in(session, live_server.url, first_name="Burst", number=7)
    assert Intake.objects.filter(person__first_name="Burst", person__approximate_age=27).count() == 1
    with pytest.raises(RuntimeError, match="could not sign in"):
        signed_in_session(live_server.url, "officer-1-1", "not-the-password")


@pytest.mark.django_db
def test_before_a_run_the_walk_ins_an_earlier_run_left_open_are_closed(officer, department):
    from bench.prepare import quiesce

    left_open = IntakeFactory(department=department, logged_by=officer)
    assert left_open.status == Intake.Status.WAITING_FOR_COMPANION

    quiesce()

    left_open.refresh_from_db()
    assert left_open.status == Intake.Status.CLOSED
    assert left_open.close_reason == Intake.CloseReason.LEFT_BEFORE_PLACEMENT
    assert left_open.closed_at is not None
