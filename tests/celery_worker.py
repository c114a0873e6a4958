"""A real Celery worker for tests, on the real broker, in this process.

The worker runs in a thread (the solo pool), so the settings of the test apply to it: texts go
to the in-memory outbox, and it reads the test database, which such tests commit to
(``transaction=True`` or ``live_server``). The broker is the one settings name: Redis when
REDIS_URL is set, as in CI; kombu's filesystem transport otherwise. Each test gets a queue of
its own, so that no other worker on the same broker (a developer's `make run`, another test
run) takes its tasks. Nothing here waits without a bound.

Used by tests/integration/test_celery_worker.py and the browser journeys in tests/e2e/.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from celery.contrib.testing.worker import TestWorkController, start_worker
from celery.worker import state as worker_state
from django.conf import settings
from kombu import Exchange, Queue

from config.celery import app as celery_app

WORKER_START_TIMEOUT = 20


class BoundedWorkController(TestWorkController):
    """celery's test worker waits for ever for its consumer; this one gives up and stops."""

    __test__ = False

    def ensure_started(self):
        if not self._on_started.wait(WORKER_START_TIMEOUT):
            worker_state.should_terminate = 0
            raise RuntimeError(f"The Celery worker did not start within {WORKER_START_TIMEOUT} s.")


@contextmanager
def broker_queue() -> Iterator[str]:
    """The broker from settings, reachable now, and a queue of this test's own on it (the
    default queue while the block runs, so ``.delay()`` from any thread sends there)."""
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


@contextmanager
def running_worker(queue: str) -> Iterator[None]:
    """A Celery worker consuming ``queue`` until the block ends."""
    with start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        queues=[queue],
        loglevel="WARNING",
        shutdown_timeout=15,
        WorkController=BoundedWorkController,
    ):
        yield


# What celery beat sends (config/celery.py): the paging sweep and the outbox re-drive.
BEAT_TASKS = ("volunteers.paging.tasks.sweep_paging", "notifications.tasks.redrive_notifications")


@contextmanager
def running_beat(*, every: float = 1.0, tasks: tuple[str, ...] = BEAT_TASKS) -> Iterator[None]:
    """Send beat's periodic tasks through the broker every ``every`` seconds until the block
    ends (beat itself sends the sweep every 5 s; tests want the same work, sooner)."""
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(every):
            for name in tasks:
                with suppress(Exception):  # a broker hiccup skips one beat, as with real beat
                    celery_app.send_task(name)

    thread = threading.Thread(target=tick, name="test-beat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 5)
