"""Placement's models: calls to facilities (``PlacementAttempt``), the bed found (``Placement``),
what was shared outside the program under a consent (``Disclosure``, 42 CFR 2.24 accounting)
and the follow-ups after admission (``FollowUp``). Every change is kept (``track_changes``)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from config.fields import EncryptedCharField, EncryptedTextField
from config.history import track_changes
from intake.records import REASON, PersonRecord
from referrals.directory.models import Facility, LevelOfCare

# --- placement --------------------------------------------------------------------------------


PART2_NOTICE_2_32 = (
    "This information has been disclosed to you from records protected by federal confidentiality "
    "rules (42 CFR part 2). The federal rules prohibit you from making any further disclosure of "
    "information in this record that identifies a patient as having or having had a substance use "
    "disorder either directly, by reference to publicly available information, or through "
    "verification of such identification by another person unless further disclosure is expressly "
    "permitted by the written consent of the individual whose information is being disclosed or as "
    "otherwise permitted by 42 CFR part 2. A general authorization for the release of medical or "
    "other information is NOT sufficient for this purpose (see 42 CFR 2.31). The federal rules "
    "restrict any use of the information to investigate or prosecute with regard to a crime any "
    "patient with a substance use disorder, except as provided at 42 CFR 2.12(c)(5) and 2.65."
)


@track_changes(model_name="PlacementAttemptHistory")
class PlacementAttempt(models.Model):
    """One call to a facility while looking for a bed, and what it gave."""

    class Outcome(models.TextChoices):
        BED_OFFERED = "bed_offered", "Bed offered"
        NO_BED = "no_bed", "No bed"
        INSURANCE_NOT_ACCEPTED = "insurance_not_accepted", "Insurance not accepted"
        LEVEL_OF_CARE_MISMATCH = "level_of_care_mismatch", "Level of care does not match"
        WAITLIST = "waitlist", "Wait list"
        NO_ANSWER = "no_answer", "No answer"
        PERSON_DECLINED = "person_declined", "The person declined"

    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    intake = models.ForeignKey("intake.Intake", on_delete=models.CASCADE, related_name="placement_attempts")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="placement_attempts")
    attempted_at = models.DateTimeField(default=timezone.now)
    attempted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=30, choices=Outcome.choices)
    note = EncryptedCharField(max_length=500, blank=True)  # free text about the person: encrypted

    # Part of the person's record: the note goes when the person is anonymised (intake.records).
    person_record = PersonRecord(person="intake__person", anonymised={"note": ""})

    class Meta:
        ordering = ["attempted_at", "id"]
        indexes = [
            models.Index(fields=["intake", "attempted_at"], name="attempt_intake_idx"),
            models.Index(fields=["department", "attempted_at"], name="attempt_department_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.facility}: {self.get_outcome_display()}"


@track_changes(model_name="PlacementHistory")
class Placement(models.Model):
    """Where the person is going: the facility, the level of care, getting there, admission."""

    class Transport(models.TextChoices):
        POLICE = "police", "Police"
        VOLUNTEER = "volunteer", "Volunteer companion"
        FAMILY = "family", "Family or friend"
        AMBULANCE = "ambulance", "Ambulance"
        RIDE_SERVICE = "ride_service", "Ride service"
        FLIGHT = "flight", "Flight"

    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    intake = models.OneToOneField("intake.Intake", on_delete=models.CASCADE, related_name="placement")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="placements")
    level_of_care = models.CharField(max_length=8, choices=LevelOfCare.choices)
    bed_held_until = models.DateTimeField(null=True, blank=True)
    placed_at = models.DateTimeField(default=timezone.now)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    transport_mode = models.CharField(max_length=20, choices=Transport.choices, blank=True)
    transport_by = models.CharField("driven or accompanied by", max_length=150, blank=True)
    departed_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    admitted_at = models.DateTimeField("admission confirmed at", null=True, blank=True)
    admission_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    # Part of the person's record: who drove them may name their family (intake.records).
    person_record = PersonRecord(
        person="intake__person", anonymised={"transport_by": ""}, contact=("admitted_at",)
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(arrived_at__isnull=True)
                | Q(departed_at__isnull=False) & Q(arrived_at__gte=models.F("departed_at")),
                name="placement_arrival_after_departure",
            ),
            models.CheckConstraint(
                condition=Q(admitted_at__isnull=True) | Q(admission_confirmed_by__isnull=False),
                name="placement_admission_has_confirmer",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "placed_at"], name="placement_department_idx"),
            models.Index(fields=["facility", "placed_at"], name="placement_facility_idx"),
        ]

    def __str__(self) -> str:
        return f"Placement at {self.facility}"


@track_changes(model_name="DisclosureHistory")
class Disclosure(models.Model):
    """Something about a person shared outside the program, under a consent (42 CFR 2.24 accounting)."""

    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("intake.Person", on_delete=models.PROTECT, related_name="disclosures")
    intake = models.ForeignKey("intake.Intake", on_delete=models.PROTECT, related_name="disclosures")
    consent = models.ForeignKey("intake.Consent", on_delete=models.PROTECT, related_name="disclosures")
    facility = models.ForeignKey(Facility, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recipient = models.CharField(max_length=300)
    # Exactly what was sent (the referral sheet's text), kept for the accounting: it carries the
    # person's encrypted details (their member id), so it is encrypted too (config.fields).
    information = EncryptedTextField("what was disclosed")
    # Which items of the sheet were sent (``referrals.placement.SHEET_ITEMS`` keys).
    items = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    purpose = models.CharField(max_length=300)
    notice_text = models.TextField(default=PART2_NOTICE_2_32)
    disclosed_at = models.DateTimeField(default=timezone.now)
    disclosed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    # Part of the person's record; the recipient is a facility or an agency, not the person, and
    # stays for the accounting, but what was said becomes the reason it was erased (intake.records).
    person_record = PersonRecord(
        person="person", anonymised={"information": REASON}, contact=("disclosed_at",)
    )

    class Meta:
        ordering = ["-disclosed_at"]
        indexes = [models.Index(fields=["person", "-disclosed_at"], name="disclosure_person_idx")]

    def __str__(self) -> str:
        return f"Disclosure to {self.recipient}"


@track_changes(model_name="FollowUpHistory")
class FollowUp(models.Model):
    """A check on the person after admission (default +1, +7, +30, +90 days)."""

    class Outcome(models.TextChoices):
        IN_TREATMENT = "in_treatment", "In treatment"
        COMPLETED = "completed", "Completed treatment"
        LEFT_TREATMENT = "left_treatment", "Left treatment"
        RELAPSED = "relapsed", "Relapsed"
        LOST_CONTACT = "lost_contact", "Lost contact"
        DECEASED = "deceased", "Deceased"

    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    intake = models.ForeignKey("intake.Intake", on_delete=models.CASCADE, related_name="follow_ups")
    days_after_admission = models.PositiveSmallIntegerField()
    due_on = models.DateField()
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    note = EncryptedCharField(max_length=500, blank=True)  # free text about the person: encrypted
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_reminded_on = models.DateField(null=True, blank=True)

    # Part of the person's record (intake.records).
    person_record = PersonRecord(person="intake__person", anonymised={"note": ""}, contact=("completed_at",))

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["intake", "days_after_admission"], name="followup_once_per_offset"
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True, outcome="")
                | Q(completed_at__isnull=False, completed_by__isnull=False) & ~Q(outcome=""),
                name="followup_completed_has_outcome",
            ),
        ]
        indexes = [
            models.Index(
                fields=["department", "due_on"],
                name="followup_due_idx",
                condition=Q(completed_at__isnull=True),
            ),
            # The network's board: the oldest open follow-ups across many departments, in order.
            models.Index(
                fields=["due_on", "id"],
                name="followup_open_due_idx",
                condition=Q(completed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Follow-up +{self.days_after_admission} days"
