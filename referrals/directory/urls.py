"""The treatment directory (shared by every department) and the facility search for one walk-in,
in the ``referrals:`` namespace (referrals/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("facilities/", views.facility_list, name="facility_list"),
    path("facilities/new/", views.facility_create, name="facility_create"),
    path("facilities/<int:facility_id>/", views.facility_detail, name="facility_detail"),
    path("facilities/<int:facility_id>/edit/", views.facility_edit, name="facility_edit"),
    path("facilities/<int:facility_id>/beds/", views.facility_beds, name="facility_beds"),
    path("facilities/import/", views.hsds_import_page, name="hsds_import"),
    path("facilities/export.zip", views.hsds_export, name="hsds_export"),
    # The facility search for one walk-in.
    path("intakes/<uuid:intake_id>/facilities/", views.facility_search, name="facility_search"),
]
