"""Change history of personal records, kept by PostgreSQL itself (django-pghistory).

A trigger on each tracked table writes an event row for every insert, update and delete — bulk
``QuerySet.update()``, ``bulk_update`` and raw SQL included — into ``<Model>History``: a snapshot
of the row (the new row after an insert or update, the old one for a delete), its label, when,
and a context. The context says who and from where: ``pghistory.middleware.HistoryMiddleware``
attaches the signed-in user's id and the request path (opaque ids only) to every request's
changes, ``config.celery.HarborTask`` the task name to every Celery task's, and management
commands their own name.

Snapshots copy the stored columns, so encrypted fields (``config.fields``) stay encrypted in
the history tables. History tables are append-only (a trigger refuses UPDATE and DELETE): only
retention (``intake.retention``, which must not keep what it anonymises) and key rotation
(``rotate_field_encryption``) step around it, by name, with ``pgtrigger.ignore``.
"""

from __future__ import annotations

import pghistory
import pgtrigger

# The trigger on every history table that refuses UPDATE and DELETE (see ``append_only``).
APPEND_ONLY_TRIGGER = "append_only"


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
    (their append-only triggers are ignored for it alone). For retention and key rotation."""
    return pgtrigger.ignore(*(f"{model._meta.label}:{APPEND_ONLY_TRIGGER}" for model in models))
