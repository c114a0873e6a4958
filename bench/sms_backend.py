"""Benchmarks only: an SMS "provider" that records each hand-off in the benchmark database.

Named in ``HARBOR_SMS_BACKEND`` by ``bench.run`` and ``bench.chaos`` only (the app never refers to
it). It accepts every message at once and writes one row per call to ``bench_sms_handoff``
(created by ``bench.prepare``): the idempotency key and the moment the worker handed the
message over. It deliberately does not deduplicate, unlike a provider with idempotency keys: a
key recorded twice is a text message sent twice.
"""

from __future__ import annotations

import os
import uuid

from django.db import connection
from django.utils import timezone


class RecordingSmsBackend:
    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        # notification_send calls the backend outside any transaction: the row commits at once.
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_sms_handoff (idempotency_key, handed_at, pid) VALUES (%s, %s, %s)",
                [idempotency_key, timezone.now(), os.getpid()],
            )
        return f"bench-{uuid.uuid4()}"
