"""Offers: a request to one volunteer to accompany one person; the accepted offer is the assignment."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Department
from config.history import track_changes
from volunteers.roster.models import Volunteer

# How long a page stays open. Later waves do not close earlier offers: anyone paged may still
# accept until the intake has a companion, the intake closes, or this much time has passed.
OFFER_OPEN_FOR = timedelta(minutes=60)


@track_changes(model_name="OfferHistory")
class Offer(models.Model):
    """A request to one volunteer to accompany one person. The accepted offer is the assignment."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for an answer"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Source(models.TextChoices):
        WAVE = "wave", "Automatic wave"
        DECLINE = "decline", "Replacing a decline"
        COORDINATOR = "coordinator", "Paged by a coordinator"

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="offers")
    intake = models.ForeignKey("intake.Intake", on_delete=models.CASCADE, related_name="offers")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="offers")
    wave = models.PositiveSmallIntegerField()
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.WAVE)
    # Why this volunteer was chosen, as shown to coordinators ("speaks Spanish; 0 assignments…").
    reasons = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    # After acceptance: when the companion is expected, when they said they arrived, and the
    # database timer for the arrival reminder and then the coordinator alert.
    expected_arrival_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    arrival_check_at = models.DateTimeField(null=True, blank=True)
    arrival_reminded_at = models.DateTimeField(null=True, blank=True)
    arrival_escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # First accept wins: the database refuses a second accepted offer for one intake.
            models.UniqueConstraint(
                fields=["intake"], condition=Q(status="accepted"), name="offer_one_accepted_per_intake"
            ),
            models.UniqueConstraint(fields=["intake", "volunteer"], name="offer_once_per_volunteer"),
            models.CheckConstraint(
                condition=Q(status="pending", responded_at__isnull=True)
                | ~Q(status="pending") & Q(responded_at__isnull=False),
                name="offer_response_time_matches_status",
            ),
        ]
        indexes = [
            # A volunteer's offers in one status: their open requests, their live assignments.
            models.Index(
                fields=["volunteer", "status", "responded_at"], name="offer_vol_status_responded_idx"
            ),
            # Matching joins each volunteer's answers of the last 30 days (accepted or declined)
            # and counts them: one index range per volunteer, where the index above needs one per
            # status; the time bound is read in the index, not by visiting every answer ever given.
            models.Index(
                fields=["volunteer", "responded_at"],
                include=["status"],
                condition=Q(status__in=["accepted", "declined"]),
                name="offer_vol_answered_idx",
            ),
            models.Index(fields=["intake", "status"], name="offer_intake_status_idx"),
            models.Index(
                fields=["expires_at"], name="offer_pending_expiry_idx", condition=Q(status="pending")
            ),
            models.Index(
                fields=["arrival_check_at"],
                name="offer_arrival_check_idx",
                condition=Q(arrival_check_at__isnull=False),
            ),
            # The board's "companions on the way", soonest expected first.
            models.Index(
                fields=["department", "expected_arrival_at"],
                name="offer_on_the_way_idx",
                condition=Q(status="accepted", arrived_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Offer {self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.PENDING and self.expires_at > timezone.now()
