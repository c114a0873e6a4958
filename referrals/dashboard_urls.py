"""The coordinator's dashboard (``dashboard:``) and the public summaries (``public:``, no sign-in)."""

from django.urls import path

from . import dashboard_views as views

app_name = "dashboard"

urlpatterns = [
    path("", views.board, name="board"),
    path("figures/", views.figures, name="figures"),
    path("figures.csv", views.figures_csv, name="figures_csv"),
]

# Included from config/urls.py under "public/" with the namespace "public".
public_urlpatterns = [
    path("<int:department_id>/", views.public_department, name="department"),
    path("<int:department_id>.json", views.public_department_json, name="department_json"),
]
