"""The public summaries (``public:``), which need no sign-in: counts only, small cells suppressed."""

from django.urls import path

from . import views

app_name = "public"

urlpatterns = [
    path("<int:department_id>/", views.public_department, name="department"),
    path("<int:department_id>.json", views.public_department_json, name="department_json"),
]
