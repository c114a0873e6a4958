"""VACUUM the tables whose free text (surrendered items, intake 0009) and plain member ids
(disclosures, referrals 0006) were erased or encrypted in place: until then the old row versions,
with the old values, stay in the tables' files. VACUUM cannot run in a transaction: this
migration is not atomic, and does nothing else."""

from django.db import migrations

TABLES = ("intake_intake", "intake_intakehistory", "referrals_disclosure", "referrals_disclosurehistory")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("intake", "0010_erasure_and_history_guard"),
        ("referrals", "0006_encrypt_disclosed_information"),
    ]

    operations = [migrations.RunSQL(f"VACUUM (ANALYZE) {table}", migrations.RunSQL.noop) for table in TABLES]
