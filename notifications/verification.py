"""Proving that a phone number or e-mail address reaches its owner, before anything is paged there.

Harbor texts (or e-mails) a 6-digit code to the value and the owner types it back on their
settings page. The code is kept only as a keyed hash, is good for ``CODE_VALID_FOR`` and one
use, dies after ``MAX_WRONG_CODES`` wrong tries, and a new one cannot be asked for within
``RESEND_AFTER`` of the last (nor more than ``MAX_CODES_PER_HOUR`` an hour), so a code cannot be
guessed and a number cannot be flooded.

Why here: sending needs the outbox, and accounts (where ``User.phone`` and ``User.email`` live)
is below notifications in the layering (config ← accounts ← notifications ← intake ←
volunteers), so accounts cannot send. This module knows no domain: it proves *a value* for *a
user* and says so; the owner of the field records it — ``accounts.services.user_contact_mark_verified``
for a user's own phone and e-mail (called from the staff settings page in ``notifications.views``),
``volunteers.roster.services`` for a volunteer's phone.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import Department, User

from .models import ContactVerification, Notification
from .services import notification_enqueue

CODE_VALID_FOR = timedelta(minutes=10)
MAX_WRONG_CODES = 5
RESEND_AFTER = timedelta(seconds=60)
MAX_CODES_PER_HOUR = 5

_HASH_SALT = "harbor.notifications.contact-verification"


# The code was right, but the number or address it proved was changed while it was on its way.
CHANGED_MEANWHILE = "Your number or address changed since the code was sent: ask for a new code."


class VerificationRefused(Exception):
    """A code could not be sent or was not accepted; ``message`` says why, in plain words."""

    def __init__(self, message: str, *, throttled: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.throttled = throttled


def _code_hash(*, user_id: int, channel: str, value: str, code: str) -> str:
    return salted_hmac(_HASH_SALT, f"{user_id}:{channel}:{value}:{code}", algorithm="sha256").hexdigest()


def contact_code_send(
    *, user: User, department: Department, channel: str, value: str, now: datetime | None = None
) -> ContactVerification:
    """Send a new code to ``value`` by ``channel`` (sms: E.164 number; email: address).

    Locks the user's row, so two requests at once cannot both pass the resend throttle. Ends the
    user's earlier open codes for this channel. Writes the code's row and its message (kind
    ``verify_contact``, a key unique to this code) in one transaction; the message is sent after
    commit. Raises ``VerificationRefused`` (``throttled``) when asked again too soon.
    """
    now = now or timezone.now()
    if channel not in (Notification.Channel.SMS, Notification.Channel.EMAIL) or not value:
        raise VerificationRefused("There is nothing to verify: add the number or address first.")
    with transaction.atomic():
        User.objects.select_for_update().only("pk").get(pk=user.pk)
        recent = ContactVerification.objects.filter(
            user=user, channel=channel, created_at__gt=now - timedelta(hours=1)
        )
        latest = recent.first()
        if latest is not None and latest.created_at > now - RESEND_AFTER:
            wait = int((latest.created_at + RESEND_AFTER - now).total_seconds()) + 1
            raise VerificationRefused(
                f"A code was sent moments ago. Please wait {wait} seconds before asking for another.",
                throttled=True,
            )
        if recent.count() >= MAX_CODES_PER_HOUR:
            raise VerificationRefused(
                "Too many codes were asked for in the last hour. Please try again later.", throttled=True
            )
        ContactVerification.objects.filter(
            user=user, channel=channel, used_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)
        code = f"{secrets.randbelow(10**6):06d}"
        verification = ContactVerification.objects.create(
            user=user,
            channel=channel,
            value=value,
            code_hash=_code_hash(user_id=user.pk, channel=channel, value=value, code=code),
            created_at=now,
            expires_at=now + CODE_VALID_FOR,
        )
        verification.notification = notification_enqueue(
            recipient=user,
            department=department,
            kind=Notification.Kind.VERIFY_CONTACT,
            channel=channel,
            to=value,
            context={"code": code},
            idempotency_key=f"verify_contact:{verification.pk}",
        )
        verification.save(update_fields=["notification"])
    return verification


def contact_code_check(
    *, user: User, channel: str, value: str, code: str, now: datetime | None = None
) -> ContactVerification:
    """Accept ``code`` as proof that ``value`` reaches ``user``, or raise ``VerificationRefused``.

    Only the user's latest code for this channel counts, and only for the value it was sent to.
    Locks that code's row, so concurrent tries are counted one by one; a wrong try is counted and
    committed even though the call raises (call it outside any transaction that the refusal
    would roll back). On success the code is used up. Records nothing about the user: the
    caller marks the field verified.
    """
    now = now or timezone.now()
    with transaction.atomic():
        latest = (
            ContactVerification.objects.select_for_update()
            .filter(user=user, channel=channel)
            .order_by("-created_at", "-pk")
            .first()
        )
        refusal = _closed(latest, value=value, now=now)
        if refusal:
            pass  # nothing to count: the code cannot be entered at all
        elif not constant_time_compare(
            latest.code_hash, _code_hash(user_id=user.pk, channel=channel, value=value, code=code)
        ):
            latest.attempts += 1
            latest.save(update_fields=["attempts"])
            left = MAX_WRONG_CODES - latest.attempts
            refusal = (
                f"That code is not right. {left} tr{'y' if left == 1 else 'ies'} left."
                if left
                else "That code is not right, and that was the last try. Ask for a new code."
            )
        else:
            latest.used_at = now
            latest.save(update_fields=["used_at"])
    if refusal:
        raise VerificationRefused(refusal)
    return latest


def open_code(
    *, user: User, channel: str, value: str, now: datetime | None = None
) -> ContactVerification | None:
    """The user's latest code for ``value`` if it can still be entered (for the settings page)."""
    now = now or timezone.now()
    latest = (
        ContactVerification.objects.filter(user=user, channel=channel).order_by("-created_at", "-pk").first()
    )
    return None if _closed(latest, value=value, now=now) else latest


def _closed(latest: ContactVerification | None, *, value: str, now: datetime) -> str:
    """Why ``latest`` can no longer be entered for ``value`` ("" while it can): one list of
    rules for checking a code and for offering its box on the settings page."""
    if latest is None or latest.value != value:
        return "No code was sent to this number or address. Ask for a code first."
    if latest.used_at is not None:
        return "That code has been used already. Ask for a new code."
    if latest.attempts >= MAX_WRONG_CODES:
        return "Too many wrong codes. Ask for a new code."
    if latest.expires_at <= now:
        return "That code has expired. Ask for a new code."
    return ""
