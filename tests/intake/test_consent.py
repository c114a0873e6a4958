"""The 42 CFR 2.31 consent screen, what the intake page says about consent, and revocation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.models import PART2_NOTICE_2_22, REVOCATION_TERMS, Consent
from tests.conftest import client_for
from tests.factories import ConsentFactory, IntakeFactory

from .helpers import consent_data

NO_CONSENT = "No valid consent yet"
CONSENT_ON_FILE = "A valid consent is on file."


@pytest.fixture
def walk_in(officer, department):
    return IntakeFactory(
        department=department, logged_by=officer, person__first_name="Wren", person__last_name="Okafor"
    )


def _consent_url(intake) -> str:
    return reverse("intake:consent", args=[intake.pk])


def _detail_url(intake) -> str:
    return reverse("intake:detail", args=[intake.pk])


def _revoke_url(consent) -> str:
    return reverse("intake:consent_revoke", args=[consent.pk])


def test_consent_screen_shows_the_part_2_notice_and_prefilled_terms(officer_client, walk_in):
    response = officer_client.get(_consent_url(walk_in))

    assert response.status_code == 200
    assert "Notice about the confidentiality of your records (42 CFR 2.22)" in response.text
    assert "may never be used to investigate or bring criminal charges against you" in response.text
    assert "Your right to take this back" in response.text
    assert "You may take back (revoke) this consent at any time" in response.text
    assert 'value="Wren Okafor"' in response.text
    assert "Gloucester Police Department — the walk-in recovery program (Harbor)" in response.text
    assert "To find me a place in treatment" in response.text
    one_year = (timezone.localdate() + timedelta(days=365)).isoformat()
    assert f'value="{one_year}"' in response.text
    assert '<option value="person" selected>' in response.text


def test_consent_screen_for_a_minor_is_signed_by_the_guardian(officer_client, officer, department):
    minor = IntakeFactory(
        department=department,
        logged_by=officer,
        under_18=True,
        guardian_name="Pat Quinn",
        guardian_relationship="Father",
        guardian_consent_at=timezone.now(),
    )

    response = officer_client.get(_consent_url(minor))

    assert '<option value="guardian" selected>' in response.text


def test_intake_page_says_there_is_no_valid_consent_until_one_is_recorded(officer_client, walk_in):
    response = officer_client.get(_detail_url(walk_in))

    assert NO_CONSENT in response.text
    assert CONSENT_ON_FILE not in response.text
    assert _consent_url(walk_in) in response.text


def test_recording_a_full_consent_keeps_every_element_of_2_31(officer_client, officer, walk_in):
    before = timezone.now()
    expires_on = timezone.localdate() + timedelta(days=180)

    response = officer_client.post(
        _consent_url(walk_in), consent_data(expires_on=expires_on.isoformat()), follow=True
    )

    assert response.redirect_chain == [(_detail_url(walk_in), 302)]
    assert "Consent recorded. Thank you." in response.text
    assert CONSENT_ON_FILE in response.text
    assert NO_CONSENT not in response.text
    assert "<strong>Valid</strong>" in response.text
    consent = Consent.objects.get()
    assert consent.intake == walk_in
    assert consent.person == walk_in.person
    assert consent.department == walk_in.department
    assert consent.patient_name == "Tamsin Okafor"
    assert consent.disclosing_party == "Gloucester Police Department walk-in program"
    assert consent.information == "That I asked for help, my contact details and treatment needs"
    assert consent.recipients == "Treatment facilities the program refers me to"
    assert consent.purpose == "To find me a treatment placement and follow up"
    assert consent.revocation_terms == REVOCATION_TERMS
    assert consent.expires_on == expires_on
    assert consent.signer == Consent.Signer.PERSON
    assert consent.signature == "Tamsin Okafor"
    assert before <= consent.signed_at <= timezone.now()
    assert consent.notice_acknowledged is True
    assert consent.notice_text == PART2_NOTICE_2_22
    assert consent.recorded_by == officer
    assert consent.revoked_at is None
    assert consent.is_valid


def test_consent_may_end_with_an_event_instead_of_a_date(officer_client, walk_in):
    response = officer_client.post(
        _consent_url(walk_in),
        consent_data(expires_on="", expiry_event="When I finish my treatment program"),
        follow=True,
    )

    assert CONSENT_ON_FILE in response.text
    assert "until When I finish my treatment program" in response.text
    consent = Consent.objects.get()
    assert (consent.expires_on, consent.expiry_event) == (None, "When I finish my treatment program")


def test_coordinator_can_record_consent_too(coordinator_client, coordinator, walk_in):
    coordinator_client.post(_consent_url(walk_in), consent_data())

    assert Consent.objects.get().recorded_by == coordinator


def _yesterday() -> str:
    return (timezone.localdate() - timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"signature": ""}, "This field is required."),
        ({"signature": "   "}, "This field is required."),
        ({"notice_acknowledged": None}, "This field is required."),
        ({"expires_on": "", "expiry_event": ""}, "Give an expiry date or an event that ends this consent."),
        ({"expires_on": "yesterday"}, "The expiry date cannot be in the past."),
        ({"patient_name": ""}, "This field is required."),
        ({"disclosing_party": ""}, "This field is required."),
        ({"information": ""}, "This field is required."),
        ({"recipients": ""}, "This field is required."),
        ({"purpose": ""}, "This field is required."),
        ({"signer": "the-officer"}, "Select a valid choice."),
    ],
    ids=[
        "no-signature",
        "blank-signature",
        "notice-not-ticked",
        "no-expiry",
        "expired-date",
        "no-patient",
        "no-discloser",
        "no-information",
        "no-recipients",
        "no-purpose",
        "bad-signer",
    ],
)
def test_incomplete_consent_is_refused_and_nothing_is_saved(officer_client, walk_in, overrides, message):
    if overrides.get("expires_on") == "yesterday":
        overrides = {**overrides, "expires_on": _yesterday()}

    response = officer_client.post(_consent_url(walk_in), consent_data(**overrides))

    assert response.status_code == 200
    assert message in response.text
    assert "Notice about the confidentiality of your records" in response.text  # the same screen
    assert not Consent.objects.exists()
    assert NO_CONSENT in officer_client.get(_detail_url(walk_in)).text


@pytest.fixture
def recorded_consent(walk_in):
    return ConsentFactory(intake=walk_in)


def test_revoking_makes_the_consent_invalid(officer_client, officer, walk_in, recorded_consent):
    response = officer_client.post(
        _revoke_url(recorded_consent), {"note": "Asked in person at the desk"}, follow=True
    )

    assert response.redirect_chain == [(_detail_url(walk_in), 302)]
    assert "Consent revoked. Nothing more will be shared under it." in response.text
    assert "<strong>Revoked</strong>" in response.text
    assert NO_CONSENT in response.text
    assert CONSENT_ON_FILE not in response.text
    recorded_consent.refresh_from_db()
    assert recorded_consent.revoked_at is not None
    assert recorded_consent.revoked_by == officer
    assert recorded_consent.revocation_note == "Asked in person at the desk"
    assert not recorded_consent.is_valid


def test_revoking_twice_explains_rather_than_failing(officer_client, walk_in, recorded_consent):
    officer_client.post(_revoke_url(recorded_consent), {"note": ""})
    first_revoked_at = Consent.objects.get().revoked_at

    response = officer_client.post(_revoke_url(recorded_consent), {"note": "again"}, follow=True)

    assert response.status_code == 200
    assert "This consent was already revoked." in response.text
    consent = Consent.objects.get()
    assert consent.revoked_at == first_revoked_at
    assert consent.revocation_note == ""


def test_revocation_note_with_control_characters_is_refused(officer_client, walk_in, recorded_consent):
    response = officer_client.post(_revoke_url(recorded_consent), {"note": "by phone\x1b[31m"}, follow=True)

    assert response.status_code == 200
    assert "The note could not be saved" in response.text
    assert Consent.objects.get().revoked_at is None


def test_revoking_by_get_is_refused(officer_client, recorded_consent):
    assert officer_client.get(_revoke_url(recorded_consent)).status_code == 405
    assert Consent.objects.get().revoked_at is None


def test_expired_consent_is_not_valid(officer_client, walk_in):
    consent = ConsentFactory(intake=walk_in, expires_on=timezone.localdate() - timedelta(days=1))

    response = officer_client.get(_detail_url(walk_in))

    assert not consent.is_valid
    assert "<strong>Expired</strong>" in response.text
    assert NO_CONSENT in response.text
    assert CONSENT_ON_FILE not in response.text


def test_consent_expiring_today_is_still_valid(officer_client, walk_in):
    ConsentFactory(intake=walk_in, expires_on=timezone.localdate())

    response = officer_client.get(_detail_url(walk_in))

    assert CONSENT_ON_FILE in response.text


@pytest.mark.parametrize(
    "intruder", ["other_officer", "other_coordinator", "second_officer", "volunteer_user"]
)
def test_someone_who_cannot_see_the_walk_in_gets_404_on_revoke(request, recorded_consent, intruder):
    client = client_for(request.getfixturevalue(intruder))

    response = client.post(_revoke_url(recorded_consent), {"note": ""})

    assert response.status_code == 404
    assert Consent.objects.get().revoked_at is None


def test_another_departments_user_gets_404_on_the_consent_screen(other_coordinator, walk_in):
    client = client_for(other_coordinator)

    assert client.get(_consent_url(walk_in)).status_code == 404
    assert client.post(_consent_url(walk_in), consent_data()).status_code == 404
    assert not Consent.objects.exists()
