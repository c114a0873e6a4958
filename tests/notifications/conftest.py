"""Fixtures for the outbox tests: volunteers on call, and Celery's hand-offs run in-process."""

from __future__ import annotations

import pytest

from accounts.models import Role
from notifications.backends import InMemorySmsBackend
from notifications.services import notification_send

from ..factories import ShiftFactory, VolunteerFactory, user_with_role


@pytest.fixture
def on_call_volunteers(department):
    """Five vetted volunteers on shift now, each with a phone of their own."""
    volunteers = []
    for n, name in enumerate(["ada", "ben", "cy", "dee", "eve"]):
        user = user_with_role(Role.VOLUNTEER, department, username=name, first_name=name.title())
        volunteer = VolunteerFactory(user=user, phone=f"+1978555{n + 1:04d}")
        volunteer.departments.add(department)
        ShiftFactory(volunteer=volunteer, department=department)
        volunteers.append(volunteer)
    return volunteers


@pytest.fixture
def task_calls(monkeypatch):
    """Run what the services hand to Celery synchronously, as a worker would, and record the
    arguments each task was given (they must carry primary keys only)."""
    from volunteers.paging.services import paging_advance

    calls: list[tuple[str, object]] = []

    def page_intake(intake_id):
        calls.append(("page_intake", intake_id))
        paging_advance(intake_id=intake_id)

    def send_notification(notification_id):
        calls.append(("send_notification", notification_id))
        notification_send(notification_id=notification_id)

    monkeypatch.setattr("volunteers.paging.tasks.page_intake.delay", page_intake)
    monkeypatch.setattr("notifications.tasks.send_notification.delay", send_notification)
    return calls


@pytest.fixture
def provider_calls(monkeypatch):
    """Every call to the SMS provider. The in-memory backend, like Twilio with an idempotency key,
    would hide a second send of the same message: count the calls, not the outbox."""
    calls = []
    send = InMemorySmsBackend.send

    def counting_send(self, **kwargs):
        calls.append(kwargs)
        return send(self, **kwargs)

    monkeypatch.setattr(InMemorySmsBackend, "send", counting_send)
    return calls
