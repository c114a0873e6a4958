from django.contrib import admin

from .models import Facility


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin):
    """The directory is kept on its own pages (/referrals/facilities/); this is for repairs."""

    list_display = ["name", "organization_name", "town", "is_active", "beds_available", "capacity_updated_at"]
    list_filter = ["is_active", "gender_served", "state"]
    search_fields = ["name", "organization_name", "town", "hsds_service_id", "hsds_location_id"]
    readonly_fields = ["created_at", "capacity_updated_at", "capacity_updated_by"]
    list_select_related = ["capacity_updated_by"]
