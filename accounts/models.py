"""Users, the departments they serve, and the role each user holds in each department."""

from __future__ import annotations

import zoneinfo

import pghistory
from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from config.history import track_changes


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError("%(value)s is not a known time zone.", params={"value": value})


def default_follow_up_days() -> list[int]:
    return [1, 7, 30, 90]


class Department(models.Model):
    """A police department running the program. Every record that holds data belongs to one."""

    name = models.CharField(max_length=200, unique=True)
    street_address = models.CharField(max_length=200)
    town = models.CharField(max_length=100)
    state = models.CharField(max_length=2, default="MA")
    postal_code = models.CharField(max_length=10, blank=True)
    phone = PhoneNumberField(blank=True)
    time_zone = models.CharField(max_length=64, default="America/New_York", validators=[validate_time_zone])

    # Paging settings (docs/design.md "Matching a companion").
    wave_size = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="Volunteers paged at once in each wave.",
    )
    wave_minutes = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="Minutes to wait for an answer before the next wave.",
    )
    escalate_after_waves = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="Coordinators are paged after this many waves with no acceptance…",
    )
    escalate_after_minutes = models.PositiveSmallIntegerField(
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text="…or after this many minutes, whichever comes first.",
    )
    expected_arrival_minutes = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(240)],
        help_text="Minutes a companion has to arrive after accepting before a reminder is sent.",
    )

    # Follow-ups after admission, in days (docs/design.md "Workflow and states").
    follow_up_days = ArrayField(
        models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(730)]),
        default=default_follow_up_days,
        size=12,
    )

    # Personal records are anonymised this many years after the person's last contact
    # (intake.services.retention: the daily apply_retention task).
    retention_years = models.PositiveSmallIntegerField(
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="Years after a person's last contact before their records are anonymised.",
    )

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(wave_size__gte=1), name="department_wave_size_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(wave_minutes__gte=1), name="department_wave_minutes_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        return f"{self.street_address}, {self.town}, {self.state} {self.postal_code}".strip()

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Role(models.TextChoices):
    DESK_OFFICER = "desk_officer", "Desk officer"
    VOLUNTEER = "volunteer", "Volunteer companion"
    COORDINATOR = "coordinator", "Coordinator"
    ADMINISTRATOR = "administrator", "Administrator"


# When a user holds several roles, they land on the home page of the first one in this order.
ROLE_PRECEDENCE = [Role.ADMINISTRATOR, Role.COORDINATOR, Role.DESK_OFFICER, Role.VOLUNTEER]


# Security events of an account that change no column of its own (a reset second factor): kept
# in the change history like a membership grant, with who, when and why in the event's context.
TWO_FACTOR_RESET_EVENT = "two_factor.reset"
OPERATOR_CREATED_EVENT = "operator.created"


@pghistory.track(
    pghistory.ManualEvent(TWO_FACTOR_RESET_EVENT),
    pghistory.ManualEvent(OPERATOR_CREATED_EVENT),
    fields=["username"],
    model_name="UserAccountEvent",
    obj_field=pghistory.ObjForeignKey(related_name="account_events"),
    append_only=True,
)
class User(AbstractUser):
    """A unique account for one human being (accounts are never shared).

    ``is_superuser`` is for the operator's own account only (``manage.py create_operator``):
    a department's administrators hold the administrator role, whose admin permissions are
    given by ``accounts.backends.AdministratorPermissionBackend`` and scoped to its departments.
    """

    display_name = models.CharField(max_length=150, blank=True)
    # Where coordinators are paged when nobody accepts (volunteers keep theirs on their profile).
    phone = PhoneNumberField(blank=True)
    # When the phone number and the e-mail address were last proved to reach this user (a code
    # sent there and entered back: notifications.verification). Cleared whenever the value
    # changes; nothing is paged to an address that is not verified. The e-mail address is the
    # user's in every role, so a volunteer's e-mail is verified here too.
    phone_verified_at = models.DateTimeField(null=True, blank=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.name_of(
            display_name=self.display_name,
            first_name=self.first_name,
            last_name=self.last_name,
            username=self.username,
        )

    @staticmethod
    def name_of(*, display_name: str, first_name: str, last_name: str, username: str) -> str:
        """How a user is named on every page: for lists that fetch these four values without
        loading the user (the live board)."""
        return display_name or f"{first_name} {last_name}".strip() or username

    @property
    def verified_email(self) -> str:
        """The e-mail address pages may go to: only once verified."""
        return self.email if self.email and self.email_verified_at else ""

    @property
    def verified_phone(self) -> str:
        """The staff phone number (E.164) pages may go to: only once verified."""
        return str(self.phone) if self.phone and self.phone_verified_at else ""


@track_changes(model_name="MembershipHistory")
class Membership(models.Model):
    """A user's role in one department. A user may hold roles in several departments.

    Granted and revoked only through ``accounts.services`` (``membership_grant``,
    ``membership_revoke``): every insert and delete is kept in ``MembershipHistory`` with who
    made it and when, and shown on the user's admin page.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "department", "role"], name="membership_unique_role"),
        ]
        indexes = [models.Index(fields=["department", "role"])]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}, {self.department}"


class AccessLogEntry(models.Model):
    """One view, print, edit or export of a personal record (42 CFR Part 2 audit; docs/design.md
    "Privacy and law").

    Append-only: a database trigger refuses UPDATE and DELETE (migration 0005), so not even the
    application's own database role can rewrite history. Paths carry opaque ids only.
    Not in the change history (config.history): it is never changed, only appended to.
    """

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        EXPORT = "export", "Exported"
        PRINT = "print", "Printed"
        EDIT = "edit", "Edited"

    class RecordType(models.TextChoices):
        PERSON = "person", "Person"
        INTAKE = "intake", "Walk-in"
        CONSENT = "consent", "Consent"
        DISCLOSURE = "disclosure", "Disclosure"
        PLACEMENT = "placement", "Placement"
        ASSIGNMENT = "assignment", "Companion assignment"
        DELIVERY_LOG = "delivery_log", "Delivery log"
        ACCOUNTING = "accounting", "Accounting of disclosures"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=10, choices=Action.choices)
    record_type = models.CharField(max_length=20, choices=RecordType.choices)
    record_id = models.CharField(max_length=64)
    person = models.ForeignKey(
        "intake.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="access_log"
    )
    path = models.CharField(max_length=500)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "access log entries"
        indexes = [
            models.Index(fields=["person", "-at"], name="accesslog_person_at_idx"),
            models.Index(fields=["user", "-at"], name="accesslog_user_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.record_type} {self.record_id}"
