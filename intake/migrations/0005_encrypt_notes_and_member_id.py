"""Encrypt at rest the person's insurance member id and the free text about them (config.fields).

The columns become ``text`` (a token is longer than its text), then every existing plaintext
value is encrypted in place with the first key of HARBOR_FIELD_ENCRYPTION_KEYS. Values that are
already tokens are left, so running it again is harmless. Reversible: decrypts in place.
"""

from django.db import migrations

import config.fields

COLUMNS = {
    "intake_person": ["insurance_member_id"],
    "intake_intake": ["notes", "medical_concerns", "mental_health_concerns"],
    "intake_consent": ["revocation_note"],
}


def encrypt_existing(apps, schema_editor):
    for table, columns in COLUMNS.items():
        config.fields.rewrite_columns(
            schema_editor.connection, table=table, pk="id", columns=columns, change=config.fields.encrypt_plaintext
        )


def decrypt_existing(apps, schema_editor):
    for table, columns in COLUMNS.items():
        config.fields.rewrite_columns(
            schema_editor.connection, table=table, pk="id", columns=columns, change=config.fields.decrypt_token
        )


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0004_person_anonymised_at"),
    ]

    operations = [
        migrations.AlterField(
            model_name="person",
            name="insurance_member_id",
            field=config.fields.EncryptedCharField(blank=True, max_length=50),
        ),
        migrations.AlterField(
            model_name="intake",
            name="notes",
            field=config.fields.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="intake",
            name="medical_concerns",
            field=config.fields.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="intake",
            name="mental_health_concerns",
            field=config.fields.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="consent",
            name="revocation_note",
            field=config.fields.EncryptedCharField(blank=True, max_length=300),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
