from django.http import HttpRequest

from .models import Role
from .selectors import departments_of, primary_role, user_roles


def navigation(request: HttpRequest) -> dict:
    """The role-specific navigation and the department name shown in the header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = user_roles(user=user)
    departments = list(departments_of(user=user).values_list("name", flat=True)[:3])
    return {
        "nav_roles": roles,
        "nav_primary_role": primary_role(user=user),
        "nav_department_name": departments[0]
        if len(departments) == 1
        else (f"{len(departments)} departments" if departments else ""),
        "Role": Role,
    }
