from django.contrib import admin

from accounts.admin_site import HarborModelAdmin

from .directory.forms import FacilityForm
from .directory.models import FACILITY_FIELDS, Facility


class FacilityAdminForm(FacilityForm):
    """The directory's own form (control characters, lengths, choices, ages refused as on the
    app's pages and by the importer): a facility the admin accepts also exports and imports."""

    def __init__(self, *args, **kwargs) -> None:
        # The bed count is read-only here (the directory's beds form records who counted).
        super().__init__(*args, adding=True, **kwargs)
        self.fields.pop("beds_available", None)


@admin.register(Facility)
class FacilityAdmin(HarborModelAdmin):
    """The directory is kept on its own pages (/referrals/facilities/); this is for repairs.
    The bed count is changed there too (it records who counted and when)."""

    form = FacilityAdminForm
    fields = [*FACILITY_FIELDS, "hsds_service_id", "hsds_location_id", "hsds_organization_id"]
    list_display = ["name", "organization_name", "town", "is_active", "beds_available", "capacity_updated_at"]
    list_filter = ["is_active", "gender_served", "state"]
    search_fields = ["name", "organization_name", "town", "hsds_service_id", "hsds_location_id"]
    readonly_fields = ["beds_available", "created_at", "capacity_updated_at", "capacity_updated_by"]
    list_select_related = ["capacity_updated_by"]
