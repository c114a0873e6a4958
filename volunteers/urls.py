from django.urls import path

from . import offer_views, views

app_name = "volunteers"

urlpatterns = [
    path("", views.home, name="home"),
    # --- offers and assignments (lead) ---
    path("offers/<str:token>/", offer_views.offer_respond, name="offer"),
    path("assignments/<int:offer_id>/", offer_views.assignment, name="assignment"),
    path("assignments/<int:offer_id>/arrived/", offer_views.assignment_arrived, name="assignment_arrived"),
    path("paging/<uuid:intake_id>/", offer_views.paging_panel, name="paging_panel"),
    path("paging/<uuid:intake_id>/page/", offer_views.paging_page_by_hand, name="paging_page"),
    path("paging/<uuid:intake_id>/stop/", offer_views.paging_stop, name="paging_stop"),
    path("paging/<uuid:intake_id>/resume/", offer_views.paging_resume, name="paging_resume"),
]
