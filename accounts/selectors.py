"""Reads about users and what their roles allow. The one place role checks are spelled out."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import QuerySet, Sum
from django.utils import timezone

from .models import ROLE_PRECEDENCE, AccessLogEntry, Department, Membership, Role, User


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


def users_coordinated_by(*, coordinator: User) -> QuerySet[User]:
    """Users holding any role in a department where ``coordinator`` is a coordinator."""
    return User.objects.filter(
        memberships__department_id__in=coordinator_department_ids(user=coordinator)
    ).distinct()


def locked_out_users_for(*, coordinator: User) -> QuerySet[User]:
    """Users of the coordinator's departments locked out by repeated failed sign-ins.

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
