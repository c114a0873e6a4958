from django.urls import path

from . import views

urlpatterns = [
    path("", views.intake_list, name="list"),
    path("desk/", views.desk, name="desk"),
    path("<uuid:intake_id>/", views.intake_detail, name="detail"),
    path("<uuid:intake_id>/edit/", views.intake_edit, name="edit"),
    path("<uuid:intake_id>/consent/", views.consent_create, name="consent"),
    path("consents/<uuid:consent_id>/revoke/", views.consent_revoke, name="consent_revoke"),
    path("repeat-visits/<int:suggestion_id>/", views.repeat_visit_decide, name="repeat_visit_decide"),
    path("people/<uuid:person_id>/accounting/", views.person_accounting, name="person_accounting"),
    path("people/<uuid:person_id>/erase/", views.person_erase_view, name="person_erase"),
]
