from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import Department, Membership, User
from .two_factor import two_factor_reset


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "display_name", "email", "is_active", "last_login"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Harbor", {"fields": ["display_name", "phone", "phone_verified_at", "email_verified_at"]}),
    )
    # Proved only by a code the user enters (their contact settings page).
    readonly_fields = ["phone_verified_at", "email_verified_at"]
    actions = ["reset_two_factor"]

    def save_model(self, request, obj, form, change):
        # A changed number or address has not been proved to reach the user: pages stop going
        # there until they verify it again.
        if "phone" in form.changed_data:
            obj.phone_verified_at = None
        if "email" in form.changed_data:
            obj.email_verified_at = None
        super().save_model(request, obj, form, change)

    @admin.action(description="Reset two-factor sign-in (lost phone): they set it up again")
    def reset_two_factor(self, request, queryset):
        for user in queryset:
            two_factor_reset(user=user)
        self.message_user(
            request, f"Two-factor sign-in reset for {queryset.count()} account(s).", messages.SUCCESS
        )


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "town", "time_zone", "wave_size", "wave_minutes"]
    search_fields = ["name", "town"]
