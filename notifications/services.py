"""Writing notifications with the change that causes them, and sending them exactly once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Department, User

from . import backends
from .models import MAX_ATTEMPTS, Notification

logger = logging.getLogger(__name__)

# The only things a message may say. Anything about the person (name, substances, needs) is
# absent by construction: callers cannot pass it, and templates cannot reach it.
SAFE_CONTEXT_KEYS = frozenset(
    {
        "station",
        "station_address",
        "link",
        "minutes_waited",
        "volunteer_first_name",
        "wave",
        "due_count",
        # A verification code proves a phone number or address: not about the person.
        "code",
    }
)
# A row claimed for sending whose worker vanished (killed mid-send) is retried after this long.
STALE_CLAIM_AFTER = timedelta(minutes=2)
# The re-drive leaves fresh rows to the task queued on commit, so they are not sent twice over.
REDRIVE_GRACE = timedelta(seconds=10)
# The row is written with the web host's clock and claimed with the worker's: a worker whose clock
# is a little behind must still send a fresh row at once, not leave it to the re-drive.
CLOCK_SKEW_TOLERANCE = timedelta(seconds=5)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(15 * 2 ** (attempts - 1), 600))


def message_render(*, channel: str, kind: str, context: dict) -> str:
    """The words of a message (``templates/notifications/<channel>/<kind>.txt``), from a context
    that may carry only ``SAFE_CONTEXT_KEYS``; also what a phone call says when answered."""
    unsafe = set(context) - SAFE_CONTEXT_KEYS
    if unsafe:
        raise ValueError(f"Notification context may not carry {sorted(unsafe)}")
    return render_to_string(f"notifications/{channel}/{kind}.txt", context).strip()


def notification_enqueue(
    *,
    recipient: User,
    department: Department,
    kind: str,
    channel: str,
    to: str,
    context: dict,
    idempotency_key: str,
    intake=None,
    offer=None,
    call_url: str = "",
) -> Notification | None:
    """Write one message in the caller's transaction; send it right after commit.

    Returns None when a message with this idempotency key already exists (nothing is written).
    Refuses context keys outside ``SAFE_CONTEXT_KEYS``. A voice message's body (from
    ``templates/notifications/voice/<kind>.txt``) is what the call says; ``call_url``, when given,
    is the TwiML address the provider fetches instead (e.g. to listen for a keypress).
    """
    body = message_render(channel=channel, kind=kind, context=context)
    subject = ""
    if channel == Notification.Channel.EMAIL:
        subject = render_to_string(f"notifications/email/{kind}_subject.txt", context).strip()
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient,
                department=department,
                intake=intake,
                offer=offer,
                kind=kind,
                channel=channel,
                to=to,
                subject=subject,
                body=body,
                idempotency_key=idempotency_key,
                call_url=call_url,
            )
    except IntegrityError:
        if Notification.objects.filter(idempotency_key=idempotency_key).exists():
            return None
        raise
    transaction.on_commit(lambda: _queue_send(notification.pk), robust=True)
    return notification


def _queue_send(notification_id: int) -> None:
    from .tasks import send_notification

    send_notification.delay(notification_id)


def notification_send(*, notification_id: int, now: datetime | None = None) -> str:
    """Send one pending notification if it is due. Safe to call any number of times, anywhere.

    Claims the row with a conditional UPDATE (pending → sending), so two workers never send the
    same row; records the provider's id at once (sending → sent). Transient errors go back to
    pending with backoff, up to MAX_ATTEMPTS; permanent errors fail. Returns the final status.
    """
    now = now or timezone.now()
    claimed = Notification.objects.filter(
        pk=notification_id,
        status=Notification.Status.PENDING,
        next_attempt_at__lte=now + CLOCK_SKEW_TOLERANCE,
    ).update(status=Notification.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return "not-due"
    notification = Notification.objects.get(pk=notification_id)
    try:
        if notification.channel == Notification.Channel.SMS:
            provider_id = backends.sms_backend().send(
                to=notification.to, body=notification.body, idempotency_key=notification.idempotency_key
            )
        elif notification.channel == Notification.Channel.VOICE:
            provider_id = backends.voice_backend().call(
                to=notification.to,
                body=notification.body,
                call_url=notification.call_url,
                idempotency_key=notification.idempotency_key,
            )
        else:
            provider_id = backends.send_email(
                to=notification.to,
                subject=notification.subject,
                body=notification.body,
                idempotency_key=notification.idempotency_key,
            )
    except backends.PermanentSendError as error:
        _settle(notification, Notification.Status.FAILED, error=str(error))
        logger.warning("notification %s failed permanently: %s", notification.pk, error)
        return Notification.Status.FAILED
    except Exception as error:  # transient, or an unexpected fault: retry with a bound
        final = notification.attempts >= MAX_ATTEMPTS
        _settle(
            notification,
            Notification.Status.FAILED if final else Notification.Status.PENDING,
            error=f"{type(error).__name__}: {error}"[:300],
            next_attempt_at=now + _backoff(notification.attempts),
        )
        logger.warning(
            "notification %s attempt %s failed: %s",
            notification.pk,
            notification.attempts,
            type(error).__name__,
        )
        return Notification.Status.FAILED if final else Notification.Status.PENDING
    # The provider has the message now: whatever it returned must fit the row (and the "sent has a
    # provider id" constraint), or the row would stay claimed and be re-driven: a second text.
    Notification.objects.filter(pk=notification.pk, status=Notification.Status.SENDING).update(
        status=Notification.Status.SENT,
        provider_message_id=(str(provider_id or "") or f"accepted:{notification.pk}")[:200],
        sent_at=timezone.now(),
        last_error="",
        **_forget_secret(notification),
    )
    return Notification.Status.SENT


# Messages whose body is a secret (a verification code): kept only until sent or failed for good,
# so the row never holds the code afterwards (only its keyed hash is kept, in ContactVerification).
SECRET_KINDS = frozenset({Notification.Kind.VERIFY_CONTACT})


def _forget_secret(notification: Notification) -> dict:
    return {"body": "", "subject": ""} if notification.kind in SECRET_KINDS else {}


def _settle(notification: Notification, status: str, *, error: str, next_attempt_at=None) -> None:
    update = {"status": status, "last_error": error}
    if status == Notification.Status.FAILED:
        update.update(_forget_secret(notification))
    if next_attempt_at is not None:
        update["next_attempt_at"] = next_attempt_at
    Notification.objects.filter(pk=notification.pk, status=Notification.Status.SENDING).update(**update)


def notifications_redrive(*, now: datetime | None = None, batch: int = 200) -> int:
    """Send what the on-commit task did not: a broker that was down, a worker that died.

    Rows claimed but never settled (the worker was killed mid-send) go back to pending after
    STALE_CLAIM_AFTER, unless they have used up MAX_ATTEMPTS (a message that kills its worker
    every time must not be retried for ever). Returns how many rows were attempted.
    """
    now = now or timezone.now()
    stale = Notification.objects.filter(
        status=Notification.Status.SENDING, claimed_at__lt=now - STALE_CLAIM_AFTER
    )
    stale.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=Notification.Status.FAILED, last_error="The worker stopped while sending, too many times."
    )
    stale.filter(attempts__lt=MAX_ATTEMPTS).update(status=Notification.Status.PENDING, next_attempt_at=now)
    due = list(
        Notification.objects.filter(status=Notification.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(attempts__gt=0) | Q(created_at__lte=now - REDRIVE_GRACE))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:batch]
    )
    for notification_id in due:
        notification_send(notification_id=notification_id, now=now)
    return len(due)


# --- delivery receipts ------------------------------------------------------------------------

# The provider's words for where a text or a call stands, as Harbor's statuses. Anything else
# ("queued", "sending", "ringing", "in-progress"…) says nothing new and changes nothing.
PROVIDER_STATUSES = {
    # Messages (MessageStatus)
    "sent": Notification.Status.SENT,
    "delivered": Notification.Status.DELIVERED,
    "read": Notification.Status.DELIVERED,
    "undelivered": Notification.Status.UNDELIVERED,
    "failed": Notification.Status.FAILED,
    # Calls (CallStatus): answered is delivered; a call nobody picked up did not reach anyone.
    "completed": Notification.Status.DELIVERED,
    "busy": Notification.Status.UNDELIVERED,
    "no-answer": Notification.Status.UNDELIVERED,
    "canceled": Notification.Status.UNDELIVERED,
}
# Statuses only move forward: a receipt may settle a sent message once; later ones change nothing.
RECEIPT_FINAL = (Notification.Status.DELIVERED, Notification.Status.UNDELIVERED, Notification.Status.FAILED)


def notification_delivery_update(
    *, provider_message_id: str, provider_status: str, error_code: str = "", now: datetime | None = None
) -> Notification | None:
    """Record a delivery receipt: a sent message becomes delivered, undelivered or failed.

    A conditional UPDATE (``status = 'sent'``) makes it idempotent and forward-only: a replayed
    receipt, a late "sent" after "delivered", or a receipt for a message already settled changes
    nothing. Returns the updated notification, or None when nothing changed (an unknown id, an
    unknown or intermediate status). No other side effect: reacting to it is the caller's.
    """
    now = now or timezone.now()
    status = PROVIDER_STATUSES.get((provider_status or "").strip().lower())
    if status not in RECEIPT_FINAL or not provider_message_id:
        return None
    code = "".join(c for c in str(error_code or "") if c.isalnum())[:20]
    updated = Notification.objects.filter(
        provider_message_id=provider_message_id[:200], status=Notification.Status.SENT
    ).update(status=status, status_changed_at=now, provider_error_code=code)
    if not updated:
        return None
    return Notification.objects.filter(provider_message_id=provider_message_id[:200]).order_by("-pk").first()
