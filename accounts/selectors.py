"""Reads about users and what their roles allow. The one place role checks are spelled out."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import ROLE_PRECEDENCE, Department, Membership, Role, User


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
