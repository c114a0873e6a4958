"""Repeat visits: a walk-in who matches someone already known is linked, not duplicated."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from django.urls import reverse

from intake.models import Intake, Person
from intake.selectors import names_are_similar
from tests.factories import IntakeFactory, PersonFactory

from .helpers import record_counts, walk_in_data

NEW_WALK_IN = reverse("intake:create")
QUESTION = "Has this person been here before?"
DOB = date(1990, 5, 17)


@pytest.fixture
def john(department, officer):
    """John Smith, who walked in last month."""
    person = PersonFactory(department=department, first_name="John", last_name="Smith", date_of_birth=DOB)
    IntakeFactory(department=department, person=person, logged_by=officer)
    return person


@pytest.fixture
def jose(department):
    return PersonFactory(department=department, first_name="José", last_name="Álvarez", date_of_birth=DOB)


def _returning(**overrides) -> dict:
    return walk_in_data(
        **{"first_name": "Jon", "last_name": "Smith", "date_of_birth": DOB.isoformat(), "approximate_age": ""}
        | overrides
    )


@pytest.mark.parametrize(
    ("first_name", "last_name"),
    [("John", "Smith"), ("jon", "smith"), ("JOHN", ""), ("Jhon", "Smyth"), ("Johm", "Smith")],
)
def test_similar_name_and_same_birthday_asks_whether_they_have_been_here_before(
    officer_client, john, first_name, last_name
):
    before = record_counts()

    response = officer_client.post(NEW_WALK_IN, _returning(first_name=first_name, last_name=last_name))

    assert response.status_code == 200
    assert QUESTION in response.text
    assert f'name="person_choice" value="{john.pk}"' in response.text
    assert "Yes, link to John S." in response.text
    assert 'name="person_choice" value="new"' in response.text
    assert f'value="{first_name}"' in response.text  # what the officer typed is kept
    assert record_counts() == before


def test_accents_do_not_hide_a_repeat_visit(officer_client, jose):
    response = officer_client.post(NEW_WALK_IN, _returning(first_name="Jose", last_name="Alvarez"))

    assert QUESTION in response.text
    assert f'value="{jose.pk}"' in response.text
    assert not Intake.objects.exists()


def test_linking_adds_the_visit_to_the_known_person(officer_client, officer, john):
    people_before = Person.objects.count()

    response = officer_client.post(NEW_WALK_IN, _returning(person_choice=str(john.pk)), follow=True)

    assert response.status_code == 200
    assert QUESTION not in response.text
    assert "Waiting for a companion" in response.text
    assert '<h1 class="h3 mb-1">John Smith</h1>' in response.text
    assert Person.objects.count() == people_before
    new_intake = Intake.objects.filter(logged_by=officer).order_by("-created_at").first()
    assert new_intake.person == john
    assert john.intakes.count() == 2
    john.refresh_from_db()
    assert john.first_name == "John"  # the known record is not overwritten by today's spelling


def test_choosing_someone_new_creates_a_new_person(officer_client, john):
    people_before = Person.objects.count()

    response = officer_client.post(NEW_WALK_IN, _returning(person_choice="new"), follow=True)

    assert response.status_code == 200
    assert '<h1 class="h3 mb-1">Jon Smith</h1>' in response.text
    assert Person.objects.count() == people_before + 1
    new_person = Person.objects.exclude(pk=john.pk).get()
    assert (new_person.first_name, new_person.date_of_birth) == ("Jon", DOB)
    assert Intake.objects.filter(person=new_person).count() == 1
    assert john.intakes.count() == 1


def test_someone_known_only_to_another_department_is_never_offered(officer_client, other_department):
    stranger = PersonFactory(
        department=other_department, first_name="John", last_name="Smith", date_of_birth=DOB
    )

    response = officer_client.post(NEW_WALK_IN, _returning(first_name="John"), follow=True)

    assert QUESTION not in response.text
    assert str(stranger.pk) not in response.text
    assert "Waiting for a companion" in response.text
    intake = Intake.objects.get()
    assert intake.person != stranger
    assert intake.person.department == intake.department


@pytest.mark.parametrize(
    "overrides",
    [
        {"date_of_birth": "1990-05-18"},
        {"first_name": "Maria"},
        {"first_name": "Bob"},
        {"last_name": "Okafor"},
        {"date_of_birth": "", "approximate_age": "35"},
    ],
    ids=["other-birthday", "other-first-name", "nickname-too-far", "other-last-name", "age-only"],
)
def test_different_birthday_or_clearly_different_name_is_not_a_match(officer_client, john, overrides):
    response = officer_client.post(NEW_WALK_IN, _returning(**overrides), follow=True)

    assert QUESTION not in response.text
    assert "Waiting for a companion" in response.text
    assert Person.objects.count() == 2
    assert john.intakes.count() == 1


@pytest.mark.parametrize("forged", ["other-department", "not-a-match", "garbage", "random-uuid"])
def test_forged_person_choice_gets_a_clear_error_and_creates_nothing(
    officer_client, john, other_department, department, forged
):
    choices = {
        "other-department": lambda: (
            PersonFactory(
                department=other_department, first_name="John", last_name="Smith", date_of_birth=DOB
            ).pk
        ),
        "not-a-match": lambda: PersonFactory(department=department, first_name="Zed", date_of_birth=DOB).pk,
        "garbage": lambda: "'; DROP TABLE intake_person; --",
        "random-uuid": uuid.uuid4,
    }
    choice = str(choices[forged]())
    before = record_counts()

    response = officer_client.post(NEW_WALK_IN, _returning(person_choice=choice))

    assert response.status_code == 200
    assert "That earlier record could not be linked. Please choose again." in response.text
    assert record_counts() == before


def test_after_a_forged_choice_the_officer_is_asked_again(officer_client, john):
    officer_client.post(NEW_WALK_IN, _returning(person_choice=str(uuid.uuid4())))

    response = officer_client.post(NEW_WALK_IN, _returning())

    assert QUESTION in response.text
    assert f'value="{john.pk}"' in response.text


@pytest.mark.parametrize(
    ("a", "b", "similar"),
    [
        ("John", "John", True),
        ("john", "JOHN", True),
        ("Jon", "John", True),
        ("José", "Jose", True),
        ("Zoë", "zoe", True),
        ("Mary-Ann", "Maryann", True),
        ("Alex", "Alexander", True),
        ("Smyth", "Smith", True),
        ("Jhon", "John", True),
        ("Johm", "John", True),
        ("Eric", "Erik", True),
        ("Steven", "Stephen", True),
        ("Tom", "Tim", False),
        ("Catherine", "Katherine", True),
        ("Bob", "Robert", False),
        ("Maria", "Mark", False),
        ("Al", "Alexander", False),
        ("Lee", "Li", False),
        ("John", "", False),
        ("", "", False),
        ("!!!", "???", False),
    ],
)
def test_names_are_similar(a, b, similar):
    assert names_are_similar(a, b) is similar
    assert names_are_similar(b, a) is similar
