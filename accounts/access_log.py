"""The one mechanism that writes the access log of personal records (42 CFR Part 2 audit).

A view that shows or changes a person's record is decorated with ``@shows_person(record_type)``
and, once its selector has let the user in (after the 404 and 403 checks), declares what it
shows with ``record_shown(request, intake)`` (one record) or ``records_shown(request, rows)`` (a
list page: one row per record on the page). After the view returns, the decorator writes one
access-log row per declared record, whatever the request: a full page, an htmx partial
(``HX-Request: true``) or an action POST ("edit" for a POST, "view" otherwise), and whatever
the answer's status (a form sent back with its errors still showed the record).

Fails closed: the rows are written before the response leaves, so a page whose access cannot be
recorded is not shown (the error propagates), and a decorated view that answers 2xx without
declaring anything raises ``ImproperlyConfigured`` instead of showing an unlogged page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from .models import AccessLogEntry
from .services import USER_AGENT_MAX, client_ip

RecordType = AccessLogEntry.RecordType

# Request attributes: what the view declared (None outside a decorated view), the view's record
# type, and whether a list page declared its (possibly empty) list.
DECLARED_ATTR = "harbor_records"
RECORD_TYPE_ATTR = "harbor_record_type"
LIST_DECLARED_ATTR = "harbor_records_declared"


@dataclass(frozen=True)
class ShownRecord:
    """One personal record a response shows: what and whose (opaque ids only)."""

    record_type: str
    record_id: str
    person_id: object
    department_id: int


def shown(record, *, record_type: str, record_id: object = None) -> ShownRecord:
    """Describe ``record``: a Person, or any record of one person with ``person_id`` and
    ``department_id`` (an intake, a consent, a disclosure). ``record_id`` defaults to its pk."""
    is_person = record._meta.label == "intake.Person"  # accounts cannot import intake
    person_id = record.pk if is_person else record.person_id
    return ShownRecord(
        record_type=record_type,
        record_id=str(record.pk if record_id is None else record_id),
        person_id=person_id,
        department_id=record.department_id,
    )


def _declared(request: HttpRequest) -> list[ShownRecord]:
    declared = getattr(request, DECLARED_ATTR, None)
    if declared is None:
        raise ImproperlyConfigured(
            "record_shown() called from a view not decorated with @shows_person: nothing would be logged."
        )
    return declared


def record_shown(request: HttpRequest, record, *, record_type: str = "", record_id: object = None) -> None:
    """Declare that this response shows (or this action changes) ``record``.

    ``record_type`` defaults to the one of the view's ``@shows_person``. Call it after the
    selector and role checks, so a refused request writes nothing.
    """
    _declared(request).append(
        shown(record, record_type=record_type or getattr(request, RECORD_TYPE_ATTR), record_id=record_id)
    )


def records_shown(request: HttpRequest, records: Iterable) -> None:
    """Declare the records of a list page (possibly none): ShownRecord items, or records that
    ``shown`` describes with the view's record type. One access-log row each."""
    declared = _declared(request)
    record_type = getattr(request, RECORD_TYPE_ATTR)
    declared.extend(
        item if isinstance(item, ShownRecord) else shown(item, record_type=record_type) for item in records
    )
    setattr(request, LIST_DECLARED_ATTR, True)  # an empty list is a declaration too


def access_log_write(*, request: HttpRequest, records: list[ShownRecord]) -> None:
    """Append one access-log row per record, in one INSERT. Not caught (see the module)."""
    if not records:
        return
    action = AccessLogEntry.Action.EDIT if request.method == "POST" else AccessLogEntry.Action.VIEW
    common = {
        "user": request.user,
        "action": action,
        "path": request.path[:500],
        "ip_address": client_ip(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
    }
    unique = dict.fromkeys(records)  # a record listed twice on a page is one access
    with transaction.atomic():
        AccessLogEntry.objects.bulk_create(
            [
                AccessLogEntry(
                    **common,
                    department_id=record.department_id,
                    record_type=record.record_type,
                    record_id=record.record_id,
                    person_id=record.person_id,
                )
                for record in unique
            ]
        )


def shows_person(record_type: str) -> Callable:
    """Decorator for every view that shows or changes a personal record (see the module).

    Put it outermost, above ``role_required`` and the method checks: the view's own refusals
    (404, 403, 405) happen before anything is declared, so they write nothing.
    """

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            setattr(request, DECLARED_ATTR, [])
            setattr(request, RECORD_TYPE_ATTR, record_type)
            setattr(request, LIST_DECLARED_ATTR, False)
            response = view(request, *args, **kwargs)
            records = getattr(request, DECLARED_ATTR)
            declared = records or getattr(request, LIST_DECLARED_ATTR, False)
            if not declared and 200 <= response.status_code < 300:
                raise ImproperlyConfigured(
                    f"{view.__module__}.{view.__name__} showed a page without declaring its record."
                )
            access_log_write(request=request, records=records)
            return response

        wrapped.shows_person = record_type
        return wrapped

    return decorator
