"""Encrypt at rest the free-text notes of placement attempts and follow-ups (config.fields).

As in intake 0005: the columns become ``text``, existing plaintext is encrypted in place (tokens
are left), and the reverse decrypts in place.
"""

from django.db import migrations

import config.fields

COLUMNS = {
    "referrals_placementattempt": ["note"],
    "referrals_followup": ["note"],
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
        ("referrals", "0002_disclosure_followup_placement_placementattempt_and_more"),
    ]

    operations = [
        migrations.AlterField(
            model_name="placementattempt",
            name="note",
            field=config.fields.EncryptedCharField(blank=True, max_length=500),
        ),
        migrations.AlterField(
            model_name="followup",
            name="note",
            field=config.fields.EncryptedCharField(blank=True, max_length=500),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
