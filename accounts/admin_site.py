"""The Django admin site: for administrators who have completed two-factor sign-in, nobody else.

Administrators configure their departments, accounts and facilities here (they are not
superusers: ``accounts.backends`` gives their role its permissions, ``DepartmentScopedAdmin``
narrows the rows to their departments). Personal records (people,
walk-ins, consents) are deliberately not registered: the desk officer's firewall and the
access log apply to them, and the admin is not the place to browse them.
"""

from __future__ import annotations

from functools import update_wrapper
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.postgres.fields import ArrayField
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst

from .models import Department, Role
from .selectors import administered_department_ids, user_has_role


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

    def admin_view(self, view, cacheable=False):
        """Every admin page refuses a query string holding a NUL byte with 400: the admin passes
        its filters and lookups (``?username=…``) to PostgreSQL, which cannot compare a NUL in
        text, so it failed with a 500. (The app's own pages clean their filters in forms.)"""
        inner = super().admin_view(view, cacheable)

        def refuse_nul(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if any("\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()):
                return HttpResponseBadRequest(
                    "This address holds an invalid character (NUL). Please remove it and try again.",
                    content_type="text/plain; charset=utf-8",
                )
            return inner(request, *args, **kwargs)

        return update_wrapper(refuse_nul, inner)

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """Harbor's own sign-in (password, then two-factor) instead of the admin's login form,
        which would bypass the second factor; a signed-in non-administrator is refused."""
        if not request.user.is_authenticated:
            next_url = request.GET.get("next") or reverse("admin:index")
            return redirect(f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': next_url})}")
        return render(request, "accounts/admin_refused.html", status=403)


def administered_departments(request: HttpRequest):
    """The departments the signed-in user administers (every one, for the operator)."""
    if request.user.is_superuser:
        return Department.objects.all()
    return Department.objects.filter(pk__in=administered_department_ids(user=request.user))


class HarborModelAdmin(admin.ModelAdmin):
    """The admin's forms, made safe for hostile input like the app's own.

    An array of choices (a volunteer's languages, a facility's levels of care) is a set of
    checkboxes rather than Django's comma-separated text box, whose error message for a value
    holding ``%`` fails to format (a 500); inlines default to a small ``max_num``.
    """

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, ArrayField) and db_field.base_field.choices:
            return forms.TypedMultipleChoiceField(
                choices=db_field.base_field.choices,
                coerce=db_field.base_field.to_python,
                required=not db_field.blank,
                widget=forms.CheckboxSelectMultiple,
                label=capfirst(db_field.verbose_name),
                help_text=db_field.help_text,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class AdministeredDepartmentFilter(admin.RelatedFieldListFilter):
    """A department filter that lists only the departments the user administers."""

    def field_choices(self, field, request, model_admin):
        ids = set(administered_departments(request).values_list("pk", flat=True))
        return [(pk, label) for pk, label in super().field_choices(field, request, model_admin) if pk in ids]


class DepartmentScopedAdmin(HarborModelAdmin):
    """A ModelAdmin whose rows belong to departments: an administrator sees and changes only
    those of the departments they administer (the operator, every one), and can choose only
    those in a department field.

    ``department_field`` is the lookup from the model to its department (``"department"``,
    ``"departments"`` for many, ``"pk"`` for the Department itself).
    """

    department_field = "department"

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        ids = administered_departments(request).values("pk")
        return queryset.filter(**{f"{self.department_field}__in": ids}).distinct()

    def get_list_filter(self, request):
        return [
            (name, AdministeredDepartmentFilter) if name == self.department_field else name
            for name in super().get_list_filter(request)
        ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Department:
            kwargs["queryset"] = administered_departments(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.related_model is Department:
            kwargs["queryset"] = administered_departments(request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)
