from django.contrib import admin

from accounts.admin_site import DepartmentScopedAdmin

from .models import Shift, ShiftSeries, Volunteer
from .roster.forms import VettingForm


class VolunteerAdminForm(VettingForm):
    """The coordinator's vetting rules (no date in the future), and every text field refusing
    control characters and overlong values as the app's forms do."""

    class Meta(VettingForm.Meta):
        fields = "__all__"


@admin.register(Volunteer)
class VolunteerAdmin(DepartmentScopedAdmin):
    list_display = [
        "user",
        "home_town",
        "is_active",
        "call_any_time",
        "background_check_on",
        "training_completed_on",
        "confidentiality_agreement_signed_on",
    ]
    list_filter = ["is_active", "call_any_time", "departments"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "home_town"]
    filter_horizontal = ["departments"]
    # The calendar secret is never shown: a volunteer rotates it from their own page.
    exclude = ["calendar_token"]
    form = VolunteerAdminForm
    department_field = "departments"
    # Proved only by a code the volunteer enters on their settings page.
    readonly_fields = ["phone_verified_at"]

    def get_readonly_fields(self, request, obj=None):
        # An administrator's choice would drop the departments they do not administer.
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if request.user.is_superuser else [*readonly, "user", "departments"]

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)

    def save_model(self, request, obj, form, change):
        if "phone" in form.changed_data:  # a new number is not proved to reach them
            obj.phone_verified_at = None
        super().save_model(request, obj, form, change)


@admin.register(ShiftSeries)
class ShiftSeriesAdmin(DepartmentScopedAdmin):
    list_display = ["volunteer", "department", "weekday", "start_time", "duration", "starts_on", "ends_on"]
    list_filter = ["department", "weekday"]
    list_select_related = ["volunteer__user", "department"]
    raw_id_fields = ["volunteer", "created_by"]
    readonly_fields = ["materialised_until"]


@admin.register(Shift)
class ShiftAdmin(DepartmentScopedAdmin):
    list_display = ["volunteer", "department", "starts_at", "ends_at", "series"]
    list_filter = ["department"]
    list_select_related = ["volunteer__user", "department", "series"]
    raw_id_fields = ["volunteer", "series"]
    date_hierarchy = "starts_at"
