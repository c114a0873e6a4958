from django.db.models import Count, Min
from django.http import HttpRequest

from .models import Role
from .selectors import departments_of, primary_role, user_roles


def navigation(request: HttpRequest) -> dict:
    """The role-specific navigation and the department name shown in the header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = user_roles(user=user)
    departments = departments_of(user=user).aggregate(count=Count("pk", distinct=True), first=Min("name"))
    return {
        "nav_roles": roles,
        "nav_primary_role": primary_role(user=user),
        "nav_department_name": departments["first"]
        if departments["count"] == 1
        else (f"{departments['count']} departments" if departments["count"] else ""),
        "Role": Role,
    }
