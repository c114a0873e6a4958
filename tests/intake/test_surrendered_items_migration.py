"""Issue 13 finding 13: the free text of "surrendered items" is mapped to types and erased, from
the intakes and from their change history, by migration ``intake.0009``."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from intake.models import Intake
from tests.factories import IntakeFactory

BEFORE = [("intake", "0008_open_status_index_in_arrival_order")]
TEXTS = {
    "3.5 g heroin in 2 baggies, found in left jacket pocket, lot A1234": ["drugs"],
    "Two used needles and a spoon": ["syringes", "equipment"],
    "Narcan kit": ["naloxone", "equipment"],
    "A backpack": ["other"],
}


def _migrate(targets=None) -> None:
    """Migrate to ``targets``; without, to the latest migration of every app (as the other
    tests expect to find the database)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_free_text_is_mapped_to_types_and_erased_from_the_history(department, officer):
    intakes = {text: IntakeFactory(department=department, logged_by=officer) for text in TEXTS}
    _migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            for text, intake in intakes.items():
                # Two saves, as the edit page would: the history snapshots the text each time.
                for _ in range(2):
                    cursor.execute(
                        "UPDATE intake_intake SET items_surrendered = true, surrendered_items = %s, "
                        "updated_at = now() WHERE id = %s",
                        [text, intake.pk],
                    )
            cursor.execute(
                "SELECT count(*) FROM intake_intakehistory WHERE surrendered_items LIKE '%%heroin%%'"
            )
            assert cursor.fetchone()[0] == 2
    finally:
        _migrate()

    for text, intake in intakes.items():
        assert Intake.objects.get(pk=intake.pk).surrendered_item_types == TEXTS[text]
    with connection.cursor() as cursor:
        for table in ("intake_intake", "intake_intakehistory"):
            cursor.execute(f"SELECT row_to_json(t)::text FROM {table} t")  # noqa: S608
            rows = [row[0] for row in cursor.fetchall()]
            assert rows
            for word in ("heroin", "baggies", "jacket", "A1234", "needles", "backpack"):
                assert not any(word in row for row in rows), (table, word)
        cursor.execute(
            "SELECT count(*) FROM information_schema.columns WHERE column_name = 'surrendered_items'"
        )
        assert cursor.fetchone()[0] == 0
