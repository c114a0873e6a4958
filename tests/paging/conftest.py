"""Volunteers on call, a worker that runs on-commit work at once, and threads for races."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Department, Role, User
from intake.models import Intake
from notifications.services import notification_send
from volunteers.models import Volunteer

from ..factories import IntakeFactory, ShiftFactory, VolunteerFactory, user_with_role

_phone_numbers = itertools.count(1)


def volunteer_on_call(
    department: Department,
    *,
    name: str | None = None,
    now: datetime | None = None,
    on_shift: bool = True,
    **fields,
) -> Volunteer:
    """A vetted volunteer of ``department`` with a phone of their own; on a shift covering ``now``
    (default: the present) unless ``on_shift=False``. ``fields`` override the volunteer's."""
    number = next(_phone_numbers)
    user = user_with_role(Role.VOLUNTEER, department, username=name or f"angel{number}")
    volunteer = VolunteerFactory(user=user, phone=f"+1978555{number % 10000:04d}", **fields)
    volunteer.departments.add(department)
    if on_shift:
        shift = {} if now is None else {"starts_at": now - timedelta(hours=1)}
        ShiftFactory(volunteer=volunteer, department=department, **shift)
    return volunteer


def waiting(department: Department, officer: User, **fields) -> Intake:
    """A walk-in just logged: arrived now, and a companion needed from that very moment."""
    now = timezone.now()
    return IntakeFactory(
        department=department, logged_by=officer, arrived_at=now, companion_needed_at=now, **fields
    )


def minutes(intake: Intake, n: float) -> datetime:
    """``n`` minutes after the person walked in."""
    return intake.arrived_at + timedelta(minutes=n)


@pytest.fixture
def worker(monkeypatch, django_capture_on_commit_callbacks) -> Callable:
    """``with worker(): …`` runs what the block queues on commit right away, as a Celery worker
    would: the paging kick and every notification send (texts land in ``sms_outbox``)."""
    from volunteers.paging.services import paging_advance

    monkeypatch.setattr(
        "notifications.tasks.send_notification.delay", lambda pk: notification_send(notification_id=pk)
    )
    monkeypatch.setattr(
        "volunteers.paging.tasks.page_intake.delay", lambda intake_id: paging_advance(intake_id=intake_id)
    )
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def queued_sends(monkeypatch) -> list[int]:
    """For tests that really commit: notification ids queued for sending, without a broker."""
    queued: list[int] = []
    lock = threading.Lock()

    def record(pk: int) -> None:
        with lock:
            queued.append(pk)

    monkeypatch.setattr("notifications.tasks.send_notification.delay", record)
    monkeypatch.setattr("volunteers.paging.tasks.page_intake.delay", lambda intake_id: None)
    return queued


def run_at_once(calls: list[Callable[[], object]]) -> list[object]:
    """Run ``calls`` in threads released together by a barrier; each thread has its own database
    connection and closes it. Returns each call's result, or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except Exception as error:  # collected for the test to assert on
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (a lock never released?)"
    return results


@pytest.fixture
def twilio_account(settings):
    """Twilio's account token and the public address it calls (tests/paging/provider.py)."""
    from .provider import SITE, TOKEN

    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.HARBOR_SITE_URL = SITE
    settings.TWILIO_STATUS_CALLBACK_URL = SITE + "/volunteers/twilio/status/"


@pytest.fixture
def coordinator_on_call(coordinator):
    """The department's coordinator, with a verified phone: paged by text when nobody can be."""
    coordinator.phone = "+19785559000"
    coordinator.phone_verified_at = timezone.now()  # texted only once verified
    coordinator.save()
    return coordinator
