"""The Django admin site: for administrators who have completed two-factor sign-in, nobody else.

Administrators configure departments, accounts and facilities here. Personal records (people,
walk-ins, consents) are deliberately not registered: the desk officer's firewall and the
access log apply to them, and the admin is not the place to browse them.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.models import Role
from accounts.selectors import user_has_role


class HarborAdminSite(admin.AdminSite):
    site_header = "Harbor administration"
    site_title = "Harbor administration"
    index_title = "Departments, accounts and facilities"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(
            user.is_active
            and user.is_staff
            and (user.is_superuser or user_has_role(user=user, role=Role.ADMINISTRATOR))
            and user.is_verified()
        )

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """Harbor's own sign-in (password, then two-factor) instead of the admin's login form,
        which would bypass the second factor; a signed-in non-administrator is refused."""
        if not request.user.is_authenticated:
            next_url = request.GET.get("next") or reverse("admin:index")
            return redirect(f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': next_url})}")
        return render(request, "accounts/admin_refused.html", status=403)
