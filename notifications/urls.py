from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("intake/<uuid:intake_id>/", views.intake_log, name="intake_log"),
    path("contact/", views.contact, name="contact"),
    path("contact/send-code/", views.contact_code_send, name="contact_code_send"),
    path("contact/verify/", views.contact_verify, name="contact_verify"),
]
