"""Change history: PostgreSQL keeps every change of a personal record, with who and from where."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from config.history import history_models
from intake.models import Intake, IntakeHistory, Person, PersonHistory
from referrals.models import PlacementAttempt, PlacementAttemptHistory
from volunteers.models import Volunteer, VolunteerHistory
from volunteers.paging.tasks import sweep_paging

from ..factories import IntakeFactory, PlacementAttemptFactory, VolunteerFactory
from ..intake.helpers import edit_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def walk_in(officer, department):
    return IntakeFactory(department=department, logged_by=officer, person__town="Gloucester")


def test_every_personal_record_model_is_tracked():
    tracked = {model.pgh_tracked_model._meta.label for model in history_models()}
    assert tracked == {
        "intake.Person",
        "intake.Intake",
        "intake.Consent",
        "intake.RepeatVisitSuggestion",
        "referrals.PlacementAttempt",
        "referrals.Placement",
        "referrals.Disclosure",
        "referrals.FollowUp",
        "volunteers.Volunteer",
        "volunteers.Offer",
        # Who holds which role, and second factors reset (issue 13, finding 1).
        "accounts.Membership",
        "accounts.User",
    }


def test_an_insert_is_recorded(walk_in):
    event = PersonHistory.objects.get(pgh_obj=walk_in.person_id)
    assert (event.pgh_label, event.town, event.first_name) == (
        "insert",
        "Gloucester",
        walk_in.person.first_name,
    )


def test_a_bulk_update_is_recorded(walk_in):
    assert Person.objects.filter(department=walk_in.department).update(town="Rockport") == 1

    events = PersonHistory.objects.filter(pgh_obj=walk_in.person_id).order_by("pgh_id")
    assert [(e.pgh_label, e.town) for e in events] == [("insert", "Gloucester"), ("update", "Rockport")]


def test_a_save_that_changes_nothing_tracked_is_not_an_event(walk_in):
    Person.objects.filter(pk=walk_in.person_id).update(town="Gloucester")
    assert PersonHistory.objects.filter(pgh_obj=walk_in.person_id).count() == 1


def test_a_delete_is_recorded(walk_in):
    attempt = PlacementAttemptFactory(intake=walk_in, department=walk_in.department, note="Ask for Dana")
    pk = attempt.pk
    attempt.delete()

    assert not PlacementAttempt.objects.filter(pk=pk).exists()
    event = PlacementAttemptHistory.objects.filter(pgh_obj_id=pk).latest("pgh_id")
    assert (event.pgh_label, event.note, event.intake_id) == ("delete", "Ask for Dana", walk_in.pk)


def test_a_change_through_a_page_carries_the_user_and_the_path(officer_client, officer, walk_in):
    url = reverse("intake:edit", kwargs={"intake_id": walk_in.pk})
    response = officer_client.post(url, edit_data(walk_in, **{"intake-notes": "Sister on her way"}))
    assert response.status_code == 302

    event = IntakeHistory.objects.filter(pgh_obj=walk_in).latest("pgh_id")
    assert (event.pgh_label, event.notes) == ("update", "Sister on her way")
    assert event.pgh_context.metadata == {"user": officer.pk, "url": url}
    person_event = PersonHistory.objects.filter(pgh_obj=walk_in.person_id).latest("pgh_id")
    assert person_event.pgh_context_id == event.pgh_context_id


def test_a_change_by_a_task_carries_the_task_name(walk_in, settings):
    # The paging sweep stamps the walk-in's companion_needed_at: a change by a Celery task.
    Intake.objects.filter(pk=walk_in.pk).update(companion_needed_at=walk_in.arrived_at)
    sweep_paging()

    event = IntakeHistory.objects.filter(pgh_obj=walk_in).latest("pgh_id")
    assert event.pgh_context.metadata == {"task": "volunteers.paging.tasks.sweep_paging"}


def test_encrypted_fields_stay_encrypted_in_the_history(walk_in):
    Intake.objects.filter(pk=walk_in.pk).update(notes="Brother Jonah drives a blue van")
    event = IntakeHistory.objects.filter(pgh_obj=walk_in).latest("pgh_id")
    with connection.cursor() as cursor:
        cursor.execute("SELECT notes FROM intake_intakehistory WHERE pgh_id = %s", [event.pgh_id])
        (stored,) = cursor.fetchone()
    assert "Jonah" not in stored
    assert stored.startswith("gAAAAA")
    assert event.notes == "Brother Jonah drives a blue van"


@pytest.mark.parametrize(
    "statement", ["UPDATE intake_personhistory SET town = 'x'", "DELETE FROM intake_personhistory"]
)
def test_the_history_cannot_be_rewritten(walk_in, statement):
    with pytest.raises(DatabaseError, match="Cannot"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert PersonHistory.objects.filter(pgh_obj=walk_in.person_id).count() == 1


def test_a_volunteers_calendar_secret_is_not_kept(department):
    volunteer = VolunteerFactory()
    Volunteer.objects.filter(pk=volunteer.pk).update(home_town="Essex")
    assert VolunteerHistory.objects.filter(pgh_obj=volunteer).count() == 2
    assert "calendar_token" not in {field.name for field in VolunteerHistory._meta.fields}


def test_the_history_is_not_in_the_admin():
    from django.contrib import admin

    registered = {model._meta.app_label for model in admin.site._registry}
    assert "pghistory" not in registered
    assert not set(admin.site._registry) & set(history_models())
