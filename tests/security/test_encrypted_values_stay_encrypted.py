"""Issue 13 finding 14: no encrypted field is ever copied into a plain column.

A person gets a distinctive value in every encrypted field, through the pages, then every flow
runs (walk-in, the record, consent, disclosure, calls, admission, follow-up, revocation); every
text column of every table (history tables and the access log included) is then searched for
each value."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from config.fields import encrypted_columns
from intake.models import Consent, Intake
from referrals.models import Disclosure, FollowUp

from ..conftest import client_for
from ..factories import FacilityFactory
from ..intake.helpers import consent_data, edit_data, walk_in_data
from ..referrals.placement_helpers import admitted, local_input

SECRETS = {
    "insurance_member_id": "MBR7Q4Z81X",
    "medical_concerns": "Zorvexian hepatitis",
    "mental_health_concerns": "Quillmore anxiety",
    "notes": "Pelbrook shelter bunk",
    "revocation_note": "Revoked via Trandle phone",
    "attempt_note": "Spoke to Ysolde on intake",
    "follow_up_note": "Vexmoor clinic again",
}


def _text_columns() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() "
            "AND (data_type IN ('text', 'character varying', 'character', 'json', 'jsonb') "
            "OR data_type = 'ARRAY')"
        )
        return cursor.fetchall()


def _tables_holding(value: str) -> list[str]:
    found = []
    with connection.cursor() as cursor:
        for table, column in _text_columns():
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s',  # noqa: S608
                [f"%{value}%"],
            )
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


@pytest.mark.django_db
def test_no_encrypted_value_is_found_in_any_text_column(department, officer, coordinator):
    officer_client, coordinator_client = client_for(officer), client_for(coordinator)
    officer_client.post(reverse("intake:create"), walk_in_data(first_name="Wren", last_name="Okafor"))
    intake = Intake.objects.get()
    response = coordinator_client.post(
        reverse("intake:edit", args=[intake.pk]),
        edit_data(
            intake,
            **{
                "person-insurance_member_id": SECRETS["insurance_member_id"],
                "intake-medical_concerns": SECRETS["medical_concerns"],
                "intake-mental_health_concerns": SECRETS["mental_health_concerns"],
                "intake-notes": SECRETS["notes"],
            },
        ),
    )
    assert response.status_code == 302
    intake.refresh_from_db()
    assert intake.person.insurance_member_id == SECRETS["insurance_member_id"]
    assert intake.notes == SECRETS["notes"]

    coordinator_client.post(
        reverse("intake:consent", args=[intake.pk]),
        consent_data(patient_name="Wren Okafor", signature="Wren"),
    )
    consent = Consent.objects.get()
    facility = FacilityFactory(name="Lahey Behavioral Health")
    response = coordinator_client.post(
        reverse("referrals:disclosure_create", kwargs={"intake_id": intake.pk}),
        {
            "facility": facility.pk,
            "items": ["name", "date_of_birth", "insurance", "level_of_care"],
            "level_of_care": "3.7-WM",
            "purpose": "Referral for a treatment placement",
        },
    )
    assert response.status_code == 302, response.content
    disclosure = Disclosure.objects.get()
    # The sheet still carries the member id, read from the encrypted store.
    sheet = coordinator_client.get(reverse("referrals:disclosure_detail", args=[disclosure.pk]))
    assert f"member ID {SECRETS['insurance_member_id']}" in sheet.text
    assert disclosure.items == ["name", "date_of_birth", "insurance", "level_of_care"]

    Intake.objects.filter(pk=intake.pk).update(
        status=Intake.Status.SEARCHING_PLACEMENT,
        companion_needed_at=None,
        arrived_at=timezone.now() - timedelta(hours=3),
    )
    response = coordinator_client.post(
        reverse("referrals:attempt_create", kwargs={"intake_id": intake.pk}),
        {
            "facility": facility.pk,
            "outcome": "no_bed",
            "attempted_at": local_input(timezone.now(), department),
            "note": SECRETS["attempt_note"],
        },
    )
    assert response.status_code == 302
    admitted(intake, coordinator, at=timezone.now() - timedelta(hours=1))
    follow_up = FollowUp.objects.filter(intake=intake).order_by("due_on").first()
    response = coordinator_client.post(
        reverse("referrals:follow_up_record", kwargs={"follow_up_id": follow_up.pk}),
        {
            "outcome": "in_treatment",
            "completed_at": local_input(timezone.now(), department),
            "note": SECRETS["follow_up_note"],
        },
    )
    assert response.status_code == 302
    coordinator_client.post(
        reverse("intake:consent_revoke", args=[consent.pk]), {"note": SECRETS["revocation_note"]}
    )
    consent.refresh_from_db()
    assert consent.revocation_note == SECRETS["revocation_note"]

    leaks = {name: _tables_holding(value) for name, value in SECRETS.items()}
    assert leaks == {name: [] for name in SECRETS}


def test_every_encrypted_field_is_covered():
    names = {field.name for _, fields in encrypted_columns() for field in fields}
    assert names <= {*SECRETS, "note", "information"}
