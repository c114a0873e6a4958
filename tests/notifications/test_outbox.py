"""The transactional outbox: written with the change, sent after commit, exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from intake.models import Intake
from notifications.backends import InMemorySmsBackend, PermanentSendError, TransientSendError
from notifications.models import MAX_ATTEMPTS, Notification
from notifications.services import (
    REDRIVE_GRACE,
    STALE_CLAIM_AFTER,
    notification_enqueue,
    notification_send,
    notifications_redrive,
)

from ..intake.helpers import walk_in_data

Status = Notification.Status


def _enqueue(recipient, department, *, key="offer:1:offer:sms", **overrides) -> Notification:
    arguments = {
        "recipient": recipient,
        "department": department,
        "kind": Notification.Kind.OFFER,
        "channel": Notification.Channel.SMS,
        "to": "+19785550100",
        "context": {
            "station": department.name,
            "station_address": department.street_address,
            "minutes_waited": 2,
            "link": "https://harbor.example.org/volunteers/offers/token/",
        },
        "idempotency_key": key,
        **overrides,
    }
    return notification_enqueue(**arguments)


def _fail_with(monkeypatch, *errors):
    """The provider raises ``errors`` in turn, then accepts. Returns the list of calls."""
    calls = []
    send = InMemorySmsBackend.send
    pending = list(errors)

    def flaky_send(self, **kwargs):
        calls.append(kwargs)
        if pending:
            raise pending.pop(0)
        return send(self, **kwargs)

    monkeypatch.setattr(InMemorySmsBackend, "send", flaky_send)
    return calls


def test_a_message_is_sent_right_after_the_commit(
    volunteer_user, department, task_calls, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notification = _enqueue(volunteer_user, department)
        assert sms_outbox == []  # nothing leaves before the commit

    notification.refresh_from_db()
    assert notification.status == Status.SENT
    assert notification.provider_message_id
    assert notification.sent_at is not None
    assert [sms.to for sms in sms_outbox] == ["+19785550100"]
    assert task_calls == [("send_notification", notification.pk)]


def test_a_rolled_back_transaction_sends_nothing(
    volunteer_user, department, task_calls, sms_outbox, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _enqueue(volunteer_user, department)
        raise RuntimeError("the change that caused the message failed")

    assert callbacks == []
    assert not Notification.objects.exists()
    assert sms_outbox == []
    assert task_calls == []


def test_a_transient_error_is_retried_later_and_then_sent_once(
    volunteer_user, department, sms_outbox, monkeypatch
):
    calls = _fail_with(monkeypatch, TransientSendError("Twilio 503"))
    notification = _enqueue(volunteer_user, department)
    now = timezone.now()

    assert notification_send(notification_id=notification.pk, now=now) == Status.PENDING
    notification.refresh_from_db()
    assert notification.status == Status.PENDING
    assert notification.attempts == 1
    assert notification.next_attempt_at > now
    assert "TransientSendError" in notification.last_error
    assert sms_outbox == []

    # Not before the back-off has passed, whoever asks.
    assert notification_send(notification_id=notification.pk, now=now + timedelta(seconds=1)) == "not-due"
    assert notifications_redrive(now=now + timedelta(seconds=1)) == 0

    with time_machine.travel(notification.next_attempt_at + timedelta(seconds=1), tick=False):
        assert notifications_redrive() == 1
        assert notifications_redrive() == 0
        assert notification_send(notification_id=notification.pk) == "not-due"

    notification.refresh_from_db()
    assert notification.status == Status.SENT
    assert notification.attempts == 2
    assert notification.last_error == ""
    assert len(calls) == 2  # one failure, one success
    assert len(sms_outbox) == 1


def test_a_permanent_error_fails_and_is_never_retried(volunteer_user, department, sms_outbox, monkeypatch):
    calls = _fail_with(monkeypatch, PermanentSendError("Twilio 400 code 21211"))
    notification = _enqueue(volunteer_user, department)

    assert notification_send(notification_id=notification.pk) == Status.FAILED
    later = timezone.now() + timedelta(days=1)
    assert notifications_redrive(now=later) == 0
    assert notification_send(notification_id=notification.pk, now=later) == "not-due"

    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert notification.attempts == 1
    assert "21211" in notification.last_error
    assert len(calls) == 1
    assert sms_outbox == []


def test_retries_stop_after_max_attempts(volunteer_user, department, sms_outbox, monkeypatch):
    calls = _fail_with(monkeypatch, *[TransientSendError("timeout")] * (MAX_ATTEMPTS + 5))
    notification = _enqueue(volunteer_user, department)
    clock = timezone.now()

    notification_send(notification_id=notification.pk, now=clock)
    for _ in range(MAX_ATTEMPTS + 3):
        clock += timedelta(hours=1)  # longer than any back-off
        notifications_redrive(now=clock)

    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert notification.attempts == MAX_ATTEMPTS
    assert len(calls) == MAX_ATTEMPTS
    assert sms_outbox == []


def test_a_sent_message_is_never_sent_again(volunteer_user, department, sms_outbox, provider_calls):
    notification = _enqueue(volunteer_user, department)

    assert notification_send(notification_id=notification.pk) == Status.SENT
    assert notification_send(notification_id=notification.pk) == "not-due"
    assert notifications_redrive(now=timezone.now() + timedelta(days=1)) == 0

    assert len(provider_calls) == 1
    assert len(sms_outbox) == 1


def test_the_same_idempotency_key_writes_one_row(volunteer_user, department):
    first = _enqueue(volunteer_user, department, key="offer:7:offer:sms")
    with transaction.atomic():
        second = _enqueue(volunteer_user, department, key="offer:7:offer:sms")

    assert first is not None
    assert second is None
    assert Notification.objects.filter(idempotency_key="offer:7:offer:sms").count() == 1


def test_a_context_key_outside_the_safe_list_is_refused(volunteer_user, department):
    with pytest.raises(ValueError, match="first_name"):
        _enqueue(
            volunteer_user,
            department,
            context={"station": department.name, "first_name": "Zebulon"},
        )
    assert not Notification.objects.exists()


def test_a_broker_down_at_commit_delays_the_page_and_never_loses_it(
    officer_client,
    on_call_volunteers,
    task_calls,
    sms_outbox,
    provider_calls,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    def broker_down(notification_id):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("notifications.tasks.send_notification.delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(reverse("intake:create"), walk_in_data(first_name="Wren"))

    assert response.status_code == 302  # the walk-in is logged all the same
    intake = Intake.objects.get()
    pages = Notification.objects.filter(intake=intake)
    assert pages.count() == 3
    assert set(pages.values_list("status", flat=True)) == {Status.PENDING}
    assert sms_outbox == []

    later = timezone.now() + REDRIVE_GRACE + timedelta(seconds=1)
    assert notifications_redrive(now=later) == 3
    assert notifications_redrive(now=later + timedelta(minutes=5)) == 0

    assert set(pages.values_list("status", flat=True)) == {Status.SENT}
    assert sorted(call["to"] for call in provider_calls) == sorted(
        str(v.phone) for v in on_call_volunteers[:3]
    )


def test_the_redrive_leaves_fresh_rows_to_the_task_queued_on_commit(volunteer_user, department, sms_outbox):
    notification = _enqueue(volunteer_user, department)

    assert notifications_redrive(now=notification.created_at + REDRIVE_GRACE / 2) == 0
    assert notifications_redrive(now=notification.created_at + REDRIVE_GRACE) == 1
    assert len(sms_outbox) == 1


def test_a_row_stuck_in_sending_is_redriven(volunteer_user, department, sms_outbox, provider_calls):
    """The worker was killed between claiming the row and hearing back from the provider."""
    notification = _enqueue(volunteer_user, department)
    claimed = timezone.now()
    Notification.objects.filter(pk=notification.pk).update(
        status=Status.SENDING, claimed_at=claimed, attempts=1
    )

    assert notifications_redrive(now=claimed + STALE_CLAIM_AFTER / 2) == 0  # may still be sending
    assert provider_calls == []

    assert notifications_redrive(now=claimed + STALE_CLAIM_AFTER + timedelta(seconds=1)) == 1
    notification.refresh_from_db()
    assert notification.status == Status.SENT
    assert notification.attempts == 2
    assert len(provider_calls) == 1


def test_a_message_that_keeps_killing_its_worker_is_given_up(volunteer_user, department, provider_calls):
    notification = _enqueue(volunteer_user, department)
    claimed = timezone.now()
    Notification.objects.filter(pk=notification.pk).update(
        status=Status.SENDING, claimed_at=claimed, attempts=MAX_ATTEMPTS
    )

    assert notifications_redrive(now=claimed + STALE_CLAIM_AFTER + timedelta(seconds=1)) == 0

    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert provider_calls == []


def test_a_worker_whose_clock_is_slightly_behind_still_sends_at_once(volunteer_user, department, sms_outbox):
    notification = _enqueue(volunteer_user, department)

    worker_clock = notification.next_attempt_at - timedelta(seconds=2)
    assert notification_send(notification_id=notification.pk, now=worker_clock) == Status.SENT
    assert len(sms_outbox) == 1


def test_a_provider_that_returns_no_id_still_settles_the_row(volunteer_user, department, monkeypatch):
    monkeypatch.setattr(InMemorySmsBackend, "send", lambda self, **kwargs: "")
    notification = _enqueue(volunteer_user, department)

    assert notification_send(notification_id=notification.pk) == Status.SENT
    notification.refresh_from_db()
    assert notification.provider_message_id


def test_an_email_is_sent_through_djangos_backend(volunteer_user, department, mailoutbox):
    notification = _enqueue(
        volunteer_user, department, channel=Notification.Channel.EMAIL, to="ada@example.org"
    )

    assert notification_send(notification_id=notification.pk) == Status.SENT
    notification.refresh_from_db()
    (message,) = mailoutbox
    assert message.to == ["ada@example.org"]
    assert message.subject == f"Someone needs a companion at {department.name}"
    assert notification.provider_message_id == message.extra_headers["Message-ID"]
