"""factory_boy factories for Harbor's models. Names and dates are fake; no real people."""

from __future__ import annotations

from datetime import date, timedelta

import factory
from django.utils import timezone

from accounts.models import Department, Membership, Role, User
from intake.models import Consent, Intake, IntakeEvent, Person
from referrals.models import Disclosure, Facility, LevelOfCare, Payment, PlacementAttempt
from volunteers.models import OFFER_OPEN_FOR, Offer, Shift, Volunteer

PASSWORD = "correct-horse-battery-staple"


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Test Police Department {n}")
    street_address = "197 Main Street"
    town = "Gloucester"
    postal_code = "01930"
    phone = "+19782833000"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    phone = ""
    # Contacts are verified by default, so pages reach them; ``UserFactory(unverified=True)``
    # for a user who has not entered the codes yet.
    email_verified_at = factory.LazyAttribute(lambda u: timezone.now() if u.email else None)
    phone_verified_at = factory.LazyAttribute(lambda u: timezone.now() if u.phone else None)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    class Params:
        unverified = factory.Trait(email_verified_at=None, phone_verified_at=None)

    @factory.post_generation
    def save_password(self, create, extracted, **kwargs):
        if create:
            self.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    department = factory.SubFactory(DepartmentFactory)
    role = Role.DESK_OFFICER


def user_with_role(role: str, department: Department, **kwargs) -> User:
    user = UserFactory(**kwargs)
    Membership.objects.create(user=user, department=department, role=role)
    return user


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    department = factory.SubFactory(DepartmentFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.LazyFunction(lambda: date(1990, 5, 17))
    preferred_language = "en"


class IntakeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Intake
        skip_postgeneration_save = True

    department = factory.SubFactory(DepartmentFactory)
    person = factory.SubFactory(PersonFactory, department=factory.SelfAttribute("..department"))
    logged_by = factory.SubFactory(UserFactory)
    arrived_at = factory.LazyFunction(timezone.now)
    companion_needed_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def first_event(self, create, extracted, **kwargs):
        if create:
            IntakeEvent.objects.create(
                intake=self, to_status=self.status, actor=self.logged_by, at=self.arrived_at
            )


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    intake = factory.SubFactory(IntakeFactory)
    department = factory.SelfAttribute("intake.department")
    person = factory.SelfAttribute("intake.person")
    recorded_by = factory.SelfAttribute("intake.logged_by")
    patient_name = factory.LazyAttribute(lambda c: f"{c.person.first_name} {c.person.last_name}")
    disclosing_party = "Test Police Department walk-in program"
    information = "Contact details and treatment needs"
    recipients = "Treatment facilities the program refers me to"
    purpose = "Treatment placement and follow-up"
    expires_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=365))
    notice_acknowledged = True
    signature = factory.LazyAttribute(lambda c: c.patient_name)


class VolunteerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Volunteer

    user = factory.SubFactory(UserFactory)
    phone = "+19785550100"
    # Verified by default (so the suite pages them); ``VolunteerFactory(unverified=True)`` has
    # proved neither their phone nor their e-mail.
    phone_verified_at = factory.LazyAttribute(lambda v: timezone.now() if v.phone else None)
    languages = factory.LazyFunction(lambda: ["en"])
    background_check_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    training_completed_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=20))
    confidentiality_agreement_signed_on = factory.LazyFunction(
        lambda: timezone.localdate() - timedelta(days=20)
    )

    class Params:
        unverified = factory.Trait(phone_verified_at=None, user__unverified=True)


class ShiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shift

    volunteer = factory.SubFactory(VolunteerFactory)
    department = factory.SubFactory(DepartmentFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    ends_at = factory.LazyAttribute(lambda s: s.starts_at + timedelta(hours=8))


class FacilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Facility

    name = factory.Sequence(lambda n: f"Recovery Center {n}")
    street_address = factory.Sequence(lambda n: f"{n} Harbor Road")
    town = "Gloucester"
    levels_of_care = factory.LazyFunction(lambda: [LevelOfCare.WM_37, LevelOfCare.CLINICALLY_MANAGED_HIGH])
    payment_accepted = factory.LazyFunction(lambda: [Payment.MEDICAID])


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer

    intake = factory.SubFactory(IntakeFactory)
    department = factory.SelfAttribute("intake.department")
    volunteer = factory.SubFactory(VolunteerFactory)
    wave = 1
    created_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.created_at + OFFER_OPEN_FOR)


# --- placements (referrals) -------------------------------------------------------------------


class PlacementAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlacementAttempt

    intake = factory.SubFactory(IntakeFactory)
    department = factory.SelfAttribute("intake.department")
    facility = factory.SubFactory(FacilityFactory)
    attempted_by = factory.SelfAttribute("intake.logged_by")
    outcome = PlacementAttempt.Outcome.NO_BED


class DisclosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Disclosure

    intake = factory.SubFactory(IntakeFactory)
    consent = factory.SubFactory(ConsentFactory, intake=factory.SelfAttribute("..intake"))
    department = factory.SelfAttribute("intake.department")
    person = factory.SelfAttribute("intake.person")
    facility = factory.SubFactory(FacilityFactory)
    recipient = factory.SelfAttribute("facility.name")
    information = "Name: Test Person"
    purpose = "Referral for a treatment placement"
    disclosed_by = factory.SelfAttribute("intake.logged_by")
