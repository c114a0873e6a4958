"""Change history of personal records, kept by PostgreSQL itself (django-pghistory).

A trigger on each tracked table writes an event row for every insert, update and delete — bulk
``QuerySet.update()``, ``bulk_update`` and raw SQL included — into ``<Model>History``: a snapshot
of the row (the new row after an insert or update, the old one for a delete), its label, when,
and a context. The context says who and from where: ``pghistory.middleware.HistoryMiddleware``
attaches the signed-in user's id and the request path (opaque ids only) to every request's
changes, ``config.celery.HarborTask`` the task name to every Celery task's, and management
commands their own name.

Snapshots copy the stored columns, so encrypted fields (``config.fields``) stay encrypted in
the history tables. History tables are append-only, twice over:

- pgtrigger's ``append_only`` trigger refuses UPDATE and DELETE unless the session lists it in
  ``pgtrigger.ignore``, a setting any connection may change;
- so ``harbor_history_guard`` (``HISTORY_GUARD_SQL``, on every history table, installed by
  migration ``intake.0010`` and again after every ``migrate``) refuses UPDATE and DELETE to any
  role that does not own the table, whatever ``pgtrigger.ignore`` says. In production the
  application runs as a role that owns nothing (SECURITY.md), so it cannot rewrite history.

Only two things step around them: retention and erasure on request (``intake.services.retention``, which
must not keep what it anonymises) through ``harbor_forget_history``, a SECURITY DEFINER function
that deletes only the events of people already anonymised; and key rotation
(``rotate_field_encryption``), run as the owner role, with ``pgtrigger.ignore``.
"""

from __future__ import annotations

import pghistory
import pgtrigger

# The trigger on every history table that refuses UPDATE and DELETE (see ``append_only``).
APPEND_ONLY_TRIGGER = "append_only"
# The role check on every history table (not a pgtrigger trigger: ``pgtrigger.ignore`` cannot
# switch it off).
HISTORY_GUARD_TRIGGER = "harbor_history_guard"

HISTORY_GUARD_SQL = """
CREATE OR REPLACE FUNCTION harbor_history_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- The table's owner (the role that runs migrations) may rewrite; nobody else, whatever
    -- pgtrigger.ignore says. Inside harbor_forget_history (SECURITY DEFINER) current_user is
    -- the owner.
    IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'history is append-only: % of % refused to role %', TG_OP, TG_TABLE_NAME, current_user
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def track_changes(*, model_name: str, exclude: tuple[str, ...] = ()):
    """Decorator: keep every insert, update and delete of the model in ``model_name``.

    The tracked row's events are ``row.history`` (newest last by ``pgh_id``). ``exclude`` names
    fields not worth keeping in the snapshot (secrets).
    """
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        model_name=model_name,
        exclude=list(exclude),
        obj_field=pghistory.ObjForeignKey(related_name="history"),
        append_only=True,
    )


def history_models() -> list:
    """Every history (event) model of Harbor's tracked records."""
    from django.apps import apps
    from pghistory.models import Event

    return [
        model
        for model in apps.get_models()
        if issubclass(model, Event) and not model._meta.proxy and model._meta.app_label != "pghistory"
    ]


def rewriting_history(*models):
    """Context manager: let this thread update and delete rows of the history ``models``
    (their pgtrigger append-only triggers are ignored for it alone). Only the tables' owner gets
    past ``harbor_history_guard`` as well: for maintenance run as the owner role. Retention and
    erasure use ``harbor_forget_history`` instead."""
    return pgtrigger.ignore(*(f"{model._meta.label}:{APPEND_ONLY_TRIGGER}" for model in models))


def history_tables(connection) -> list[str]:
    """Every table guarded by pgtrigger's append-only trigger (the history tables), from the
    catalog, so that a migration sees the tables as they are at that point."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE %s AND c.relnamespace = current_schema()::regnamespace ORDER BY 1",
            [f"pgtrigger_{APPEND_ONLY_TRIGGER}_%"],
        )
        return [row[0] for row in cursor.fetchall()]


def install_history_guards(connection) -> list[str]:
    """(Re)create ``harbor_history_guard`` and put it on every history table that lacks it.
    Idempotent; run by migration ``intake.0010`` and after every ``migrate`` (``intake.apps``),
    so a history table added later is guarded too. Returns the tables newly guarded."""
    quote = connection.ops.quote_name
    added = []
    with connection.cursor() as cursor:
        cursor.execute(HISTORY_GUARD_SQL)
        for table in history_tables(connection):
            cursor.execute(
                "SELECT 1 FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname = %s",
                [table, HISTORY_GUARD_TRIGGER],
            )
            if cursor.fetchone() is None:
                cursor.execute(
                    f"CREATE TRIGGER {HISTORY_GUARD_TRIGGER} BEFORE UPDATE OR DELETE ON {quote(table)} "
                    "FOR EACH ROW EXECUTE FUNCTION harbor_history_guard()"
                )
                added.append(table)
    return added
