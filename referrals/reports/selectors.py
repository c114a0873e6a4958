"""Who may see which figures: the departments a coordinator's dashboard covers, and the
departments whose public summary anyone may read."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from accounts.models import Department, Role, User
from accounts.selectors import departments_for_role

# --- who may see what -------------------------------------------------------------------------


def dashboard_departments(*, user: User) -> list[Department]:
    """The departments whose board and figures ``user`` may see: those they coordinate. Their
    phone numbers are not loaded: parsing 200 of them was a tenth of a network board's time."""
    return list(departments_for_role(user=user, role=Role.COORDINATOR).defer("phone").order_by("name"))


def department_get_public(*, department_id: int) -> Department:
    """Any department, for its public summary (which shows aggregate counts only), else 404."""
    return get_object_or_404(Department, pk=department_id)
