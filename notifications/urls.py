from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("intake/<uuid:intake_id>/", views.intake_log, name="intake_log"),
]
