"""The treatment directory's models: facilities, shared by every department, and the choices
they are described with (levels of care, medications, payment, who they serve)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

# A bed count above this is a typo, not a facility.
MAX_BEDS = 10_000

# Every field a coordinator edits on the facility form (capacity has its own quick form).
FACILITY_FIELDS = (
    "name",
    "organization_name",
    "description",
    "street_address",
    "town",
    "state",
    "postal_code",
    "phone",
    "email",
    "website",
    "contact_name",
    "hours",
    "levels_of_care",
    "medications",
    "payment_accepted",
    "gender_served",
    "minimum_age",
    "maximum_age",
    "serves_pregnant_women",
    "beds_maximum",
    "is_active",
)


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
