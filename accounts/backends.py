"""The administrator role's permissions in the Django admin.

Administrators are not superusers: they hold ``ADMINISTRATOR_PERMISSIONS`` on every model, and
each ModelAdmin (``accounts.admin.DepartmentScopedAdmin``) narrows the rows to the departments
they administer. Permissions come from the role, not from rows in ``auth_permission`` tables, so
granting or revoking the role (``accounts.services.membership_grant``) is the only switch.
"""

from __future__ import annotations

from django.contrib.auth.backends import BaseBackend

from .models import Role
from .selectors import user_has_role

ADMINISTRATOR_PERMISSIONS = frozenset(
    {
        # Accounts and roles of their departments (memberships are granted and revoked through
        # accounts.services; an existing membership is never edited in place).
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_membership",
        "accounts.add_membership",
        "accounts.change_membership",
        "accounts.delete_membership",
        # Their departments' settings (adding or removing a department is the operator's).
        "accounts.view_department",
        "accounts.change_department",
        # The treatment directory is shared by every department.
        "referrals.view_facility",
        "referrals.add_facility",
        "referrals.change_facility",
        # Volunteers and the roster of their departments.
        "volunteers.view_volunteer",
        "volunteers.change_volunteer",
        "volunteers.view_shiftseries",
        "volunteers.view_shift",
        # The outbox of their departments (read-only for everyone).
        "notifications.view_notification",
    }
)


class AdministratorPermissionBackend(BaseBackend):
    """Authenticates nobody; answers permission questions for active administrators."""

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous:
            return set()
        if user_has_role(user=user_obj, role=Role.ADMINISTRATOR):
            return set(ADMINISTRATOR_PERMISSIONS)
        return set()

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj, app_label: str) -> bool:
        return any(perm.startswith(f"{app_label}.") for perm in self.get_all_permissions(user_obj))
