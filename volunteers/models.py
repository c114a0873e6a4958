"""Volunteer companions ("Angels") and their on-call shifts.

Matching, offers and paging build on these (part 2 of the plan); part 1 needs the roster so the
demo has people on call.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from accounts.models import Department
from intake.choices import Gender, Language

# A background check older than this is no longer current.
BACKGROUND_CHECK_VALID_FOR = timedelta(days=365 * 2)


class Volunteer(models.Model):
    class Channels(models.TextChoices):
        SMS = "sms", "Text message"
        EMAIL = "email", "Email"
        BOTH = "both", "Text message and email"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="volunteer")
    departments = models.ManyToManyField(Department, related_name="volunteers")
    phone = PhoneNumberField(blank=True)
    languages = ArrayField(models.CharField(max_length=8, choices=Language.choices), default=list, blank=True)
    gender = models.CharField(max_length=20, choices=Gender.choices, blank=True)
    lived_experience = models.BooleanField("lived experience of recovery", default=False)
    veteran = models.BooleanField(default=False)
    channels = models.CharField(max_length=10, choices=Channels.choices, default=Channels.SMS)
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)
    home_town = models.CharField(max_length=100, blank=True)
    call_any_time = models.BooleanField("call me any time", default=False)
    is_active = models.BooleanField(default=True)
    background_check_on = models.DateField(null=True, blank=True)
    training_completed_on = models.DateField(null=True, blank=True)
    confidentiality_agreement_signed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        return str(self.user)

    def is_vetted_on(self, day: date) -> bool:
        return bool(
            self.background_check_on
            and self.background_check_on + BACKGROUND_CHECK_VALID_FOR >= day
            and self.training_completed_on
            and self.confidentiality_agreement_signed_on
        )

    @property
    def is_vetted(self) -> bool:
        return self.is_vetted_on(timezone.localdate())


class Shift(models.Model):
    """A period in which a volunteer is on call for a department."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="shifts")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="shifts")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="shift_ends_after_start"),
            models.UniqueConstraint(fields=["volunteer", "starts_at"], name="shift_unique_start"),
        ]
        indexes = [models.Index(fields=["department", "starts_at", "ends_at"], name="shift_dept_time_idx")]

    def __str__(self) -> str:
        return f"{self.volunteer} on call {self.starts_at:%Y-%m-%d %H:%M}"

    def covers(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at
