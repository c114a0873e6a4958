"""Reads about users and what their roles allow. The one place role checks are spelled out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import QuerySet, Sum
from django.utils import timezone

from .models import (
    ROLE_PRECEDENCE,
    TWO_FACTOR_RESET_EVENT,
    AccessLogEntry,
    Department,
    Membership,
    MembershipHistory,
    Role,
    User,
    UserAccountEvent,
)


def user_roles(*, user: User) -> frozenset[str]:
    """The roles the user holds in any department (cached on the user object per request)."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_harbor_roles", None)
    if cached is None:
        cached = frozenset(Membership.objects.filter(user=user).values_list("role", flat=True).distinct())
        user._harbor_roles = cached
    return cached


def user_has_role(*, user: User, role: str) -> bool:
    return role in user_roles(user=user)


def primary_role(*, user: User) -> str | None:
    roles = user_roles(user=user)
    return next((role for role in ROLE_PRECEDENCE if role in roles), None)


def departments_for_role(*, user: User, role: str) -> QuerySet[Department]:
    """Departments in which the user holds ``role``."""
    return Department.objects.filter(memberships__user=user, memberships__role=role).distinct()


def department_ids_for_role(*, user: User, role: str) -> list[int]:
    return list(Membership.objects.filter(user=user, role=role).values_list("department_id", flat=True))


def departments_of(*, user: User) -> QuerySet[Department]:
    return Department.objects.filter(memberships__user=user).distinct()


def coordinator_department_ids(*, user: User) -> list[int]:
    return department_ids_for_role(user=user, role=Role.COORDINATOR)


def access_log_for_person(*, person_id, merged_ids=()) -> QuerySet[AccessLogEntry]:
    """Who saw, printed, edited or exported a person's records, newest first (indexed).
    ``merged_ids``: the records merged into this person (a linked repeat visit's own record)."""
    return AccessLogEntry.objects.filter(person_id__in=[person_id, *merged_ids]).select_related("user")


def administered_department_ids(*, user: User) -> list[int]:
    """Departments whose accounts, memberships and settings ``user`` administers (in the admin)."""
    return department_ids_for_role(user=user, role=Role.ADMINISTRATOR)


def users_coordinated_by(*, coordinator: User) -> QuerySet[User]:
    """Users holding any role in a department where ``coordinator`` is a coordinator or an
    administrator (who may unlock them: ``account_unlock_allowed`` says which)."""
    department_ids = department_ids_for_role(user=coordinator, role=Role.COORDINATOR)
    department_ids += administered_department_ids(user=coordinator)
    return User.objects.filter(memberships__department_id__in=department_ids).distinct()


def users_administered_by(*, administrator: User) -> QuerySet[User]:
    """Accounts an administrator sees in the admin: members of their departments. The
    operator's superuser accounts are never among them."""
    if administrator.is_superuser:
        return User.objects.all()
    return User.objects.filter(
        memberships__department_id__in=administered_department_ids(user=administrator),
        is_superuser=False,
    ).distinct()


def user_changeable_by(*, administrator: User, user: User) -> bool:
    """Whether ``administrator`` may change ``user``'s account (password, second factor, name):
    only when every department the user belongs to is one the administrator administers, so an
    administrator of one department cannot take over an account another department relies on."""
    if administrator.is_superuser:
        return True
    if user.is_superuser:
        return False
    mine = set(administered_department_ids(user=administrator))
    theirs = set(Membership.objects.filter(user=user).values_list("department_id", flat=True))
    return bool(theirs) and theirs <= mine


def account_unlock_allowed(*, actor: User, user: User) -> bool:
    """Only an administrator (of a department the account belongs to) unlocks an administrator;
    an operator's account only an operator."""
    return user.pk in users_unlockable_by(actor=actor, users=[user])


def users_unlockable_by(*, actor: User, users: list[User]) -> set[int]:
    """The ids of ``users`` that ``actor`` may unlock (``account_unlock_allowed``), for a whole
    list in two queries whatever its length."""
    if actor.is_superuser:
        return {user.pk for user in users}
    candidates = {user.pk for user in users if not user.is_superuser}
    mine = set(administered_department_ids(user=actor))
    administrators, shared = set(), set()
    for user_id, role, department_id in Membership.objects.filter(user_id__in=candidates).values_list(
        "user_id", "role", "department_id"
    ):
        if role == Role.ADMINISTRATOR:
            administrators.add(user_id)
        if department_id in mine:
            shared.add(user_id)
    return {pk for pk in candidates if pk not in administrators or pk in shared}


def locked_out_users_for(*, coordinator: User) -> QuerySet[User]:
    """Users of the coordinator's (or administrator's) departments locked out by repeated
    failed sign-ins.

    Mirrors django-axes' database handler with ``AXES_LOCKOUT_PARAMETERS`` led by ``["username"]``:
    failures within the cool-off period, summed over the addresses they came from.
    """
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    locked_usernames = (
        AccessAttempt.objects.filter(attempt_time__gte=since)
        .values("username")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .values("username")
    )
    return users_coordinated_by(coordinator=coordinator).filter(username__in=locked_usernames)


@dataclass(frozen=True)
class AccountHistoryEntry:
    at: datetime
    what: str
    by: str
    detail: str


MEMBERSHIP_EVENT_NAMES = {"insert": "Role granted", "delete": "Role revoked", "update": "Role changed"}


def account_history(*, user: User, department_ids: list[int] | None = None) -> list[AccountHistoryEntry]:
    """What was done to an account, newest first, from the change history: roles granted and
    revoked (only in ``department_ids``, when given) and second factors reset, each with who
    did it (the context's user) and when. For the account's admin page."""
    memberships = MembershipHistory.objects.filter(user_id=user.pk).select_related("pgh_context")
    if department_ids is not None:
        memberships = memberships.filter(department_id__in=department_ids)
    events = list(memberships) + list(
        UserAccountEvent.objects.filter(pgh_obj_id=user.pk).select_related("pgh_context")
    )
    actor_ids = {event.pgh_context.metadata.get("user") for event in events if event.pgh_context is not None}
    names = {actor.pk: str(actor) for actor in User.objects.filter(pk__in=[i for i in actor_ids if i])}
    department_ids_named = {e.department_id for e in events if isinstance(e, MembershipHistory)}
    department_names = dict(Department.objects.filter(pk__in=department_ids_named).values_list("pk", "name"))
    entries = []
    for event in events:
        metadata = event.pgh_context.metadata if event.pgh_context is not None else {}
        by = names.get(metadata.get("user"), "") or metadata.get("command", "") or "—"
        if isinstance(event, MembershipHistory):
            what = MEMBERSHIP_EVENT_NAMES.get(event.pgh_label, event.pgh_label)
            detail = f"{Role(event.role).label if event.role in Role.values else event.role}, "
            detail += department_names.get(event.department_id, "a removed department")
        elif event.pgh_label == TWO_FACTOR_RESET_EVENT:
            what, detail = "Second factor reset", f"Reason: {metadata.get('reason', '')}"
        else:
            what, detail = "Operator account created", ""
        entries.append(AccountHistoryEntry(at=event.pgh_created_at, what=what, by=by, detail=detail))
    return sorted(entries, key=lambda entry: entry.at, reverse=True)
