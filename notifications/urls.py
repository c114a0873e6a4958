from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("sms/twilio/", views.twilio_inbound, name="twilio_inbound"),
    path("intake/<uuid:intake_id>/", views.intake_log, name="intake_log"),
]
