"""Placements, disclosures and follow-ups, in the ``referrals:`` namespace (referrals/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("intakes/<uuid:intake_id>/placement/", views.placement_detail, name="placement"),
    path("intakes/<uuid:intake_id>/attempts/new/", views.attempt_create, name="attempt_create"),
    path("intakes/<uuid:intake_id>/placement/new/", views.placement_create, name="placement_create"),
    path(
        "intakes/<uuid:intake_id>/placement/transport/",
        views.transport_update,
        name="transport_update",
    ),
    path(
        "intakes/<uuid:intake_id>/placement/admission/",
        views.admission_confirm,
        name="admission_confirm",
    ),
    path(
        "intakes/<uuid:intake_id>/disclosures/new/",
        views.disclosure_create,
        name="disclosure_create",
    ),
    path("disclosures/<int:disclosure_id>/", views.disclosure_detail, name="disclosure_detail"),
    path("follow-ups/", views.follow_ups, name="follow_ups"),
    path("follow-ups/<int:follow_up_id>/", views.follow_up_record, name="follow_up_record"),
]
