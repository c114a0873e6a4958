from django.urls import path

from . import placement_views, views

app_name = "referrals"

urlpatterns = [
    # The treatment directory, shared by every department (coordinators).
    path("facilities/", views.facility_list, name="facility_list"),
    path("facilities/new/", views.facility_create, name="facility_create"),
    path("facilities/<int:facility_id>/", views.facility_detail, name="facility_detail"),
    path("facilities/<int:facility_id>/edit/", views.facility_edit, name="facility_edit"),
    path("facilities/<int:facility_id>/beds/", views.facility_beds, name="facility_beds"),
    path("facilities/import/", views.hsds_import_page, name="hsds_import"),
    path("facilities/export.zip", views.hsds_export, name="hsds_export"),
    # The facility search for one walk-in.
    path("intakes/<uuid:intake_id>/facilities/", views.facility_search, name="facility_search"),
    # --- placements (other engineer) ---
    path("intakes/<uuid:intake_id>/placement/", placement_views.placement_detail, name="placement"),
    path("intakes/<uuid:intake_id>/attempts/new/", placement_views.attempt_create, name="attempt_create"),
    path(
        "intakes/<uuid:intake_id>/placement/new/", placement_views.placement_create, name="placement_create"
    ),
    path(
        "intakes/<uuid:intake_id>/placement/transport/",
        placement_views.transport_update,
        name="transport_update",
    ),
    path(
        "intakes/<uuid:intake_id>/placement/admission/",
        placement_views.admission_confirm,
        name="admission_confirm",
    ),
    path(
        "intakes/<uuid:intake_id>/disclosures/new/",
        placement_views.disclosure_create,
        name="disclosure_create",
    ),
    path("disclosures/<int:disclosure_id>/", placement_views.disclosure_detail, name="disclosure_detail"),
    path("follow-ups/", placement_views.follow_ups, name="follow_ups"),
    path("follow-ups/<int:follow_up_id>/", placement_views.follow_up_record, name="follow_up_record"),
]
