"""Issue 13 finding 18: a coordinator erases one person on their request (a §2.26-style request),
confirmed twice, logged in the access log, and shown by the accounting of disclosures."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AccessLogEntry
from intake.models import Intake, IntakeHistory, Person, PersonErasure, PersonHistory
from intake.services.retention import ANONYMISED

from ..conftest import client_for
from ..factories import ConsentFactory, DisclosureFactory, IntakeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_walk_in(department, officer):
    intake = IntakeFactory(
        department=department,
        logged_by=officer,
        person__first_name="Harriet",
        person__last_name="Quayle",
        person__insurance_member_id="MH-99881",
        notes="Staying with her sister Pat",
    )
    consent = ConsentFactory(intake=intake)
    DisclosureFactory(intake=intake, consent=consent)
    Intake.objects.filter(pk=intake.pk).update(
        status=Intake.Status.CLOSED, close_reason="declined_treatment", closed_at=intake.arrived_at
    )
    return intake


def _url(person_id) -> str:
    return reverse("intake:person_erase", kwargs={"person_id": person_id})


CONFIRMED = {"requested_by_person": "on", "confirmation": "ERASE"}


def test_the_coordinator_erases_a_person_once_confirmed_twice(coordinator, closed_walk_in):
    client = client_for(coordinator)
    person_id = closed_walk_in.person_id
    accounting = reverse("intake:person_accounting", kwargs={"person_id": person_id})
    assert _url(person_id) in client.get(accounting).text
    page = client.get(_url(person_id))
    assert page.status_code == 200
    assert "Type ERASE to confirm" in page.text

    response = client.post(_url(person_id), CONFIRMED)

    assert response["Location"] == accounting
    person = Person.objects.get(pk=person_id)
    assert (person.first_name, person.last_name, person.insurance_member_id) == (ANONYMISED, "", "")
    assert person.anonymised_at is not None
    assert Intake.objects.get(pk=closed_walk_in.pk).notes == ""
    # The earlier history is forgotten: only the erasure's own (anonymised) snapshots remain.
    assert not PersonHistory.objects.filter(first_name="Harriet").exists()
    assert not PersonHistory.objects.filter(last_name="Quayle").exists()
    assert all(event.notes == "" for event in IntakeHistory.objects.filter(person_id=person_id))
    erasure = PersonErasure.objects.get(person_id=person_id)
    assert erasure.erased_by == coordinator
    shown = client.get(accounting).text
    assert "Erased on the person&#x27;s request on" in shown or "Erased on the person's request on" in shown
    assert "Harriet" not in shown
    assert "Erased on the person&#x27;s request</td>" in shown  # the disclosure, without its contents
    assert AccessLogEntry.objects.filter(
        user=coordinator, person_id=person_id, action="edit", record_type="person"
    ).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Confirm that the person asked for this."),
        ({"confirmation": "ERASE"}, "Confirm that the person asked for this."),
        ({"requested_by_person": "on"}, "Type ERASE to confirm."),
        ({"requested_by_person": "on", "confirmation": "erase it"}, "Type ERASE (in capitals) to confirm."),
    ],
)
def test_without_both_confirmations_nothing_is_erased(coordinator, closed_walk_in, data, message):
    response = client_for(coordinator).post(_url(closed_walk_in.person_id), data)

    assert response.status_code == 400
    assert message in response.text
    assert Person.objects.get(pk=closed_walk_in.person_id).first_name == "Harriet"
    assert not PersonErasure.objects.exists()


def test_a_person_with_an_open_walk_in_is_not_erased(coordinator, department, officer):
    intake = IntakeFactory(department=department, logged_by=officer, person__first_name="Opal")

    response = client_for(coordinator).post(_url(intake.person_id), CONFIRMED)

    assert response.status_code == 409
    assert "open walk-in: close it before erasing" in response.text
    assert Person.objects.get(pk=intake.person_id).first_name == "Opal"
    assert not PersonErasure.objects.exists()


def test_another_departments_coordinator_cannot_erase(other_coordinator, closed_walk_in):
    response = client_for(other_coordinator).post(_url(closed_walk_in.person_id), CONFIRMED)

    assert response.status_code == 404
    assert Person.objects.get(pk=closed_walk_in.person_id).first_name == "Harriet"


def test_a_linked_repeat_visit_is_erased_with_the_person(coordinator, department, officer, closed_walk_in):
    """Linking a repeat visit leaves the visit's own record, merged into the earlier person; an
    erasure on request takes it, and its history, with the person."""
    from intake.models import RepeatVisitSuggestion
    from intake.services import repeat_visit_link

    earlier = closed_walk_in.person
    again = IntakeFactory(
        department=department,
        logged_by=officer,
        person__first_name="Harriet",
        person__last_name="Quayle-Second",
        person__date_of_birth=earlier.date_of_birth,
        person__phone="+19785551234",
    )
    Intake.objects.filter(pk=again.pk).update(
        status=Intake.Status.CLOSED, close_reason="duplicate", closed_at=again.arrived_at
    )
    suggestion = RepeatVisitSuggestion.objects.create(intake=again, candidate=earlier, reasons=[])
    merged_id = again.person_id
    repeat_visit_link(suggestion=suggestion, actor=coordinator)
    assert Person.objects.get(pk=merged_id).merged_into_id == earlier.pk

    response = client_for(coordinator).post(_url(earlier.pk), CONFIRMED)

    assert response.status_code == 302
    merged = Person.objects.get(pk=merged_id)
    assert merged.anonymised_at is not None
    assert merged.first_name == ANONYMISED and merged.date_of_birth is None
    assert not PersonHistory.objects.filter(last_name="Quayle-Second").exists()
    assert not PersonHistory.objects.filter(first_name="Harriet").exists()
