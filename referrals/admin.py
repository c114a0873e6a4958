from django.contrib import admin

from .models import Facility


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin):
    list_display = ["name", "town", "beds_available", "capacity_updated_at"]
    search_fields = ["name", "town"]
