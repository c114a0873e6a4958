from django.contrib import admin

from .models import Shift, Volunteer


@admin.register(Volunteer)
class VolunteerAdmin(admin.ModelAdmin):
    list_display = ["user", "home_town", "is_active", "call_any_time", "background_check_on"]
    list_filter = ["is_active", "departments"]
    filter_horizontal = ["departments"]


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    list_display = ["volunteer", "department", "starts_at", "ends_at"]
    list_filter = ["department"]
