"""The coordinator's dashboard (``dashboard:``): the live board, the program figures and their CSV."""

from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.board, name="board"),
    path("figures/", views.figures, name="figures"),
    path("figures.csv", views.figures_csv, name="figures_csv"),
]
