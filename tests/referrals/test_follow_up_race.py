"""The daily reminder run by several beat or worker hosts at once: each coordinator is told once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from intake.models import Intake
from notifications.models import Notification
from referrals.models import FollowUp
from referrals.placement.services import follow_up_reminders, placement_admission_confirm, placement_record

from ..factories import FacilityFactory, IntakeFactory, user_with_role
from ..paging.conftest import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued_sends(monkeypatch) -> list[int]:
    """Notification ids queued for sending after commit, without a broker."""
    queued: list[int] = []
    lock = threading.Lock()

    def record(pk: int) -> None:
        with lock:
            queued.append(pk)

    monkeypatch.setattr("notifications.tasks.send_notification.delay", record)
    return queued


def test_five_hosts_reminding_at_once_send_one_message_per_channel(department, officer, queued_sends):
    coordinator = user_with_role(Role.COORDINATOR, department, username="coordinator", phone="+19785550190")
    for _ in range(3):
        intake = IntakeFactory(
            department=department,
            logged_by=officer,
            arrived_at=timezone.now() - timedelta(hours=2),
            status=Intake.Status.SEARCHING_PLACEMENT,
            companion_needed_at=None,
        )
        placement = placement_record(
            intake=intake, actor=coordinator, facility=FacilityFactory(), level_of_care="3.5"
        )
        placement_admission_confirm(placement=placement, actor=coordinator)
    tomorrow = timezone.now() + timedelta(days=1, hours=1)

    results = run_at_once([lambda: follow_up_reminders(now=tomorrow)] * 5)

    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 2
    messages = Notification.objects.filter(kind=Notification.Kind.FOLLOW_UPS_DUE)
    assert sorted(messages.values_list("channel", flat=True)) == ["email", "sms"]
    assert "3 follow-ups are due" in messages.get(channel="sms").body
    assert FollowUp.objects.filter(last_reminded_on__isnull=False).count() == 3
    assert len(queued_sends) == 2
