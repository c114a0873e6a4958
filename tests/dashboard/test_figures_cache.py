"""Program figures from the shared cache: a copy is shown, never computed in the request unless
none is kept; an out-of-date copy is shown with a note while one Celery task computes it again."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts.models import Membership, Role
from referrals.reports import figures as program
from referrals.reports import services
from referrals.reports.tasks import refresh_figures

from ..conftest import client_for
from ..factories import IntakeFactory

FIGURES = reverse("dashboard:figures")
WORKED_OUT = "Newer figures are being worked out; reload in a moment."
NOT_COUNTED = "Changes made since then are not counted yet."


@pytest.fixture
def figures_cache(settings):
    """A cache of this test's own (the suite's Redis is shared between test databases)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.HARBOR_FIGURES_CACHE_SECONDS = 300
    caches["default"].clear()


@pytest.fixture
def queued(figures_cache, monkeypatch):
    """The refresh tasks queued (their arguments and options), instead of publishing them."""
    tasks = []
    monkeypatch.setattr(
        refresh_figures, "apply_async", lambda kwargs, **options: tasks.append((kwargs, options))
    )
    return tasks


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def _shown(*departments) -> services.CachedFigures:
    """What the figures page shows for ``departments`` and their default period."""
    departments = list(departments)
    period = program.default_period(departments=departments)
    return services.program_figures_cached(departments=departments, period=period)


def _change(department, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        IntakeFactory(department=department)


def _run(task) -> None:
    """What the reports worker does with a queued task."""
    kwargs, _ = task
    refresh_figures(**kwargs)


def test_figures_are_computed_in_the_request_when_no_copy_is_kept(queued, department):
    IntakeFactory(department=department)

    shown = _shown(department)

    assert shown.figures.walk_ins == 1
    assert (shown.out_of_date, shown.refreshing) == (False, False)
    assert queued == []


def test_the_kept_copy_is_shown_while_nothing_changes(queued, clock, department, other_department):
    for departments in ([department], [department, other_department]):
        first = _shown(*departments)
        clock.shift(120)

        with CaptureQueriesContext(connection) as queries:
            again = _shown(*departments)

        assert again == services.CachedFigures(first.figures)
        assert len(queries) == 0
    assert queued == []


def test_a_change_queues_one_refresh_of_the_departments_figures(
    queued, clock, department, django_capture_on_commit_callbacks
):
    _shown(department)  # computed now: the next computation waits ten seconds
    _change(department, django_capture_on_commit_callbacks)
    _change(department, django_capture_on_commit_callbacks)

    assert len(queued) == 1
    kwargs, options = queued[0]
    assert kwargs == {"department_ids": [department.pk]}
    assert options["countdown"] == pytest.approx(services.FIGURES_REFRESH_EVERY.total_seconds())

    _run(queued[0])  # the refresh starts: a change from now on queues another
    clock.shift(60)
    _change(department, django_capture_on_commit_callbacks)

    assert len(queued) == 2
    # Long after the last computation: the change waits only for the rest of its action.
    assert queued[1][1]["countdown"] == pytest.approx(services.FIGURES_REFRESH_DELAY.total_seconds())


def test_an_out_of_date_copy_is_shown_with_a_note_while_newer_figures_are_worked_out(
    queued, department, coordinator, django_capture_on_commit_callbacks
):
    client = client_for(coordinator)
    first = client.get(FIGURES)
    assert WORKED_OUT not in first.text
    _change(department, django_capture_on_commit_callbacks)

    pages = [client.get(FIGURES), client.get(FIGURES)]

    for page in pages:
        assert page.status_code == 200
        assert page.context["figures"] == first.context["figures"]  # the copy, not computed again
        assert WORKED_OUT in page.text
        assert "Computed at" in page.text
    assert len(queued) == 1  # by the commit; the pages found it queued


def test_the_refresh_computes_the_figures_and_keeps_them(
    queued, clock, department, coordinator, django_capture_on_commit_callbacks
):
    client = client_for(coordinator)
    assert client.get(FIGURES).context["figures"].walk_ins == 0
    _change(department, django_capture_on_commit_callbacks)
    clock.shift(11)

    _run(queued[0])
    page = client.get(FIGURES)

    assert page.context["figures"].walk_ins == 1
    assert page.context["figures"].computed_at == timezone.now()
    assert WORKED_OUT not in page.text
    assert len(queued) == 1


def test_a_refresh_computes_nothing_when_no_copy_is_kept_or_the_copy_is_up_to_date(queued, department):
    assert services.program_figures_refresh(departments=[department]) is None  # nobody looked
    kept = _shown(department).figures

    with CaptureQueriesContext(connection) as queries:
        assert services.program_figures_refresh(departments=[department]) is None

    assert len(queries) == 0
    assert _shown(department).figures == kept


def test_pages_queue_one_refresh_of_several_departments_figures_once_they_are_five_minutes_old(
    queued, clock, department, other_department, coordinator
):
    Membership.objects.create(user=coordinator, department=other_department, role=Role.COORDINATOR)
    client = client_for(coordinator)
    first = client.get(FIGURES)
    clock.shift(299)
    assert WORKED_OUT not in client.get(FIGURES).text
    clock.shift(2)

    pages = [client.get(FIGURES), client.get(FIGURES)]

    assert all(WORKED_OUT in page.text for page in pages)
    assert all(page.context["figures"] == first.context["figures"] for page in pages)
    assert len(queued) == 1
    kwargs, options = queued[0]
    period = first.context["figures"].period
    assert kwargs == {
        "department_ids": [department.pk, other_department.pk],
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "time_zone": str(period.time_zone),
    }
    assert options["countdown"] == 0

    _run(queued[0])

    assert WORKED_OUT not in client.get(FIGURES).text


def test_a_broker_that_cannot_be_reached_fails_neither_the_commit_nor_the_page(
    figures_cache, monkeypatch, caplog, department, coordinator, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(refresh_figures, "apply_async", broker_down)
    client = client_for(coordinator)
    client.get(FIGURES)
    caplog.set_level(logging.WARNING, logger="referrals.reports.services")

    _change(department, django_capture_on_commit_callbacks)
    page = client.get(FIGURES)

    assert page.status_code == 200
    assert page.context["figures"].walk_ins == 0  # the copy, honestly labelled
    assert NOT_COUNTED in page.text
    assert WORKED_OUT not in page.text
    assert "figures refresh not queued" in caplog.text
    # Nothing says a refresh is queued: once the broker is back, the next page queues one.
    queued = []
    monkeypatch.setattr(refresh_figures, "apply_async", lambda kwargs, **options: queued.append(kwargs))
    assert WORKED_OUT in client.get(FIGURES).text
    assert queued == [{"department_ids": [department.pk]}]


def test_an_unreachable_cache_fails_neither_the_commit_nor_the_page(
    settings, caplog, department, coordinator, django_capture_on_commit_callbacks
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    settings.HARBOR_FIGURES_CACHE_SECONDS = 300
    caplog.set_level(logging.WARNING, logger="referrals.reports.services")

    _change(department, django_capture_on_commit_callbacks)
    page = client_for(coordinator).get(FIGURES)

    assert page.status_code == 200
    assert page.context["figures"].walk_ins == 1  # computed in the request
    assert "figures cache unreachable" in caplog.text


def test_refresh_tasks_carry_department_ids_and_a_periods_dates_only(
    figures_cache, monkeypatch, department, other_department, coordinator, django_capture_on_commit_callbacks
):
    """The tasks run here as the worker would run them (eagerly). The suite's scan of task
    arguments checks them against every person created; they are ids, dates and a clock."""
    from celery.signals import task_prerun

    from config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    arguments = []

    def record(sender=None, task=None, args=None, kwargs=None, **extra):
        if task.name == refresh_figures.name:
            arguments.append((args, kwargs))

    task_prerun.connect(record, weak=False)
    try:
        Membership.objects.create(user=coordinator, department=other_department, role=Role.COORDINATOR)
        client = client_for(coordinator)
        client.get(FIGURES)
        assert client.get(FIGURES, {"department": department.pk}).context["figures"].walk_ins == 0
        _change(department, django_capture_on_commit_callbacks)  # the department's figures
        with time_machine.travel(timezone.now() + timedelta(minutes=6)):
            client.get(FIGURES)  # both departments' figures
        shown = client.get(FIGURES, {"department": department.pk})
    finally:
        task_prerun.disconnect(record)

    assert shown.context["figures"].walk_ins == 1
    assert len(arguments) == 2
    for args, kwargs in arguments:
        assert not args
        assert set(kwargs) <= {"department_ids", "start", "end", "time_zone"}
        assert all(isinstance(pk, int) for pk in kwargs["department_ids"])
        assert json.loads(json.dumps(kwargs)) == kwargs  # plain JSON, as the broker carries it
