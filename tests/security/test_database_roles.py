"""Issue 13 finding 16: the application's database role cannot switch off the access log's or
the change history's append-only guards.

In production the app connects as a role that owns nothing (SECURITY.md, docker-compose.yml):
SELECT, INSERT, UPDATE and DELETE granted, nothing more. Here such a role is created in the test
database (CREATE ROLE is rolled back with the test) and every bypass is tried under SET ROLE."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta
from uuid import uuid4

import pgtrigger
import pytest
from dateutil.relativedelta import relativedelta
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.models import AccessLogEntry
from config.history import HISTORY_GUARD_TRIGGER, history_models, history_tables
from intake.models import Intake, IntakeHistory, Person, PersonHistory
from intake.services.retention import retention_anonymise

from ..factories import IntakeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def app_role(db) -> str:
    name = f"harbor_app_test_{uuid4().hex[:10]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {name} NOLOGIN")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {name}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {name}")
    return name


@contextmanager
def as_role(role: str):
    """Run as ``role`` for the block: SET ROLE inside a savepoint, undone with it."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {role}")
        yield cursor


def _refused(role: str, *statements: str, params=None) -> str:
    """Run ``statements`` as ``role``; the last must fail. Returns the error's text."""
    with pytest.raises(DatabaseError) as error, as_role(role) as cursor:
        for statement in statements:
            cursor.execute(statement, params)
    return str(error.value)


@pytest.fixture
def walk_in(department, officer):
    intake = IntakeFactory(department=department, logged_by=officer, person__first_name="Harriet")
    AccessLogEntry.objects.create(
        user=officer,
        department=department,
        action="view",
        record_type="intake",
        record_id=intake.pk,
        path="/x/",
    )
    return intake


def _append_only_names() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(tgname, ',') FROM pg_trigger WHERE tgname LIKE 'pgtrigger_append_only_%%'"
        )
        return "{" + cursor.fetchone()[0] + "}"


def test_pgtrigger_ignore_does_not_open_the_history_to_the_app_role(app_role, walk_in):
    ignore = _append_only_names()
    for statement in (
        "DELETE FROM intake_intakehistory",
        "UPDATE intake_personhistory SET first_name = 'Forged'",
    ):
        message = _refused(app_role, f"SELECT set_config('pgtrigger.ignore', '{ignore}', false)", statement)
        assert "history is append-only" in message
    # The same through pgtrigger's own switch.
    with pytest.raises(DatabaseError), as_role(app_role), pgtrigger.ignore():
        IntakeHistory.objects.filter(pgh_obj_id=walk_in.pk).delete()
    assert IntakeHistory.objects.filter(pgh_obj_id=walk_in.pk).exists()
    assert PersonHistory.objects.filter(first_name="Harriet").exists()


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        ("ALTER TABLE accounts_accesslogentry DISABLE TRIGGER ALL", "must be owner"),
        (
            "ALTER TABLE accounts_accesslogentry DISABLE TRIGGER accounts_accesslogentry_append_only",
            "must be owner",
        ),
        ("DROP TRIGGER accounts_accesslogentry_append_only ON accounts_accesslogentry", "must be owner"),
        ("TRUNCATE accounts_accesslogentry", "permission denied"),
        ("DELETE FROM accounts_accesslogentry", "access log is append-only"),
        ("UPDATE accounts_accesslogentry SET path = '/'", "access log is append-only"),
        ("SET session_replication_role = replica", "permission denied"),
        ("ALTER TABLE intake_intakehistory DISABLE TRIGGER ALL", "must be owner"),
        (f"ALTER TABLE intake_intakehistory DISABLE TRIGGER {HISTORY_GUARD_TRIGGER}", "must be owner"),
        (f"DROP TRIGGER {HISTORY_GUARD_TRIGGER} ON intake_intakehistory", "must be owner"),
        (
            "CREATE OR REPLACE FUNCTION harbor_history_guard() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RETURN NEW; END; $$",
            "permission denied for schema public",
        ),
        ("TRUNCATE intake_intakehistory", "permission denied"),
        (
            "SELECT harbor_forget_history('accounts_accesslogentry', ARRAY[1]::bigint[])",
            "not a history table",
        ),
    ],
)
def test_the_app_role_cannot_switch_the_guards_off(app_role, walk_in, statement, error):
    assert error in _refused(app_role, statement)
    assert AccessLogEntry.objects.filter(record_id=str(walk_in.pk)).count() == 1
    assert IntakeHistory.objects.filter(pgh_obj_id=walk_in.pk).exists()


def test_forgetting_history_is_refused_for_a_person_not_anonymised(app_role, walk_in):
    event_ids = list(IntakeHistory.objects.filter(pgh_obj_id=walk_in.pk).values_list("pgh_id", flat=True))

    with as_role(app_role) as cursor:
        cursor.execute("SELECT harbor_forget_history('intake_intakehistory', %s)", [event_ids])
        assert cursor.fetchone()[0] == 0

    assert IntakeHistory.objects.filter(pgh_id__in=event_ids).count() == len(event_ids)


def test_retention_still_forgets_history_as_the_app_role(app_role, department, officer):
    now = timezone.now()
    long_ago = now - relativedelta(years=8)
    intake = IntakeFactory(department=department, logged_by=officer, person__first_name="Harriet")
    intake.status, intake.close_reason, intake.closed_at = (
        "closed",
        "ineligible",
        long_ago + timedelta(hours=1),
    )
    intake.save()
    Intake.objects.filter(pk=intake.pk).update(arrived_at=long_ago, created_at=long_ago, updated_at=long_ago)
    Person.objects.filter(pk=intake.person_id).update(created_at=long_ago, updated_at=long_ago)

    with as_role(app_role):
        report = retention_anonymise(now=now)

    assert report.total_people == 1
    assert not PersonHistory.objects.filter(first_name="Harriet").exists()


def test_every_history_table_has_the_role_guard():
    tables = {model._meta.db_table for model in history_models()}
    assert tables <= set(history_tables(connection))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = %s",
            [HISTORY_GUARD_TRIGGER],
        )
        assert tables <= {row[0] for row in cursor.fetchall()}
