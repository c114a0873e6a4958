"""The notifications app's own pages: a user's contact settings. Mounted under /notifications/
by ``intake.notification_urls``, which adds the delivery log of one walk-in to the namespace."""

from django.urls import path

from . import views

urlpatterns = [
    path("contact/", views.contact, name="contact"),
    path("contact/send-code/", views.contact_code_send, name="contact_code_send"),
    path("contact/verify/", views.contact_verify, name="contact_verify"),
]
