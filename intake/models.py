"""The person who walked in, each walk-in episode (an intake), its history and their consents.

These are records of a program that refers people to addiction treatment: 42 CFR Part 2
applies. Nothing here may be used to investigate or charge the person.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from accounts.models import Department
from config.fields import EncryptedCharField, EncryptedTextField
from config.history import track_changes

from .choices import (
    CompanionGender,
    Gender,
    Insurance,
    Language,
    OverdoseHistory,
    Pregnancy,
    Substance,
    SurrenderedItem,
    WarrantCheck,
)

MAX_AGE = 110
ADULT_AGE = 18


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@track_changes(model_name="PersonHistory")
class Person(models.Model):
    """Someone who has asked the department for help. They may walk in many times."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="people")
    first_name = models.CharField("first name or alias", max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    approximate_age = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(MAX_AGE)]
    )
    gender = models.CharField(max_length=20, choices=Gender.choices, blank=True)
    pronouns = models.CharField(max_length=40, blank=True)
    preferred_language = models.CharField(max_length=8, choices=Language.choices, default=Language.ENGLISH)
    phone = PhoneNumberField(blank=True)
    town = models.CharField(max_length=100, blank=True)
    insurance = models.CharField(max_length=20, choices=Insurance.choices, blank=True)
    # Encrypted at rest (config.fields), like the free text about the person below.
    insurance_member_id = EncryptedCharField(max_length=50, blank=True)
    veteran = models.BooleanField(null=True, blank=True)
    emergency_contact_name = models.CharField(max_length=150, blank=True)
    emergency_contact_phone = PhoneNumberField(blank=True)
    # Set when the retention period ran out and the record was anonymised (intake.services.retention).
    anonymised_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when a coordinator linked this record's walk-ins to an earlier visit's person
    # (``intake.services.repeat_visit_link``): its visits, consents and disclosures moved there.
    # The row stays because the append-only access log still names it.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "people"
        constraints = [
            models.CheckConstraint(
                condition=Q(date_of_birth__isnull=False) | Q(approximate_age__isnull=False),
                name="person_has_dob_or_age",
            ),
            models.CheckConstraint(
                condition=Q(approximate_age__isnull=True) | Q(approximate_age__range=(1, MAX_AGE)),
                name="person_approximate_age_range",
            ),
        ]
        indexes = [models.Index(fields=["department", "date_of_birth"], name="person_dept_dob_idx")]

    def __str__(self) -> str:
        # Deliberately minimal: a first name and an initial, never the whole name.
        initial = f" {self.last_name[:1]}." if self.last_name else ""
        return f"{self.first_name}{initial}"

    def age_on(self, day: date) -> int | None:
        if self.date_of_birth:
            return age_on(self.date_of_birth, day)
        return self.approximate_age

    @property
    def age(self) -> int | None:
        return self.age_on(timezone.localdate())


@track_changes(model_name="IntakeHistory")
class Intake(models.Model):
    """One walk-in episode: from the desk to a companion, a placement, or a closure."""

    class Status(models.TextChoices):
        WAITING_FOR_COMPANION = "waiting_for_companion", "Waiting for a companion"
        COMPANION_ASSIGNED = "companion_assigned", "Companion on the way"
        COMPANION_ARRIVED = "companion_arrived", "Companion arrived"
        SEARCHING_PLACEMENT = "searching_placement", "Searching for a placement"
        PLACED = "placed", "Placed in treatment"
        CLOSED = "closed", "Closed"

    class CloseReason(models.TextChoices):
        DECLINED_TREATMENT = "declined_treatment", "Declined treatment"
        LEFT_BEFORE_PLACEMENT = "left_before_placement", "Left before placement"
        MEDICAL_TRANSFER = "medical_transfer", "Medical transfer (sent to the ER)"
        INELIGIBLE = "ineligible", "Ineligible"
        REFERRED_ELSEWHERE = "referred_elsewhere", "Referred elsewhere"
        DUPLICATE = "duplicate", "Duplicate record"

    OPEN_STATUSES = (
        Status.WAITING_FOR_COMPANION,
        Status.COMPANION_ASSIGNED,
        Status.COMPANION_ARRIVED,
        Status.SEARCHING_PLACEMENT,
    )
    # Open statuses in which an accepted offer is the companion's live assignment (they are busy).
    COMPANION_ENGAGED_STATUSES = OPEN_STATUSES[1:]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="intakes")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="intakes")
    arrived_at = models.DateTimeField(default=timezone.now)
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.WAITING_FOR_COMPANION)
    close_reason = models.CharField(max_length=30, choices=CloseReason.choices, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # When the paging sweep should next act for this intake; null when no companion is needed.
    # The volunteers app's periodic task claims due rows with SELECT … FOR UPDATE SKIP LOCKED.
    companion_needed_at = models.DateTimeField(null=True, blank=True)
    # When coordinators were paged because no volunteer accepted in time (once per intake).
    paging_escalated_at = models.DateTimeField(null=True, blank=True)

    # Safety screen (each answer recorded).
    needs_emergency_care = models.BooleanField("needs emergency medical care now", default=False)
    warrant_check = models.CharField(
        max_length=20, choices=WarrantCheck.choices, default=WarrantCheck.NOT_CHECKED
    )
    weapons_on_person = models.BooleanField(default=False)
    under_18 = models.BooleanField("under 18", default=False)
    guardian_name = models.CharField(max_length=150, blank=True)
    guardian_relationship = models.CharField(max_length=60, blank=True)
    guardian_consent_at = models.DateTimeField(null=True, blank=True)
    items_surrendered = models.BooleanField("drugs or equipment surrendered", default=False)
    # Types only, from a fixed list: never free text (a description is evidence).
    surrendered_item_types = ArrayField(
        models.CharField(max_length=20, choices=SurrenderedItem.choices),
        verbose_name="what was surrendered (types)",
        default=list,
        blank=True,
    )
    surrendered_items_disposed = models.BooleanField(default=False)

    # Clinical picture, completed later by the officer, a coordinator or the companion.
    substances = ArrayField(
        models.CharField(max_length=20, choices=Substance.choices), default=list, blank=True
    )
    last_use_at = models.DateTimeField("last use (approximate)", null=True, blank=True)
    overdose_history = models.CharField(max_length=20, choices=OverdoseHistory.choices, blank=True)
    medical_concerns = EncryptedTextField(blank=True)
    mental_health_concerns = EncryptedTextField(blank=True)
    pregnancy = models.CharField(max_length=20, choices=Pregnancy.choices, blank=True)

    # What the person needs from a companion.
    companion_language = models.CharField(max_length=8, choices=Language.choices, default=Language.ENGLISH)
    companion_gender = models.CharField(max_length=20, choices=CompanionGender.choices, blank=True)
    needs = models.TextField("needs and preferences", blank=True)
    notes = EncryptedTextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-arrived_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(status="closed", closed_at__isnull=False) & ~Q(close_reason="")
                    | ~Q(status="closed") & Q(closed_at__isnull=True, close_reason="")
                ),
                name="intake_closed_has_reason",
            ),
            models.CheckConstraint(
                condition=(
                    Q(under_18=False)
                    | Q(guardian_consent_at__isnull=False) & ~Q(guardian_name="")
                    | Q(close_reason="medical_transfer")
                ),
                name="intake_minor_has_guardian_consent",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "-arrived_at"], name="intake_dept_arrived_idx"),
            models.Index(fields=["department", "status"], name="intake_dept_status_idx"),
            models.Index(fields=["logged_by", "-created_at"], name="intake_officer_created_idx"),
            models.Index(
                fields=["companion_needed_at"],
                name="intake_companion_needed_idx",
                condition=Q(companion_needed_at__isnull=False),
            ),
            # Open walk-ins across every department (matching's "busy with an open assignment"),
            # in order of arrival (the network's board, oldest first): a few hundred rows among
            # hundreds of thousands.
            models.Index(
                fields=["status", "arrived_at", "id"],
                name="intake_open_status_idx",
                condition=Q(
                    status__in=[
                        "waiting_for_companion",
                        "companion_assigned",
                        "companion_arrived",
                        "searching_placement",
                    ]
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Walk-in {str(self.id)[:8]}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def surrendered_item_types_display(self) -> str:
        return ", ".join(SurrenderedItem(value).label for value in self.surrendered_item_types)

    def minutes_waiting(self, now: datetime | None = None) -> int:
        return int(((now or timezone.now()) - self.arrived_at).total_seconds() // 60)


class IntakeEvent(models.Model):
    """One status change: the durations between them are the program's key figures.

    Not in the change history (config.history): it is itself an append-only history of the
    intake's status, written by the services; the intake's own changes are in IntakeHistory.
    """

    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=30, choices=Intake.Status.choices, blank=True)
    to_status = models.CharField(max_length=30, choices=Intake.Status.choices)
    close_reason = models.CharField(max_length=30, choices=Intake.CloseReason.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["intake", "at"], name="intakeevent_intake_at_idx")]

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status}"


class PersonErasure(models.Model):
    """A person's record erased at their request (a §2.26-style request), by whom and when.

    The person row stays (anonymised) so that this, the disclosures made before and the access
    log keep their subject; the accounting of disclosures shows the erasure. Never changed."""

    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="erasure")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    erased_at = models.DateTimeField(default=timezone.now)
    erased_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"Erasure of {self.erased_at:%Y-%m-%d}"


# The plain-language text of the notices, kept with the model so the consent record can store
# exactly what the person was shown.
PART2_NOTICE_2_22 = (
    "Federal law and regulations protect the confidentiality of the records of this program "
    "(42 U.S.C. 290dd-2 and 42 CFR Part 2). In general, the program may not say to anyone outside "
    "it that you have asked for help, or share any information that identifies you as someone "
    "with a substance use disorder, unless you agree in writing, a court orders it under Part 2, "
    "or another narrow exception in the regulations applies (such as a medical emergency). "
    "Your records may never be used to investigate or bring criminal charges against you. "
    "Breaking these rules is a crime and may be reported to the United States Attorney and to "
    "the Secretary of Health and Human Services. You may also complain to this program's "
    "coordinator."
)

REVOCATION_TERMS = (
    "You may take back (revoke) this consent at any time, by telling the program's coordinator "
    "or any officer at the front desk, in person, by phone or in writing, except for what has "
    "already been shared because you agreed."
)


@track_changes(model_name="ConsentHistory")
class Consent(models.Model):
    """A written consent to disclose under 42 CFR 2.31, with every element the rule requires."""

    class Signer(models.TextChoices):
        PERSON = "person", "The person"
        GUARDIAN = "guardian", "A parent or guardian"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="consents")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consents")
    intake = models.ForeignKey(
        Intake, on_delete=models.PROTECT, related_name="consents", null=True, blank=True
    )

    patient_name = models.CharField(max_length=200)
    disclosing_party = models.CharField("who may disclose", max_length=300)
    information = models.TextField("what information may be disclosed")
    recipients = models.TextField("to whom (by name or class)")
    purpose = models.TextField("purpose of the disclosure")
    revocation_terms = models.TextField(default=REVOCATION_TERMS)
    expires_on = models.DateField(null=True, blank=True)
    expiry_event = models.CharField(max_length=300, blank=True)
    notice_text = models.TextField(default=PART2_NOTICE_2_22)
    notice_acknowledged = models.BooleanField("42 CFR 2.22 notice read and understood")
    signer = models.CharField(max_length=20, choices=Signer.choices, default=Signer.PERSON)
    signature = models.CharField("signature (typed name)", max_length=200)
    signed_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revocation_note = EncryptedCharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-signed_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=False) | ~Q(expiry_event=""),
                name="consent_has_expiry",
            ),
            models.CheckConstraint(condition=~Q(signature=""), name="consent_is_signed"),
            models.CheckConstraint(condition=Q(notice_acknowledged=True), name="consent_notice_acknowledged"),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revoked_by__isnull=False),
                name="consent_revocation_has_actor",
            ),
        ]
        indexes = [models.Index(fields=["person", "-signed_at"], name="consent_person_signed_idx")]

    def __str__(self) -> str:
        return f"Consent of {self.signed_at:%Y-%m-%d}"

    def is_valid_on(self, day: date) -> bool:
        """Unrevoked and unexpired on ``day``. An event-based expiry is ended by revocation."""
        if self.revoked_at is not None:
            return False
        return self.expires_on is None or self.expires_on >= day

    @property
    def is_valid(self) -> bool:
        return self.is_valid_on(timezone.localdate())

    @property
    def state_label(self) -> str:
        if self.revoked_at:
            return "Revoked"
        if not self.is_valid:
            return "Expired"
        return "Valid"


class MatchReason(models.TextChoices):
    """Why a walk-in may be someone already known (``intake.selectors.repeat_visit_candidates``)."""

    SAME_FIRST_NAME = "same_first_name", "Same first name (ignoring case and accents)"
    SAME_DATE_OF_BIRTH = "same_date_of_birth", "Same date of birth"


@track_changes(model_name="RepeatVisitSuggestionHistory")
class RepeatVisitSuggestion(models.Model):
    """A walk-in that may be a repeat visit of someone already known, for a coordinator to
    confirm (link the walk-in to the earlier person) or dismiss.

    Found after the walk-in is saved and shown to coordinators only: the desk officer never
    learns whether a person is known (42 CFR Part 2; DESIGN.md "Privacy and law"). Each decision
    is in the change history (who, when, from which page).
    """

    class Status(models.TextChoices):
        SUGGESTED = "suggested", "Suggested"
        LINKED = "linked", "Linked"
        DISMISSED = "dismissed", "Dismissed"

    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="repeat_visit_suggestions")
    candidate = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    reasons = ArrayField(models.CharField(max_length=30, choices=MatchReason.choices), default=list)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUGGESTED)
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["intake", "candidate"], name="repeat_visit_once_per_candidate"),
            models.CheckConstraint(
                condition=Q(status="suggested", decided_at__isnull=True)
                | ~Q(status="suggested") & Q(decided_at__isnull=False, decided_by__isnull=False),
                name="repeat_visit_decision_has_actor",
            ),
        ]

    def __str__(self) -> str:
        return f"Possible repeat visit {self.pk}"

    def reason_labels(self) -> list[str]:
        return [MatchReason(reason).label for reason in self.reasons if reason in MatchReason.values]
