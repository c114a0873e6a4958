"""Paging's pages: the offer link a volunteer opens, their assignment, and the coordinator's paging
panel on an intake."""

from django.urls import path

from . import provider_views, views

urlpatterns = [
    # The volunteer's home: the requests and assignment paging brings, with their shifts.
    path("", views.home, name="home"),
    path("offers/<str:token>/", views.offer_respond, name="offer"),
    path("assignments/<int:offer_id>/", views.assignment, name="assignment"),
    path("assignments/<int:offer_id>/details/", views.assignment_details, name="assignment_details"),
    path("assignments/<int:offer_id>/arrived/", views.assignment_arrived, name="assignment_arrived"),
    path("assignments/<int:offer_id>/release/", views.assignment_release, name="assignment_release"),
    path("paging/<uuid:intake_id>/", views.paging_panel, name="paging_panel"),
    path("paging/<uuid:intake_id>/page/", views.paging_page_by_hand, name="paging_page"),
    path("paging/<uuid:intake_id>/page-anyway/", views.paging_page_near_fit, name="paging_page_near_fit"),
    path("paging/<uuid:intake_id>/stop/", views.paging_stop, name="paging_stop"),
    path("paging/<uuid:intake_id>/resume/", views.paging_resume, name="paging_resume"),
    path("paging/<uuid:intake_id>/release/", views.paging_release, name="paging_release"),
    # Provider callbacks (signed by Twilio).
    path("twilio/sms/", provider_views.twilio_inbound, name="twilio_inbound"),
    path("twilio/status/", provider_views.twilio_status, name="twilio_status"),
    path("twilio/voice/<str:token>/", provider_views.twilio_voice, name="twilio_voice"),
    path("twilio/voice/<str:token>/answer/", provider_views.twilio_voice_answer, name="twilio_voice_answer"),
]

# Mounted under /intake/ in the intake namespace by config/urls.py: the desk logs and closes a
# walk-in here, and paging starts and stops with it.
walk_in_urlpatterns = [
    path("new/", views.walk_in_create, name="create"),
    path("<uuid:intake_id>/close/", views.intake_close, name="close"),
]
