"""Volunteer companions ("Angels") and their on-call shifts: the roster. Paging builds on these."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateTimeRangeField, RangeBoundary, RangeOperators
from django.db import models
from django.db.models import F, Func, Q
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from accounts.models import Department
from config.history import track_changes
from intake.choices import Gender, Language

# A background check older than this is no longer current.
BACKGROUND_CHECK_VALID_FOR = timedelta(days=365 * 2)


class VolunteerQuerySet(models.QuerySet):
    def vetted(self, *, on: date) -> VolunteerQuerySet:
        """Active, with a current background check, training done and the agreement signed."""
        return self.filter(
            is_active=True,
            user__is_active=True,
            background_check_on__gte=on - BACKGROUND_CHECK_VALID_FOR,
            training_completed_on__isnull=False,
            confidentiality_agreement_signed_on__isnull=False,
        )


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


# The calendar token is a secret (rotated on request): the history does not keep old ones.
@track_changes(model_name="VolunteerHistory", exclude=("calendar_token",))
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
    # The secret in the URL of the volunteer's private calendar feed; rotated on request.
    calendar_token = models.CharField(max_length=43, unique=True, default=new_calendar_token, editable=False)
    background_check_on = models.DateField(null=True, blank=True)
    training_completed_on = models.DateField(null=True, blank=True)
    confidentiality_agreement_signed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = VolunteerQuerySet.as_manager()

    class Meta:
        ordering = ["user__username"]
        # Inbound SMS replies find the volunteer by the number they text from.
        indexes = [models.Index(fields=["phone"], name="volunteer_phone_idx")]

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


class ShiftSeries(models.Model):
    """A weekly recurring on-call shift. Its occurrences are materialised as Shift rows ahead of
    time (see ``roster.services.shift_series_extend``) so that "who is on call now" is one indexed query."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="shift_series")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="shift_series")
    weekday = models.PositiveSmallIntegerField(
        choices=[
            (i, name)
            for i, name in enumerate(
                ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
            )
        ]
    )
    start_time = models.TimeField(help_text="Local time in the department's time zone.")
    duration = models.DurationField()
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    # Occurrences up to this local date have been materialised; extending starts after it, so an
    # occurrence the volunteer dropped is not created again by the next daily run.
    materialised_until = models.DateField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "shift series"
        constraints = [
            models.CheckConstraint(
                condition=Q(duration__gt=timedelta(0)) & Q(duration__lte=timedelta(hours=24)),
                name="shiftseries_duration_range",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="shiftseries_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer}, {self.get_weekday_display()}s at {self.start_time:%H:%M}"


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class Shift(models.Model):
    """A period in which a volunteer is on call for a department."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="shifts")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="shifts")
    series = models.ForeignKey(
        ShiftSeries, null=True, blank=True, on_delete=models.CASCADE, related_name="shifts"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="shift_ends_after_start"),
            models.UniqueConstraint(fields=["volunteer", "starts_at"], name="shift_unique_start"),
            # One volunteer is never on call twice at once, in any department (btree_gist).
            ExclusionConstraint(
                name="shift_no_overlap_per_volunteer",
                expressions=[
                    ("volunteer", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                violation_error_message="This overlaps another shift of the same volunteer.",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "starts_at", "ends_at"], name="shift_dept_time_idx"),
            # "On shift now" for one volunteer (matching) and their coming shifts: only shifts not
            # yet over are read, however long the volunteer's history.
            models.Index(fields=["volunteer", "ends_at"], name="shift_volunteer_ends_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} on call {self.starts_at:%Y-%m-%d %H:%M}"

    def covers(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at
