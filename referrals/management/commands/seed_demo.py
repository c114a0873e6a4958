"""Load a demo department, one login per role, on-call volunteers and treatment facilities.

Running it again reuses what exists: nothing is duplicated, and shifts are topped up so the
next two weeks stay covered. For a laptop or a training server only: the passwords are public.

It lives in referrals, the top layer, because it fills every app (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pghistory
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Department, Membership, Role, User
from accounts.two_factor import demo_totp_secret
from referrals.models import Facility, GenderServed, LevelOfCare, Medication, Payment
from volunteers.models import Shift, ShiftSeries, Volunteer
from volunteers.roster import services as roster_services

DEPARTMENT = {
    "name": "Gloucester Police Department",
    "street_address": "197 Main Street",
    "town": "Gloucester",
    "state": "MA",
    "postal_code": "01930",
    "phone": "+19782831212",
    "time_zone": "America/New_York",
}

# username, first name, last name, role, password
STAFF = [
    ("officer", "Dana", "Reyes", Role.DESK_OFFICER, "harbor-demo-officer"),
    ("coordinator", "Maya", "Lindqvist", Role.COORDINATOR, "harbor-demo-coordinator"),
    ("admin", "Sam", "Okafor", Role.ADMINISTRATOR, "harbor-demo-admin"),
]
VOLUNTEER_PASSWORD = "harbor-demo-volunteer"  # noqa: S105  (a public demo password)

# username, first, last, languages, gender, lived experience, veteran, home town, call any time
VOLUNTEERS = [
    ("volunteer", "Jamie", "Costa", ["en", "pt"], "woman", True, False, "Gloucester", True),
    ("angel.brian", "Brian", "Walsh", ["en"], "man", True, True, "Gloucester", False),
    ("angel.rosa", "Rosa", "Delgado", ["en", "es"], "woman", False, False, "Rockport", False),
    ("angel.tom", "Tom", "Nguyen", ["en", "vi"], "man", True, False, "Essex", False),
    ("angel.carla", "Carla", "Souza", ["pt", "en"], "woman", True, False, "Gloucester", True),
    ("angel.derek", "Derek", "Hall", ["en"], "man", False, True, "Manchester-by-the-Sea", False),
    ("angel.ana", "Ana", "Ferreira", ["en", "pt", "es"], "woman", True, False, "Gloucester", False),
    ("angel.lee", "Lee", "Morgan", ["en"], "nonbinary", True, False, "Ipswich", False),
    ("angel.frank", "Frank", "DiMaio", ["en"], "man", True, True, "Gloucester", False),
    ("angel.grace", "Grace", "Kim", ["en"], "woman", False, False, "Beverly", False),
    ("angel.marcus", "Marcus", "Bell", ["en", "ht"], "man", True, False, "Rockport", True),
    ("angel.ellen", "Ellen", "O'Brien", ["en"], "woman", True, False, "Gloucester", False),
]

FACILITIES = [
    {
        "name": "Cape Ann Recovery House",
        "street_address": "12 Washington Street",
        "town": "Gloucester",
        "postal_code": "01930",
        "phone": "+19785550141",
        "hours": "Admissions 24/7",
        "levels_of_care": [LevelOfCare.WM_37, LevelOfCare.CLINICALLY_MANAGED_HIGH],
        "medications": [Medication.BUPRENORPHINE, Medication.NALTREXONE],
        "gender_served": GenderServed.ALL,
        "payment_accepted": [Payment.MEDICAID, Payment.PRIVATE, Payment.FREE],
        "beds_available": 3,
    },
    {
        "name": "North Shore Withdrawal Management Center",
        "street_address": "400 Cabot Street",
        "town": "Beverly",
        "postal_code": "01915",
        "phone": "+19785550177",
        "hours": "Admissions 24/7",
        "levels_of_care": [LevelOfCare.WM_37, LevelOfCare.WM_4],
        "medications": [Medication.METHADONE, Medication.BUPRENORPHINE],
        "gender_served": GenderServed.ALL,
        "payment_accepted": [Payment.MEDICAID, Payment.MEDICARE, Payment.PRIVATE],
        "beds_available": 0,
    },
    {
        "name": "Harborlight Women's Residential Program",
        "street_address": "88 Elm Street",
        "town": "Salem",
        "postal_code": "01970",
        "phone": "+19785550112",
        "hours": "Admissions Mon–Fri 8 AM – 6 PM",
        "levels_of_care": [LevelOfCare.CLINICALLY_MANAGED_LOW, LevelOfCare.CLINICALLY_MANAGED_HIGH],
        "medications": [Medication.BUPRENORPHINE],
        "gender_served": GenderServed.WOMEN,
        "serves_pregnant_women": True,
        "payment_accepted": [Payment.MEDICAID, Payment.FREE],
        "beds_available": 2,
    },
    {
        "name": "Merrimack Valley Veterans Recovery Program",
        "street_address": "5 River Road",
        "town": "Haverhill",
        "postal_code": "01830",
        "phone": "+19785550163",
        "hours": "Admissions Mon–Sat 7 AM – 7 PM",
        "levels_of_care": [LevelOfCare.INTENSIVE_OUTPATIENT, LevelOfCare.CLINICALLY_MANAGED_HIGH],
        "medications": [Medication.NALTREXONE, Medication.BUPRENORPHINE],
        "gender_served": GenderServed.MEN,
        "payment_accepted": [Payment.MEDICARE, Payment.PRIVATE, Payment.SELF_PAY],
        "beds_available": 5,
    },
    {
        "name": "Essex County Opioid Treatment Program",
        "street_address": "230 Highland Avenue",
        "town": "Salem",
        "postal_code": "01970",
        "phone": "+19785550190",
        "hours": "Dosing daily 6 AM – 2 PM",
        "levels_of_care": [LevelOfCare.OUTPATIENT],
        "medications": [Medication.METHADONE, Medication.BUPRENORPHINE, Medication.NALTREXONE],
        "gender_served": GenderServed.ALL,
        "payment_accepted": [Payment.MEDICAID, Payment.MEDICARE, Payment.PRIVATE, Payment.SELF_PAY],
        "beds_available": None,
    },
]

SHIFT_HOURS = 8
# The demo volunteer's weekly shift: Wednesdays, 6 to 10 PM.
WEEKLY_WEEKDAY, WEEKLY_START, WEEKLY_DURATION = 2, time(18), timedelta(hours=4)
SHIFT_DAYS = 14
VOLUNTEERS_PER_SHIFT = 2


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print one login per role."

    def handle(self, *args, **options) -> None:
        with transaction.atomic(), pghistory.context(command="seed_demo"):
            department, _ = Department.objects.get_or_create(name=DEPARTMENT["name"], defaults=DEPARTMENT)
            logins = [self._staff(department, *row) for row in STAFF]
            volunteers = [self._volunteer(department, number, *row) for number, row in enumerate(VOLUNTEERS)]
            shifts_added = self._shifts(department, volunteers)
            shifts_added += self._weekly_shift(department, volunteers[0])
            facilities_added = self._facilities()

        self.stdout.write(self.style.SUCCESS(f"\nDemo data ready: {department.name}, {department.address}"))
        self.stdout.write(
            f"  {len(volunteers)} volunteers ({shifts_added} new shifts, next {SHIFT_DAYS} days covered), "
            f"{Facility.objects.count()} facilities ({facilities_added} new)\n"
        )
        self.stdout.write("  Sign in with these demo logins (public passwords: never for real records).")
        self.stdout.write(
            "  Staff then enter a 6-digit code: add the setup key to an authenticator app, or run"
        )
        self.stdout.write(
            "  `make demo-code DEMO_LOGIN=officer` (or coordinator, admin) for the current code.\n"
        )
        self.stdout.write(f"    {'Role':<22} {'Username':<14} {'Password':<26} Two-factor setup key")
        for role, username, password, secret in [
            *logins,
            (Role.VOLUNTEER, "volunteer", VOLUNTEER_PASSWORD, ""),
        ]:
            self.stdout.write(
                f"    {Role(role).label:<22} {username:<14} {password:<26} {secret or '(optional)'}"
            )
        self.stdout.write("")

    def _user(self, username: str, password: str, **fields) -> User:
        user, created = User.objects.get_or_create(username=username, defaults=fields)
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        return user

    def _staff(self, department: Department, username: str, first: str, last: str, role: str, password: str):
        user = self._user(
            username,
            password,
            display_name=f"{first} {last}",
            first_name=first,
            last_name=last,
            email=f"{username}@demo.harbor.invalid",
            # Demo contacts count as verified, so the demo pages someone (real ones prove it
            # with a code). Coordinators are texted when nobody accepts.
            email_verified_at=timezone.now(),
            **(
                {"phone": "+19785552000", "phone_verified_at": timezone.now()}
                if role == Role.COORDINATOR
                else {}
            ),
            # The administrator is not a superuser: their role's permissions, scoped to their
            # department (superuser is for the operator's account: `manage.py create_operator`).
            is_staff=role == Role.ADMINISTRATOR,
        )
        if user.is_superuser:  # a demo database seeded before administrators stopped being superusers
            User.objects.filter(pk=user.pk).update(is_superuser=False)
        Membership.objects.get_or_create(user=user, department=department, role=role)
        return role, username, password, demo_totp_secret(user)

    def _volunteer(
        self, department, number, username, first, last, languages, gender, lived, veteran, town, anytime
    ):
        user = self._user(
            username,
            VOLUNTEER_PASSWORD,
            first_name=first,
            last_name=last,
            display_name=f"{first} {last}",
            email=f"{username}@demo.harbor.invalid",
            email_verified_at=timezone.now(),
        )
        Membership.objects.get_or_create(user=user, department=department, role=Role.VOLUNTEER)
        today = timezone.localdate()
        volunteer, _ = Volunteer.objects.get_or_create(
            user=user,
            defaults={
                "phone": f"+1978555{1000 + number:04d}",
                "phone_verified_at": timezone.now(),
                "languages": languages,
                "gender": gender,
                "lived_experience": lived,
                "veteran": veteran,
                "home_town": town,
                "call_any_time": anytime,
                "background_check_on": today - timedelta(days=90),
                "training_completed_on": today - timedelta(days=60),
                "confidentiality_agreement_signed_on": today - timedelta(days=60),
            },
        )
        volunteer.departments.add(department)
        return volunteer

    def _shifts(self, department: Department, volunteers: list[Volunteer]) -> int:
        """Eight-hour shifts, two volunteers each, from the start of today for two weeks."""
        tz = department.tzinfo
        start_of_today = datetime.combine(timezone.localdate(timezone=tz), time.min, tzinfo=tz)
        added = 0
        blocks = SHIFT_DAYS * 24 // SHIFT_HOURS
        for block in range(blocks):
            starts_at = start_of_today + timedelta(hours=block * SHIFT_HOURS)
            for seat in range(VOLUNTEERS_PER_SHIFT):
                volunteer = volunteers[(block * VOLUNTEERS_PER_SHIFT + seat) % len(volunteers)]
                ends_at = starts_at + timedelta(hours=SHIFT_HOURS)
                # A shift the volunteer signed up for themself may cover this block already.
                clash = Shift.objects.filter(
                    volunteer=volunteer, starts_at__lt=ends_at, ends_at__gt=starts_at
                )
                if clash.exclude(starts_at=starts_at).exists():
                    continue
                _, created = Shift.objects.get_or_create(
                    volunteer=volunteer,
                    starts_at=starts_at,
                    defaults={"department": department, "ends_at": ends_at},
                )
                added += created
        return added

    def _weekly_shift(self, department: Department, volunteer: Volunteer) -> int:
        """The demo volunteer is also on call every Wednesday evening (a weekly series), which
        never meets their midnight-to-8 blocks above. Extends the series on later runs."""
        series = ShiftSeries.objects.filter(
            volunteer=volunteer, department=department, weekday=WEEKLY_WEEKDAY, start_time=WEEKLY_START
        ).first()
        if series is not None:
            return roster_services.shift_series_extend(series=series).created
        coordinator = User.objects.get(username="coordinator")
        _, extension = roster_services.shift_series_create(
            volunteer=volunteer,
            department=department,
            weekday=WEEKLY_WEEKDAY,
            start_time=WEEKLY_START,
            duration=WEEKLY_DURATION,
            starts_on=timezone.localdate(timezone=department.tzinfo),
            ends_on=None,
            created_by=coordinator,
        )
        return extension.created

    def _facilities(self) -> int:
        added = 0
        for data in FACILITIES:
            facility, created = Facility.objects.get_or_create(
                name=data["name"], street_address=data["street_address"], town=data["town"], defaults=data
            )
            if created:
                facility.capacity_updated_at = timezone.now()
                facility.save(update_fields=["capacity_updated_at"])
            added += created
        return added
