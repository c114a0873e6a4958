"""/notifications/, in the ``notifications:`` namespace: the notifications app's pages and the
delivery log of one walk-in, which is intake's page (intake decides who may see a walk-in;
notifications knows no domain and imports none)."""

from django.urls import path

from notifications.urls import urlpatterns as notifications_urlpatterns

from . import views

app_name = "notifications"

urlpatterns = [
    path("intake/<uuid:intake_id>/", views.intake_log, name="intake_log"),
    *notifications_urlpatterns,
]
