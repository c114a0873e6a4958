"""The transactional outbox: every message is a row written with the change that causes it.

A row is sent by a Celery task right after commit and re-driven by a periodic task while still
pending, so a broker outage delays a message and never loses it. The idempotency key makes a
second write of the same message impossible; the provider's message id, once stored, means the
message is never sent again.

Bodies are rendered from templates whose context carries no personal health information (see
``services.SAFE_CONTEXT_KEYS``): station, links, minutes waited — never the person.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Department

MAX_ATTEMPTS = 5


class Notification(models.Model):
    class Channel(models.TextChoices):
        SMS = "sms", "Text message"
        EMAIL = "email", "Email"
        VOICE = "voice", "Voice call"

    class Kind(models.TextChoices):
        OFFER = "offer", "Companion needed"
        FILLED = "filled", "Filled, thank you"
        CANCELLED = "cancelled", "No longer needed"
        ARRIVAL_REMINDER = "arrival_reminder", "Arrival reminder"
        NOBODY_ACCEPTED = "nobody_accepted", "Coordinator: nobody accepted"
        NOBODY_LEFT = "nobody_left", "Coordinator: everyone paged declined or did not answer"
        NOBODY_FITS = "nobody_fits", "Coordinator: no on-call volunteer fits"
        COMPANION_LATE = "companion_late", "Coordinator: companion not arrived"
        FOLLOW_UPS_DUE = "follow_ups_due", "Coordinator: follow-ups due"
        VERIFY_CONTACT = "verify_contact", "Verification code"
        TEST_PAGE = "test_page", "Test page"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        # From the provider's delivery receipts (signed status callbacks), after "sent".
        DELIVERED = "delivered", "Delivered"
        UNDELIVERED = "undelivered", "Not delivered"
        FAILED = "failed", "Failed"

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="notifications")
    intake = models.ForeignKey(
        "intake.Intake", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    offer = models.ForeignKey(
        "volunteers.Offer", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    idempotency_key = models.CharField(max_length=200, unique=True)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Voice only: the address of the TwiML the provider fetches when the call is answered (an
    # opaque signed token, never anything about the person). Empty: the body is simply spoken.
    # (Database defaults: rows written outside the ORM, e.g. by the benchmark's generator, get them.)
    call_url = models.CharField(max_length=500, blank=True, db_default="")
    # Delivery receipts: when the status last moved after "sent", and the provider's error code.
    status_changed_at = models.DateTimeField(null=True, blank=True)
    provider_error_code = models.CharField(max_length=20, blank=True, db_default="")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # Whatever the provider has accepted (sent, and the receipts after it) has its id.
            models.CheckConstraint(
                condition=~Q(status__in=["sent", "delivered", "undelivered"])
                | ~Q(provider_message_id="") & Q(sent_at__isnull=False),
                name="notification_sent_has_provider_id",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="notification_pending_idx",
                condition=Q(status="pending"),
            ),
            models.Index(
                fields=["claimed_at"], name="notification_sending_idx", condition=Q(status="sending")
            ),
            models.Index(fields=["intake", "created_at"], name="notification_intake_idx"),
            # Delivery receipts find their message by the provider's id.
            models.Index(
                fields=["provider_message_id"],
                name="notification_provider_id_idx",
                condition=~Q(provider_message_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.channel} ({self.status})"

    @property
    def did_not_arrive(self) -> bool:
        """The provider could not deliver it, or it was never accepted for sending."""
        return self.status in (self.Status.UNDELIVERED, self.Status.FAILED)


class ContactVerification(models.Model):
    """One code sent to a phone number or e-mail address to prove it reaches ``user``.

    Only a keyed hash of the code is kept. A code is good for ``CODE_VALID_FOR`` (see
    ``verification``), for one use, and is dead after ``MAX_WRONG_CODES`` wrong tries; sending a
    new code to the same user and channel ends the earlier ones. ``value`` is what the code was
    sent to: a code proves that value only, so changing the number needs a new code.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=Notification.Channel.choices)
    value = models.CharField(max_length=254)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "channel", "-created_at"], name="verification_user_idx")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} verification ({'used' if self.used_at else 'open'})"
