"""The treatment directory, shared by every department. Placements arrive with part 3."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from config.fields import EncryptedCharField, EncryptedTextField
from config.history import track_changes

CAPACITY_FRESH_FOR = timedelta(hours=24)


class LevelOfCare(models.TextChoices):
    """ASAM criteria levels of care, and withdrawal management (WM) levels."""

    OUTPATIENT = "1", "1 — Outpatient"
    INTENSIVE_OUTPATIENT = "2.1", "2.1 — Intensive outpatient"
    PARTIAL_HOSPITALIZATION = "2.5", "2.5 — Partial hospitalization"
    CLINICALLY_MANAGED_LOW = "3.1", "3.1 — Clinically managed low-intensity residential"
    CLINICALLY_MANAGED_POPULATION = "3.3", "3.3 — Clinically managed population-specific residential"
    CLINICALLY_MANAGED_HIGH = "3.5", "3.5 — Clinically managed high-intensity residential"
    MEDICALLY_MONITORED = "3.7", "3.7 — Medically monitored intensive inpatient"
    MEDICALLY_MANAGED = "4", "4 — Medically managed intensive inpatient"
    WM_1 = "1-WM", "1-WM — Ambulatory withdrawal management"
    WM_2 = "2-WM", "2-WM — Ambulatory withdrawal management, extended monitoring"
    WM_32 = "3.2-WM", "3.2-WM — Clinically managed residential withdrawal management"
    WM_37 = "3.7-WM", "3.7-WM — Medically monitored inpatient withdrawal management"
    WM_4 = "4-WM", "4-WM — Medically managed intensive inpatient withdrawal management"


class Medication(models.TextChoices):
    METHADONE = "methadone", "Methadone"
    BUPRENORPHINE = "buprenorphine", "Buprenorphine"
    NALTREXONE = "naltrexone", "Naltrexone"


class Payment(models.TextChoices):
    MEDICAID = "medicaid", "MassHealth / Medicaid"
    MEDICARE = "medicare", "Medicare"
    PRIVATE = "private", "Private insurance"
    SELF_PAY = "self_pay", "Self-pay"
    FREE = "free", "Free / scholarship beds"


class GenderServed(models.TextChoices):
    ALL = "all", "All genders"
    WOMEN = "women", "Women"
    MEN = "men", "Men"


class Facility(models.Model):
    """A treatment program at one location, shared by every department.

    The HSDS identifiers record where an imported facility came from, so importing the same
    Open Referral data again updates it instead of adding a copy.
    """

    name = models.CharField(max_length=200)
    organization_name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    contact_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    hsds_service_id = models.CharField(max_length=100, blank=True)
    hsds_location_id = models.CharField(max_length=100, blank=True)
    hsds_organization_id = models.CharField(max_length=100, blank=True)
    street_address = models.CharField(max_length=200)
    town = models.CharField(max_length=100)
    state = models.CharField(max_length=2, default="MA")
    postal_code = models.CharField(max_length=10, blank=True)
    phone = PhoneNumberField(blank=True)
    hours = models.CharField(max_length=200, blank=True)
    website = models.URLField(blank=True)
    levels_of_care = ArrayField(models.CharField(max_length=8, choices=LevelOfCare.choices), default=list)
    medications = ArrayField(
        models.CharField(max_length=20, choices=Medication.choices), default=list, blank=True
    )
    gender_served = models.CharField(max_length=10, choices=GenderServed.choices, default=GenderServed.ALL)
    minimum_age = models.PositiveSmallIntegerField(default=18)
    maximum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    serves_pregnant_women = models.BooleanField(default=False)
    payment_accepted = ArrayField(models.CharField(max_length=20, choices=Payment.choices), default=list)
    beds_available = models.PositiveIntegerField(null=True, blank=True)
    beds_maximum = models.PositiveIntegerField(null=True, blank=True)
    capacity_updated_at = models.DateTimeField(null=True, blank=True)
    capacity_updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "facilities"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "street_address", "town"], name="facility_unique_address"
            ),
            models.UniqueConstraint(
                fields=["hsds_service_id", "hsds_location_id"],
                condition=~Q(hsds_service_id=""),
                name="facility_unique_hsds_service_at_location",
            ),
        ]
        indexes = [
            GinIndex(fields=["levels_of_care"], name="facility_levels_gin"),
            GinIndex(fields=["payment_accepted"], name="facility_payment_gin"),
            GinIndex(fields=["medications"], name="facility_medications_gin"),
            models.Index(fields=["-capacity_updated_at"], name="facility_capacity_fresh_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def capacity_is_stale(self) -> bool:
        return (
            self.capacity_updated_at is None or timezone.now() - self.capacity_updated_at > CAPACITY_FRESH_FOR
        )


# --- placement --------------------------------------------------------------------------------


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
