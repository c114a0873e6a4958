"""The roster's pages: the volunteer's own shifts, preferences and calendar feed (phone first), and
the coordinator's roster, coverage, assignments and vetting (desktop)."""

from django.urls import path

from . import views

urlpatterns = [
    path("shifts/", views.my_shifts, name="my_shifts"),
    path("shifts/add/", views.shift_add, name="shift_add"),
    path("shifts/weekly/add/", views.series_add, name="series_add"),
    path("shifts/<int:shift_id>/drop/", views.shift_drop, name="shift_drop"),
    path("shifts/weekly/<int:series_id>/end/", views.series_end, name="series_end"),
    path("preferences/", views.preferences, name="preferences"),
    path("preferences/send-code/", views.contact_code_send, name="contact_code_send"),
    path("preferences/verify/", views.contact_verify, name="contact_verify"),
    path("preferences/test-page/", views.test_page, name="test_page"),
    path("calendar/new-link/", views.calendar_rotate, name="calendar_rotate"),
    path("calendar/<slug:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("roster/", views.roster_list, name="roster"),
    path("roster/coverage/", views.coverage, name="coverage"),
    path("roster/assign/", views.assign, name="assign"),
    path("roster/volunteers/<int:volunteer_id>/", views.roster_volunteer, name="roster_volunteer"),
    path("roster/volunteers/<int:volunteer_id>/vetting/", views.vetting, name="vetting"),
]
