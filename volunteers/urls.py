from django.urls import path

from . import offer_views, views

app_name = "volunteers"

urlpatterns = [
    path("", views.home, name="home"),
    # The volunteer's own shifts and calendar feed (phone first).
    path("shifts/", views.my_shifts, name="my_shifts"),
    path("shifts/add/", views.shift_add, name="shift_add"),
    path("shifts/weekly/add/", views.series_add, name="series_add"),
    path("shifts/<int:shift_id>/drop/", views.shift_drop, name="shift_drop"),
    path("shifts/weekly/<int:series_id>/end/", views.series_end, name="series_end"),
    path("preferences/", views.preferences, name="preferences"),
    path("calendar/new-link/", views.calendar_rotate, name="calendar_rotate"),
    path("calendar/<slug:token>.ics", views.calendar_feed, name="calendar_feed"),
    # Coordinators: coverage, the roster, assigning shifts.
    path("roster/", views.roster_list, name="roster"),
    path("roster/coverage/", views.coverage, name="coverage"),
    path("roster/assign/", views.assign, name="assign"),
    path("roster/volunteers/<int:volunteer_id>/", views.roster_volunteer, name="roster_volunteer"),
    path("roster/volunteers/<int:volunteer_id>/vetting/", views.vetting, name="vetting"),
    # --- offers and assignments (lead) ---
    path("offers/<str:token>/", offer_views.offer_respond, name="offer"),
    path("assignments/<int:offer_id>/", offer_views.assignment, name="assignment"),
    path("assignments/<int:offer_id>/arrived/", offer_views.assignment_arrived, name="assignment_arrived"),
    path("assignments/<int:offer_id>/release/", offer_views.assignment_release, name="assignment_release"),
    path("paging/<uuid:intake_id>/", offer_views.paging_panel, name="paging_panel"),
    path("paging/<uuid:intake_id>/page/", offer_views.paging_page_by_hand, name="paging_page"),
    path("paging/<uuid:intake_id>/stop/", offer_views.paging_stop, name="paging_stop"),
    path("paging/<uuid:intake_id>/resume/", offer_views.paging_resume, name="paging_resume"),
    path("paging/<uuid:intake_id>/release/", offer_views.paging_release, name="paging_release"),
]
