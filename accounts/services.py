"""Writes about users: the access log of personal records (42 CFR Part 2 audit), unlocking
and deactivating accounts."""

from __future__ import annotations

import ipaddress
import logging

from axes.utils import reset as axes_reset
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from .models import AccessLogEntry, Department, User

USER_AGENT_MAX = 200


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR; behind a trusted proxy (``DJANGO_BEHIND_PROXY``), the first X-Forwarded-For
    address. Anything that is not an IP address is dropped rather than stored."""
    candidate = request.META.get("REMOTE_ADDR", "")
    if settings.SECURE_PROXY_SSL_HEADER is not None:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[0].strip()
        candidate = forwarded or candidate
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def access_log_record(
    *,
    request: HttpRequest,
    action: str,
    record_type: str,
    record_id: object,
    department: Department | int,
    person: object = None,
) -> AccessLogEntry:
    """Record that ``request.user`` saw (or printed, edited, exported) one personal record.

    Views do not call this: they declare what they show through ``accounts.access_log`` (the
    one mechanism); this is for records accessed outside a view.

    One INSERT, in the request's transaction. It is not caught: a page of a personal record is
    not shown if its access cannot be recorded. The path is stored without its query string.
    ``department`` and ``person`` may be given as instances or primary keys.
    """
    department_id = department.pk if isinstance(department, Department) else department
    return AccessLogEntry.objects.create(
        user=request.user,
        department_id=department_id,
        action=action,
        record_type=record_type,
        record_id=str(record_id),
        person_id=getattr(person, "pk", person),
        path=request.path[:500],
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
    )


logger = logging.getLogger(__name__)


def account_unlock(*, coordinator: User, user: User) -> int:
    """Lift a login lockout early: forget ``user``'s failed sign-in attempts.

    Precondition: ``user`` was fetched through ``users_coordinated_by(coordinator=…)``. Returns
    the number of attempt records removed (0 if the account was not locked). Logged, by ids only.
    """
    removed = axes_reset(username=user.get_username())
    logger.info(
        "Account %s unlocked by coordinator %s (%s attempt records)", user.pk, coordinator.pk, removed
    )
    return removed


@transaction.atomic
def user_deactivate(*, user: User, actor: User) -> None:
    """Disable an account.

    Its sessions end on their next request: ModelBackend.get_user refuses inactive users, so
    ``request.user`` is anonymous and every page sends them to the login page (where an inactive
    account cannot sign in). Session rows are not scanned (their data cannot be filtered);
    ``clearsessions`` removes them when they expire.
    """
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    logger.info("Account %s deactivated by %s", user.pk, actor.pk)
