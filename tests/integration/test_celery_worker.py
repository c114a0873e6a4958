"""A walk-in reaches a volunteer's phone through a real Celery worker on the real broker.

The worker runs in this process (a thread, the solo pool), so the settings of the test apply to
it: texts go to the in-memory outbox, and it reads the test database, which this test commits to
(``transaction=True``). The broker is the one settings name: Redis when REDIS_URL is set, as in
CI; kombu's filesystem transport otherwise. Nothing here waits without a bound.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextlib import suppress
from pathlib import Path

import pytest
from celery.contrib.testing.worker import TestWorkController, start_worker
from celery.worker import state as worker_state
from django.conf import settings
from django.db import transaction
from kombu import Exchange, Queue

from accounts.models import Role
from config.celery import app as celery_app
from intake.services import intake_create
from notifications.backends import InMemorySmsBackend
from notifications.models import Notification
from volunteers.models import Offer
from volunteers.tokens import offer_id_from_token

from ..factories import ShiftFactory, VolunteerFactory, user_with_role

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WORKER_START_TIMEOUT = 20
DELIVERY_TIMEOUT = 20
PHONE = "+19785550142"


class BoundedWorkController(TestWorkController):
    """celery's test worker waits for ever for its consumer; this one gives up and stops."""

    __test__ = False

    def ensure_started(self):
        if not self._on_started.wait(WORKER_START_TIMEOUT):
            worker_state.should_terminate = 0
            raise RuntimeError(f"The Celery worker did not start within {WORKER_START_TIMEOUT} s.")


@pytest.fixture
def broker():
    """The broker from settings, reachable now; a queue of this test's own on it, so that no other
    worker on the same broker (a developer's `make run`, another test run) takes its tasks."""
    uses_redis = bool(settings.REDIS_URL)
    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=2, interval_start=0.5, timeout=5)
    except Exception as error:
        if uses_redis:
            pytest.fail(f"REDIS_URL is set but the broker does not answer: {error}")
        pytest.skip(f"The filesystem broker cannot be used here: {error}")

    queue = f"harbor-test-{uuid.uuid4().hex[:12]}"
    conf = celery_app.conf
    saved = {
        name: conf[name]
        for name in ("task_default_queue", "task_always_eager", "worker_enable_remote_control")
    }
    queues = celery_app.amqp.queues
    saved_consume_from = queues._consume_from
    root = logging.getLogger()
    saved_logging = (root.level, list(root.handlers))  # the worker takes over the root logger
    conf.task_default_queue = queue
    conf.task_always_eager = False
    conf.worker_enable_remote_control = False  # no broadcast queue left bound behind the worker
    try:
        yield queue
    finally:
        for name, value in saved.items():
            conf[name] = value
        queues._consume_from = saved_consume_from
        queues.pop(queue, None)
        queues._default_consume_from.pop(queue, None)
        root.setLevel(saved_logging[0])
        root.handlers[:] = saved_logging[1]
        with suppress(Exception):
            _delete_queue(queue)


def _delete_queue(name: str) -> None:
    """Leave the broker as it was: no binding (Redis) or exchange file (filesystem) behind."""
    with celery_app.connection_for_write() as connection:
        bound = Queue(name, Exchange(name, "direct"), routing_key=name)(connection.default_channel)
        bound.declare()  # so that this channel knows the binding it is about to remove
        bound.delete()
    control_folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("control_folder")
    if control_folder:
        (Path(control_folder) / f"{name}.exchange").unlink(missing_ok=True)


@pytest.fixture
def on_call_volunteer(department):
    user = user_with_role(Role.VOLUNTEER, department, username="night-owl")
    volunteer = VolunteerFactory(user=user, phone=PHONE)
    volunteer.departments.add(department)
    ShiftFactory(volunteer=volunteer, department=department)
    return volunteer


@pytest.fixture
def provider_calls(monkeypatch):
    """Calls to the SMS provider from any thread (the outbox itself would hide a duplicate)."""
    calls = []
    send = InMemorySmsBackend.send

    def counting_send(self, **kwargs):
        calls.append(kwargs)
        return send(self, **kwargs)

    monkeypatch.setattr(InMemorySmsBackend, "send", counting_send)
    return calls


def _wait_for(condition, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    return condition()


def test_a_walk_in_pages_the_volunteer_through_a_real_worker(
    broker, department, officer, on_call_volunteer, sms_outbox, provider_calls, settings
):
    settings.HARBOR_SITE_URL = "https://harbor.example.org"
    assert settings.HARBOR_SMS_BACKEND == "notifications.backends.InMemorySmsBackend"

    with start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        queues=[broker],
        loglevel="WARNING",
        shutdown_timeout=15,
        WorkController=BoundedWorkController,
    ):
        with transaction.atomic():
            intake = intake_create(
                department=department,
                officer=officer,
                person_data={"first_name": "Wren", "approximate_age": 30},
                intake_data={"warrant_check": "none"},
            )
        committed = time.monotonic()
        delivered = _wait_for(lambda: list(sms_outbox), DELIVERY_TIMEOUT)
        elapsed = time.monotonic() - committed
        settled = _wait_for(
            lambda: Notification.objects.filter(intake=intake, status=Notification.Status.SENT).exists(),
            DELIVERY_TIMEOUT,
        )

    assert delivered, f"no text message reached the outbox within {DELIVERY_TIMEOUT} s"
    assert settled
    print(f"\nwalk-in committed -> text handed to the SMS backend in {elapsed * 1000:.0f} ms")

    offer = Offer.objects.get(intake=intake)
    assert offer.volunteer == on_call_volunteer
    (sms,) = sms_outbox
    assert sms.to == PHONE
    token = re.search(r"https://harbor\.example\.org/volunteers/offers/([^/\s]+)/", sms.body).group(1)
    assert offer_id_from_token(token) == offer.pk
    assert "Wren" not in sms.body
    assert len(provider_calls) == 1
