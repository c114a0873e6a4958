"""Accounts, roles and departments in the admin, for administrators of their own departments.

An administrator (not a superuser: ``accounts.backends``) sees the accounts of the departments
they administer and changes those that belong to none other; grants and revokes roles there
only, through ``accounts.services`` (kept in the change history, shown on the account's page);
and changes only their departments' settings. Second factors are never shown: django-otp's own
admin pages (which show each authenticator's key and every unused recovery code) are removed,
and resetting one is an action that asks for a reason and is recorded.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.response import TemplateResponse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.forms import CleanTextFormMixin

from .admin_site import DepartmentScopedAdmin, administered_departments
from .models import Department, Membership, Role, User
from .selectors import account_history, administered_department_ids, user_changeable_by, users_administered_by
from .services import membership_grant, membership_revoke
from .two_factor import TWO_FACTOR_RESET_REASON_MAX, two_factor_reset

# django-otp registers its devices with the admin: the change page of a TOTP device shows its
# key (and a QR code of it), a static device every unused recovery code. Nobody sees them after
# enrolment; a lost phone is handled by the reset action below.
for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)

# An account holds a handful of roles; more forms than this are refused as a form error (the
# formset is never built past it), and DATA_UPLOAD_MAX_NUMBER_FIELDS bounds the request.
MEMBERSHIP_FORMS_MAX = 20


class MembershipInlineForm(forms.ModelForm):
    """A new role in one of the administrator's departments; an existing one can only be
    revoked (deleted), never edited into another role or department."""

    class Meta:
        model = Membership
        fields = ["department", "role"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for field in self.fields.values():
                field.disabled = True


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipInlineForm
    extra = 1
    max_num = MEMBERSHIP_FORMS_MAX
    readonly_fields = ["created_at"]
    verbose_name = "role"
    verbose_name_plural = "roles (in the departments you administer)"

    def get_formset(self, request, obj=None, **kwargs):
        kwargs.setdefault("absolute_max", MEMBERSHIP_FORMS_MAX)
        return super().get_formset(request, obj, **kwargs)

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("department")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(department_id__in=administered_department_ids(user=request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "department":
            kwargs["queryset"] = administered_departments(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class UserCreationWithRoleForm(AdminUserCreationForm):
    """A new account starts with a role in one of the administrator's departments (granted
    through ``membership_grant``), so it is never an account nobody administers."""

    department = forms.ModelChoiceField(queryset=Department.objects.none())
    role = forms.ChoiceField(choices=Role.choices)


class TwoFactorResetForm(CleanTextFormMixin, forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=TWO_FACTOR_RESET_REASON_MAX,
        help_text="Why the second factor is reset (e.g. “lost phone, identity checked in person”). "
        "Kept in the account's history.",
    )


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [MembershipInline]
    add_form = UserCreationWithRoleForm
    list_display = ["username", "display_name", "email", "is_active", "last_login"]
    list_filter = ["is_active"]
    actions = ["reset_two_factor"]
    # The verified times are proved only by a code the user enters (their contact settings page).
    readonly_fields = ["last_login", "date_joined", "phone_verified_at", "email_verified_at"]
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2")}),
        ("First role", {"fields": ("department", "role")}),
    )
    operator_fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Harbor", {"fields": ["display_name", "phone", "phone_verified_at", "email_verified_at"]}),
    )
    administrator_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            "Personal info",
            {
                "fields": (
                    "first_name",
                    "last_name",
                    "display_name",
                    "email",
                    "email_verified_at",
                    "phone",
                    "phone_verified_at",
                )
            },
        ),
        ("Status", {"fields": ("is_active", "last_login", "date_joined")}),
    )

    def get_queryset(self, request):
        return users_administered_by(administrator=request.user)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        return self.operator_fieldsets if request.user.is_superuser else self.administrator_fieldsets

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None:
            return form
        departments = administered_departments(request)

        class AddForm(form):
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, **kwargs)
                self.fields["department"].queryset = departments

        return AddForm

    def has_change_permission(self, request, obj=None) -> bool:
        allowed = super().has_change_permission(request, obj)
        if obj is None or not allowed:
            return allowed
        return user_changeable_by(administrator=request.user, user=obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Accounts are deactivated, never deleted: the access log and history refer to them.
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    @transaction.atomic
    def save_model(self, request, obj, form, change) -> None:
        # A changed number or address has not been proved to reach the user: pages stop going
        # there until they verify it again.
        if change and "phone" in form.changed_data:
            obj.phone_verified_at = None
        if change and "email" in form.changed_data:
            obj.email_verified_at = None
        super().save_model(request, obj, form, change)
        if not change:
            membership_grant(
                user=obj,
                department=form.cleaned_data["department"],
                role=form.cleaned_data["role"],
                granted_by=request.user,
            )

    def save_formset(self, request, form, formset, change) -> None:
        """Roles are granted and revoked through the services (history: who and when)."""
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)  # sets new_objects, deleted_objects for the change message
        for membership in formset.deleted_objects:
            membership_revoke(membership=membership, revoked_by=request.user)
        for membership in formset.new_objects:
            try:
                membership_grant(
                    user=form.instance,
                    department=membership.department,
                    role=membership.role,
                    granted_by=request.user,
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
        formset.changed_objects = []

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        user = self.get_object(request, object_id)
        if user is not None:
            department_ids = (
                None if request.user.is_superuser else administered_department_ids(user=request.user)
            )
            extra_context["account_history"] = account_history(user=user, department_ids=department_ids)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(
        description="Reset two-factor sign-in (lost phone): they set it up again", permissions=["change"]
    )
    def reset_two_factor(self, request, queryset):
        """Asks for a reason first (an intermediate page, like deleting); each reset is kept in
        the account's history with who, when and why."""
        users = [user for user in queryset if user_changeable_by(administrator=request.user, user=user)]
        if len(users) < len(queryset):
            self.message_user(
                request,
                "Some of the chosen accounts also belong to departments you do not administer; "
                "their administrators (or the operator) reset them.",
                messages.ERROR,
            )
            return None
        form = TwoFactorResetForm(request.POST if request.POST.get("confirm") == "yes" else None)
        if form.is_bound and form.is_valid():
            for user in users:
                two_factor_reset(user=user, actor=request.user, reason=form.cleaned_data["reason"])
            self.message_user(
                request, f"Two-factor sign-in reset for {len(users)} account(s).", messages.SUCCESS
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Reset two-factor sign-in",
            "opts": self.model._meta,
            "users": users,
            "form": form,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/accounts/user/reset_two_factor.html", context)


@admin.register(Department)
class DepartmentAdmin(DepartmentScopedAdmin):
    list_display = ["name", "town", "time_zone", "wave_size", "wave_minutes"]
    search_fields = ["name", "town"]
    department_field = "pk"

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser
