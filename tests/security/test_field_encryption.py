"""Encryption at rest: the database (history tables included) holds tokens, the app reads text."""

from __future__ import annotations

import importlib
from io import StringIO
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from accounts.checks import field_encryption_key_not_the_development_one
from config.fields import DecryptionError
from intake.models import Consent, Intake, IntakeHistory, Person
from referrals.models import FollowUp, PlacementAttempt

from ..factories import IntakeFactory, PlacementAttemptFactory
from ..intake.helpers import edit_data

pytestmark = pytest.mark.django_db

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
NOTES = "Brother Jonah drives a blue van; do not call his work number"
MEMBER_ID = "MH-4471-0093"


def stored(table: str, column: str, pk) -> str:
    """The column as PostgreSQL holds it, bypassing the model."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.fixture
def walk_in(officer, department):
    return IntakeFactory(
        department=department,
        logged_by=officer,
        notes=NOTES,
        medical_concerns="Hepatitis C",
        person__insurance_member_id=MEMBER_ID,
    )


def test_database_holds_tokens_and_the_model_reads_the_text(walk_in):
    for table, column, pk, text in [
        ("intake_intake", "notes", walk_in.pk, NOTES),
        ("intake_intake", "medical_concerns", walk_in.pk, "Hepatitis C"),
        ("intake_person", "insurance_member_id", walk_in.person_id, MEMBER_ID),
    ]:
        value = stored(table, column, pk)
        assert text not in value
        assert value.startswith("gAAAAA"), column  # a Fernet token

    intake = Intake.objects.select_related("person").get(pk=walk_in.pk)
    assert intake.notes == NOTES
    assert intake.medical_concerns == "Hepatitis C"
    assert intake.person.insurance_member_id == MEMBER_ID
    assert Person.objects.values_list("insurance_member_id", flat=True).get() == MEMBER_ID


def test_the_same_text_is_never_the_same_token(walk_in):
    other = IntakeFactory(department=walk_in.department, logged_by=walk_in.logged_by, notes=NOTES)
    assert stored("intake_intake", "notes", walk_in.pk) != stored("intake_intake", "notes", other.pk)


def test_notes_of_placement_attempts_follow_ups_and_revocations_are_encrypted(walk_in, officer):
    attempt = PlacementAttemptFactory(intake=walk_in, department=walk_in.department, note="Ask for Dana")
    assert "Dana" not in stored("referrals_placementattempt", "note", attempt.pk)
    assert PlacementAttempt.objects.get(pk=attempt.pk).note == "Ask for Dana"
    for model in (FollowUp, Consent):
        field = model._meta.get_field("note" if model is FollowUp else "revocation_note")
        assert type(field).__name__ == "EncryptedCharField", model


def test_bulk_writes_encrypt_too(walk_in):
    Intake.objects.filter(pk=walk_in.pk).update(notes="Updated in bulk")
    person = walk_in.person
    person.insurance_member_id = "BULK-1"
    Person.objects.bulk_update([person], ["insurance_member_id"])

    assert "bulk" not in stored("intake_intake", "notes", walk_in.pk)
    assert "BULK" not in stored("intake_person", "insurance_member_id", person.pk)
    fresh = Intake.objects.select_related("person").get(pk=walk_in.pk)
    assert (fresh.notes, fresh.person.insurance_member_id) == ("Updated in bulk", "BULK-1")


def test_an_empty_value_is_stored_empty(walk_in):
    Intake.objects.filter(pk=walk_in.pk).update(notes="")
    assert stored("intake_intake", "notes", walk_in.pk) == ""
    assert Intake.objects.get(pk=walk_in.pk).notes == ""


def test_the_edit_form_saves_and_shows_the_text(officer_client, walk_in):
    url = reverse("intake:edit", kwargs={"intake_id": walk_in.pk})
    response = officer_client.post(
        url, edit_data(walk_in, **{"intake-notes": "Sister on her way", "person-insurance_member_id": "X-77"})
    )
    assert response.status_code == 302
    assert "Sister" not in stored("intake_intake", "notes", walk_in.pk)
    assert "X-77" not in stored("intake_person", "insurance_member_id", walk_in.person_id)

    page = officer_client.get(url)
    assert "Sister on her way" in page.content.decode()
    assert "X-77" in page.content.decode()


def test_the_database_cannot_search_an_encrypted_field(walk_in):
    with pytest.raises(FieldError, match="encrypted"):
        Intake.objects.filter(notes=NOTES).exists()
    with pytest.raises(FieldError, match="encrypted"):
        Intake.objects.filter(notes__icontains="Jonah").exists()
    with pytest.raises(FieldError, match="encrypted"):
        Person.objects.filter(insurance_member_id__in=[MEMBER_ID]).exists()
    # Blank or not is the one thing it can tell.
    assert Intake.objects.exclude(notes="").get() == walk_in
    assert not Intake.objects.filter(notes="").exists()


def test_a_value_no_key_can_read_is_an_error_without_the_value(walk_in, settings):
    settings.HARBOR_FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(DecryptionError) as error:
        Intake.objects.get(pk=walk_in.pk)
    assert "A value of intake.Intake." in str(error.value)
    assert "Jonah" not in str(error.value)
    assert "Hepatitis" not in str(error.value)


def test_rotation_re_encrypts_everything_with_the_first_key(settings, officer, department):
    settings.HARBOR_FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    walk_in = IntakeFactory(department=department, logged_by=officer, notes=NOTES)
    Intake.objects.filter(pk=walk_in.pk).update(mental_health_concerns="Anxiety")  # a history event too
    before = stored("intake_intake", "notes", walk_in.pk)
    history_before = list(IntakeHistory.objects.filter(pgh_obj=walk_in).values_list("pgh_id", "notes"))
    assert len(history_before) == 2

    # A new key goes first: values under the old one still read.
    settings.HARBOR_FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert Intake.objects.get(pk=walk_in.pk).notes == NOTES

    out = StringIO()
    call_command("rotate_field_encryption", "--batch", "1", stdout=out)
    assert "intake.Intake: 2 values re-encrypted" in out.getvalue()
    assert "intake.IntakeHistory: 3 values re-encrypted" in out.getvalue()

    # The old key can go: the record and its history read with the new key alone.
    settings.HARBOR_FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    fresh = Intake.objects.get(pk=walk_in.pk)
    assert (fresh.notes, fresh.mental_health_concerns) == (NOTES, "Anxiety")
    assert fresh.updated_at == walk_in.updated_at  # rewritten in SQL: auto_now is not touched
    assert stored("intake_intake", "notes", walk_in.pk) != before
    assert [notes for _, notes in history_before] == [
        event.notes for event in IntakeHistory.objects.filter(pgh_obj=walk_in).order_by("pgh_id")
    ]
    # Rotation is not a change of the record: no new history event.
    assert IntakeHistory.objects.filter(pgh_obj=walk_in).count() == 2

    # Running it again has nothing left to do.
    out = StringIO()
    call_command("rotate_field_encryption", stdout=out)
    assert "Done: 0 values re-encrypted" in out.getvalue()


def test_the_data_migration_encrypts_plaintext_and_leaves_tokens(walk_in):
    migration = importlib.import_module("intake.migrations.0005_encrypt_notes_and_member_id")
    other = IntakeFactory(department=walk_in.department, logged_by=walk_in.logged_by, notes="Already a token")
    token = stored("intake_intake", "notes", other.pk)
    with connection.cursor() as cursor:  # as the rows were before the migration: plaintext
        cursor.execute("UPDATE intake_intake SET notes = %s WHERE id = %s", ["Plain words", walk_in.pk])
        cursor.execute(
            "UPDATE intake_person SET insurance_member_id = %s WHERE id = %s", ["PLAIN-1", walk_in.person_id]
        )

    migration.encrypt_existing(None, SimpleNamespace(connection=connection))
    migration.encrypt_existing(None, SimpleNamespace(connection=connection))  # twice: harmless

    assert "Plain" not in stored("intake_intake", "notes", walk_in.pk)
    assert stored("intake_intake", "notes", other.pk) == token
    fresh = Intake.objects.select_related("person").get(pk=walk_in.pk)
    assert (fresh.notes, fresh.person.insurance_member_id) == ("Plain words", "PLAIN-1")

    migration.decrypt_existing(None, SimpleNamespace(connection=connection))
    assert stored("intake_intake", "notes", walk_in.pk) == "Plain words"


def test_deploy_check_refuses_the_development_key_with_debug_off(settings):
    settings.DEBUG = False
    settings.HARBOR_FIELD_ENCRYPTION_KEYS = [django_settings.HARBOR_DEV_FIELD_ENCRYPTION_KEY]
    assert [e.id for e in field_encryption_key_not_the_development_one(None)] == ["harbor.E003"]

    # Still an error as an old key: values under it would be readable by anyone.
    settings.HARBOR_FIELD_ENCRYPTION_KEYS = [NEW_KEY, django_settings.HARBOR_DEV_FIELD_ENCRYPTION_KEY]
    assert [e.id for e in field_encryption_key_not_the_development_one(None)] == ["harbor.E003"]

    settings.HARBOR_FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert field_encryption_key_not_the_development_one(None) == []


def test_deploy_check_allows_the_development_key_in_debug(settings):
    settings.DEBUG = True
    settings.HARBOR_FIELD_ENCRYPTION_KEYS = [django_settings.HARBOR_DEV_FIELD_ENCRYPTION_KEY]
    assert field_encryption_key_not_the_development_one(None) == []
