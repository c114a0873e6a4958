"""Sharing with a facility is a disclosure (42 CFR Part 2): refused without a valid consent that
covers the facility, carries the 2.32 notice, and is recorded for the accounting of disclosures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from intake.forms import ConsentForm
from intake.services import consent_revoke
from referrals.models import PART2_NOTICE_2_32, Disclosure
from referrals.placement.selectors import consent_covers, disclosure_allowed, referral_information
from referrals.placement.services import disclosure_record

from ..conftest import client_for
from ..factories import ConsentFactory, FacilityFactory, IntakeFactory


@pytest.fixture
def facility(db):
    return FacilityFactory(name="Lahey Behavioral Health")


@pytest.fixture
def walk_in(department, officer):
    return IntakeFactory(
        department=department,
        logged_by=officer,
        person__first_name="Wren",
        person__last_name="Okafor",
        person__insurance="medicaid",
        person__insurance_member_id="100200300",
        substances=["opioids"],
        medical_concerns="Hepatitis C",
    )


def _share(intake, facility, coordinator, information="Name: Wren Okafor"):
    return disclosure_record(
        intake=intake,
        facility=facility,
        information=information,
        purpose="Referral for a treatment placement",
        actor=coordinator,
    )


def _today():
    return timezone.localdate()


# --- the rule ---------------------------------------------------------------------------------


def test_refused_without_any_consent(walk_in, facility, coordinator):
    assert disclosure_allowed(intake=walk_in, facility_or_recipient=facility, on_date=_today()) is None
    with pytest.raises(
        ValidationError, match="no valid consent of this person covers Lahey Behavioral Health"
    ):
        _share(walk_in, facility, coordinator)
    assert not Disclosure.objects.exists()


def test_refused_under_a_revoked_consent(walk_in, facility, coordinator):
    consent = ConsentFactory(intake=walk_in)
    consent_revoke(consent=consent, actor=coordinator, note="Said so at the desk")

    with pytest.raises(ValidationError):
        _share(walk_in, facility, coordinator)
    assert not Disclosure.objects.exists()


def test_refused_under_an_expired_consent(walk_in, facility, coordinator):
    ConsentFactory(intake=walk_in, expires_on=_today() - timedelta(days=1))

    with pytest.raises(ValidationError):
        _share(walk_in, facility, coordinator)
    assert disclosure_allowed(intake=walk_in, facility_or_recipient=facility, on_date=_today()) is None


def test_a_consent_is_valid_through_its_last_day(walk_in, facility):
    consent = ConsentFactory(intake=walk_in, expires_on=_today())

    assert disclosure_allowed(intake=walk_in, facility_or_recipient=facility, on_date=_today()) == consent
    tomorrow = _today() + timedelta(days=1)
    assert disclosure_allowed(intake=walk_in, facility_or_recipient=facility, on_date=tomorrow) is None


def test_refused_when_the_consent_names_other_recipients(walk_in, facility, coordinator):
    ConsentFactory(intake=walk_in, recipients="Gosnold on Cape Cod; my primary care doctor, Dr. Haines")

    with pytest.raises(ValidationError):
        _share(walk_in, facility, coordinator)


def test_refused_when_another_persons_consent_would_cover_it(
    walk_in, department, officer, facility, coordinator
):
    ConsentFactory(intake=IntakeFactory(department=department, logged_by=officer))

    with pytest.raises(ValidationError):
        _share(walk_in, facility, coordinator)


def test_allowed_by_the_class_of_facilities_the_program_refers_to(walk_in, facility):
    consent = ConsentFactory(intake=walk_in)  # "Treatment facilities the program refers me to"

    assert disclosure_allowed(intake=walk_in, facility_or_recipient=facility, on_date=_today()) == consent


def test_the_consent_forms_own_wording_names_the_class(walk_in, facility):
    wording = ConsentForm.initial_for(walk_in)["recipients"]

    assert consent_covers(consent=ConsentFactory.build(recipients=wording), recipient_name=facility.name)


def test_allowed_when_the_consent_names_the_facility(walk_in, facility):
    consent = ConsentFactory(intake=walk_in, recipients="LAHEY  behavioral health, and my sister Ann")

    assert disclosure_allowed(intake=walk_in, facility_or_recipient=facility, on_date=_today()) == consent
    other = FacilityFactory(name="Gosnold on Cape Cod")
    assert disclosure_allowed(intake=walk_in, facility_or_recipient=other, on_date=_today()) is None


@pytest.mark.parametrize(
    ("recipients", "name", "covered"),
    [
        ("Treatment programs and facilities the program refers me to", "Anywhere", True),
        ("treatment providers that the program refers me to", "Anywhere", True),
        ("Treatment facilities or programs the program refers my child to", "Anywhere", True),
        ("Any treatment facility", "Anywhere", False),  # not the class wording: refused, not guessed
        ("The program", "Anywhere", False),
        ("Lahey Behavioral Health", "Lahey", False),  # part of a name is not the name
        ("Lahey", "Lahey Behavioral Health", False),
        ("Lahey Behavioral Health (Danvers)", "Lahey Behavioral Health", True),
        ("Lahey Behavioral Health in Danvers", "Lahey Behavioral Health", False),
        ("Gosnold on Cape Cod\nLahey Behavioral Health\nmy doctor", "Lahey Behavioral Health", True),
        ("my doctor and Lahey Behavioral Health.", "Lahey Behavioral Health", True),
        ("", "Lahey Behavioral Health", False),
        ("Lahey Behavioral Health", "", False),
    ],
)
def test_what_a_consents_recipients_cover(recipients, name, covered):
    consent = ConsentFactory.build(recipients=recipients)

    assert consent_covers(consent=consent, recipient_name=name) is covered


def test_the_newest_covering_consent_is_the_one_recorded(walk_in, facility, coordinator):
    ConsentFactory(intake=walk_in, signed_at=timezone.now() - timedelta(days=10))
    newest = ConsentFactory(intake=walk_in, signed_at=timezone.now() - timedelta(days=1))
    ConsentFactory(intake=walk_in, recipients="Somewhere else entirely")

    assert _share(walk_in, facility, coordinator).consent == newest


def test_a_consent_signed_later_does_not_cover_an_earlier_day(walk_in, facility):
    ConsentFactory(intake=walk_in)

    yesterday = _today() - timedelta(days=1)
    assert disclosure_allowed(intake=walk_in, facility_or_recipient=facility, on_date=yesterday) is None


def test_the_record_says_who_when_what_why_and_under_which_consent(walk_in, facility, coordinator):
    consent = ConsentFactory(intake=walk_in)
    before = timezone.now()

    disclosure = _share(walk_in, facility, coordinator, information="Name: Wren Okafor\nInsurance: Medicaid")

    disclosure.refresh_from_db()
    assert disclosure.recipient == "Lahey Behavioral Health"
    assert disclosure.facility == facility
    assert before <= disclosure.disclosed_at <= timezone.now()
    assert disclosure.information == "Name: Wren Okafor\nInsurance: Medicaid"
    assert disclosure.purpose == "Referral for a treatment placement"
    assert disclosure.consent == consent
    assert (disclosure.person, disclosure.intake, disclosure.department) == (
        walk_in.person,
        walk_in,
        walk_in.department,
    )
    assert disclosure.disclosed_by == coordinator
    assert disclosure.notice_text == PART2_NOTICE_2_32


def test_the_referral_sheet_carries_the_minimum_and_no_health_details(walk_in):
    text = referral_information(
        person=walk_in.person,
        items=["name", "date_of_birth", "insurance", "level_of_care"],
        level_of_care="3.7-WM",
    )

    assert text.splitlines() == [
        "Name: Wren Okafor",
        "Date of birth: 1990-05-17",
        "Insurance: MassHealth / Medicaid (member ID 100200300)",
        "Level of care needed: 3.7-WM — Medically monitored inpatient withdrawal management",
    ]
    assert "opioid" not in text.lower()
    assert "hepatitis" not in text.lower()


# --- the pages --------------------------------------------------------------------------------


def _url(intake) -> str:
    return reverse("referrals:disclosure_create", kwargs={"intake_id": intake.pk})


def _form(facility, /, **overrides) -> dict:
    data = {
        "facility": facility.pk,
        "items": ["name", "date_of_birth", "insurance", "level_of_care"],
        "level_of_care": "3.7-WM",
        "purpose": "Referral for a treatment placement",
    }
    data.update(overrides)
    return data


def test_the_page_refuses_without_consent_and_links_to_recording_one(coordinator_client, walk_in, facility):
    response = coordinator_client.post(_url(walk_in), _form(facility))

    assert response.status_code == 403
    assert (
        "Nothing was shared: no valid consent of this person covers Lahey Behavioral Health" in response.text
    )
    assert reverse("intake:consent", kwargs={"intake_id": walk_in.pk}) in response.text
    assert not Disclosure.objects.exists()


def test_shared_under_consent_the_sheet_opens_with_the_2_32_notice(coordinator_client, walk_in, facility):
    ConsentFactory(intake=walk_in)

    response = coordinator_client.post(_url(walk_in), _form(facility))

    disclosure = Disclosure.objects.get()
    assert response["Location"] == reverse(
        "referrals:disclosure_detail", kwargs={"disclosure_id": disclosure.pk}
    )
    sheet = coordinator_client.get(response["Location"])
    assert sheet.status_code == 200
    text = sheet.text
    notice = text.index("42 CFR part 2). The federal rules prohibit you from making any further disclosure")
    assert notice < text.index("Referral for treatment") < text.index("Name: Wren Okafor")
    assert "MassHealth / Medicaid (member ID 100200300)" in text
    assert "<script>" not in text
    assert "Hepatitis" not in text
    placement_page = coordinator_client.get(reverse("referrals:placement", kwargs={"intake_id": walk_in.pk}))
    assert "Lahey Behavioral Health" in placement_page.text


def test_the_directory_search_prefills_the_facility_to_share_with(coordinator_client, walk_in, facility):
    response = coordinator_client.get(_url(walk_in) + f"?facility={facility.pk}")

    assert f'<option value="{facility.pk}" selected>' in response.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"items": []}, "This field is required."),
        ({"items": ["name", "substances"]}, "Select a valid choice"),
        ({"items": ["level_of_care"], "level_of_care": ""}, "Choose the level of care needed"),
        ({"purpose": "x" * 301}, "at most 300 characters"),
        ({"purpose": "\x00"}, "Null characters are not allowed."),
        ({"facility": "' OR 1=1 --"}, "Select a valid choice"),
    ],
)
def test_hostile_input_on_the_share_form_is_a_clear_error(
    coordinator_client, walk_in, facility, data, message
):
    ConsentFactory(intake=walk_in)

    response = coordinator_client.post(_url(walk_in), _form(facility, **data))

    assert response.status_code == 200
    assert message in response.text
    assert not Disclosure.objects.exists()


def test_only_coordinators_share(officer_client, walk_in, facility, volunteer_user):
    ConsentFactory(intake=walk_in)

    assert officer_client.post(_url(walk_in), _form(facility)).status_code == 403
    assert client_for(volunteer_user).post(_url(walk_in), _form(facility)).status_code == 404
    assert not Disclosure.objects.exists()


def test_another_departments_coordinator_cannot_read_the_sheet(
    walk_in, facility, coordinator, other_coordinator
):
    ConsentFactory(intake=walk_in)
    disclosure = _share(walk_in, facility, coordinator)

    url = reverse("referrals:disclosure_detail", kwargs={"disclosure_id": disclosure.pk})
    assert client_for(other_coordinator).get(url).status_code == 404
