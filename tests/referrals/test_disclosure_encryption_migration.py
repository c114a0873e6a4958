"""Issue 13 finding 14: migration ``referrals.0006`` encrypts the disclosures' text written in
plain before it, in the disclosures and in their change history, and recovers which items were
sent."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from referrals.models import Disclosure
from tests.factories import ConsentFactory, DisclosureFactory, IntakeFactory

BEFORE = [("referrals", "0005_followup_open_due_index")]
TEXT = "Name: Wren Okafor\nInsurance: MassHealth / Medicaid (member ID MBR7Q4Z81X)"


def _migrate(targets=None) -> None:
    """Migrate to ``targets``; without, to the latest migration of every app (as the other
    tests expect to find the database)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_plain_disclosed_text_is_encrypted_and_purged_from_the_history(department, officer):
    intake = IntakeFactory(department=department, logged_by=officer)
    disclosure = DisclosureFactory(intake=intake, consent=ConsentFactory(intake=intake))
    _migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE referrals_disclosure SET information = %s WHERE id = %s", [TEXT, disclosure.pk]
            )
            cursor.execute(
                "SELECT count(*) FROM referrals_disclosurehistory WHERE information LIKE '%%MBR7Q4Z81X%%'"
            )
            assert cursor.fetchone()[0] == 1
    finally:
        _migrate()

    disclosure = Disclosure.objects.get(pk=disclosure.pk)
    assert disclosure.information == TEXT
    assert disclosure.items == ["name", "insurance"]
    with connection.cursor() as cursor:
        for table in ("referrals_disclosure", "referrals_disclosurehistory"):
            cursor.execute(f"SELECT count(*) FROM {table} WHERE information LIKE '%%MBR7Q4Z81X%%'")  # noqa: S608
            assert cursor.fetchone()[0] == 0, table
