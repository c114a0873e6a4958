"""The desk officer's two-minute "New walk-in" form and their front-desk page."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role
from intake.models import Intake, IntakeEvent, Person
from tests.conftest import client_for
from tests.factories import DepartmentFactory, IntakeFactory, user_with_role

from .helpers import record_counts, walk_in_data

NEW_WALK_IN = reverse("intake:create")
DESK = reverse("intake:desk")


def _born(years_ago: int, days_later: int = 0) -> str:
    """A date of birth ``years_ago`` years before today (Feb 29 falls back to Feb 28)."""
    today = timezone.localdate()
    try:
        birthday = today.replace(year=today.year - years_ago)
    except ValueError:
        birthday = today.replace(year=today.year - years_ago, day=28)
    return (birthday + timedelta(days=days_later)).isoformat()


def _age_answer(spec: dict) -> dict:
    """Parametrize ids are built at import time; dates of birth are computed when the test runs."""
    if "born" in spec:
        spec = {**spec, "approximate_age": "", "date_of_birth": _born(*spec["born"])}
        del spec["born"]
    return spec


def test_new_walk_in_form_asks_only_for_the_essentials_and_the_safety_screen(officer_client):
    response = officer_client.get(NEW_WALK_IN)

    assert response.status_code == 200
    for field in (
        "first_name",
        "date_of_birth",
        "approximate_age",
        "preferred_language",
        "companion_gender",
        "needs_emergency_care",
        "warrant_check",
        "weapons_on_person",
        "under_18",
        "items_surrendered",
    ):
        assert f'name="{field}"' in response.text, field
    assert 'name="department"' not in response.text  # one department: nothing to choose
    assert 'name="insurance"' not in response.text  # completed later, not at the desk


def test_officer_logs_a_walk_in_with_name_age_language_and_safety_screen(officer_client, officer, department):
    response = officer_client.post(
        NEW_WALK_IN,
        walk_in_data(first_name="Tamsin", approximate_age="34", preferred_language="es"),
        follow=True,
    )

    intake = Intake.objects.get()
    assert response.redirect_chain == [(reverse("intake:detail", args=[intake.pk]), 302)]
    assert response.status_code == 200
    assert "Tamsin" in response.text
    assert "Waiting for a companion" in response.text
    assert "Walk-in logged. A companion will be paged." in response.text

    person = Person.objects.get()
    assert (person.department, person.first_name, person.approximate_age, person.date_of_birth) == (
        department,
        "Tamsin",
        34,
        None,
    )
    assert person.preferred_language == "es"
    assert intake.person == person
    assert intake.department == department
    assert intake.logged_by == officer
    assert intake.status == Intake.Status.WAITING_FOR_COMPANION
    assert intake.companion_language == "es"
    assert intake.warrant_check == "none"
    assert intake.companion_needed_at is not None
    assert intake.closed_at is None
    event = IntakeEvent.objects.get()
    assert (event.intake, event.from_status, event.to_status, event.actor) == (
        intake,
        "",
        Intake.Status.WAITING_FOR_COMPANION,
        officer,
    )


def test_walk_in_with_a_date_of_birth_instead_of_an_age(officer_client):
    response = officer_client.post(
        NEW_WALK_IN, walk_in_data(approximate_age="", date_of_birth="1988-03-14"), follow=True
    )

    assert response.status_code == 200
    assert "Waiting for a companion" in response.text
    person = Person.objects.get()
    assert person.date_of_birth.isoformat() == "1988-03-14"
    assert person.approximate_age is None


def test_coordinator_can_log_a_walk_in_too(coordinator_client, coordinator):
    response = coordinator_client.post(NEW_WALK_IN, walk_in_data(first_name="Oriel"), follow=True)

    assert response.status_code == 200
    assert "Oriel" in response.text
    assert Intake.objects.get().logged_by == coordinator


def test_walk_in_without_an_age_or_date_of_birth_is_refused(officer_client):
    response = officer_client.post(NEW_WALK_IN, walk_in_data(approximate_age=""))

    assert response.status_code == 200
    assert "Enter a date of birth, or an approximate age." in response.text
    assert record_counts() == {"people": 0, "intakes": 0, "events": 0, "consents": 0}


def test_walk_in_without_a_name_is_refused(officer_client):
    response = officer_client.post(NEW_WALK_IN, walk_in_data(first_name="   "))

    assert response.status_code == 200
    assert "This field is required." in response.text
    assert not Intake.objects.exists()


def test_needs_emergency_care_tells_the_officer_to_call_ems_and_closes_as_medical_transfer(
    officer_client, officer
):
    response = officer_client.post(
        NEW_WALK_IN, walk_in_data(first_name="Idris", needs_emergency_care="on"), follow=True
    )

    assert response.status_code == 200
    assert "Call EMS now (911)" in response.text
    assert "Medical transfer" in response.text
    assert "Waiting for a companion for" not in response.text
    intake = Intake.objects.get()
    assert intake.status == Intake.Status.CLOSED
    assert intake.close_reason == Intake.CloseReason.MEDICAL_TRANSFER
    assert intake.closed_at is not None
    assert intake.needs_emergency_care is True
    assert intake.companion_needed_at is None
    assert list(intake.events.values_list("from_status", "to_status", "close_reason")) == [
        ("", "waiting_for_companion", ""),
        ("waiting_for_companion", "closed", "medical_transfer"),
    ]


def test_the_ems_instruction_is_on_the_form_before_saving(officer_client):
    response = officer_client.get(NEW_WALK_IN)

    assert "Call EMS now (911).</strong> Saving will record this walk-in as a medical transfer" in (
        response.text
    )


@pytest.mark.parametrize(
    "age_answer",
    [
        {"under_18": "on"},
        {"approximate_age": "16"},
        {"born": (17,)},
        {"born": (18, 1)},
    ],
    ids=["ticked", "approximate-age-16", "born-17-years-ago", "eighteen-tomorrow"],
)
def test_under_18_without_guardian_consent_is_refused(officer_client, age_answer):
    response = officer_client.post(NEW_WALK_IN, walk_in_data(**_age_answer(age_answer)))

    assert response.status_code == 200
    # Name and relationship, each by its field and in the summary at the top of the form.
    assert response.text.count("Required for someone under 18.") == 4
    assert "needs a parent or guardian&#x27;s consent before we continue" in response.text
    assert record_counts() == {"people": 0, "intakes": 0, "events": 0, "consents": 0}


def test_under_18_with_a_guardian_but_no_consent_ticked_is_refused(officer_client):
    response = officer_client.post(
        NEW_WALK_IN,
        walk_in_data(approximate_age="15", guardian_name="Pat Quinn", guardian_relationship="Mother"),
    )

    assert response.status_code == 200
    assert "Required for someone under 18." not in response.text
    assert "needs a parent or guardian&#x27;s consent before we continue" in response.text
    assert not Intake.objects.exists()


@pytest.mark.parametrize(
    "age_answer",
    [{"under_18": "on"}, {"approximate_age": "16"}, {"born": (14,)}],
    ids=["ticked", "approximate-age", "date-of-birth"],
)
def test_under_18_with_guardian_consent_is_logged(officer_client, age_answer):
    response = officer_client.post(
        NEW_WALK_IN,
        walk_in_data(
            **_age_answer(age_answer),
            guardian_name="Pat Quinn",
            guardian_relationship="Mother",
            guardian_consent="on",
        ),
        follow=True,
    )

    assert response.status_code == 200
    assert "Yes — guardian Pat Quinn (Mother) consented" in response.text
    intake = Intake.objects.get()
    assert intake.under_18 is True
    assert intake.guardian_name == "Pat Quinn"
    assert intake.guardian_relationship == "Mother"
    assert intake.guardian_consent_at is not None
    assert intake.companion_needed_at is not None


def test_adult_walk_in_keeps_no_guardian_details(officer_client):
    officer_client.post(
        NEW_WALK_IN,
        walk_in_data(guardian_name="Someone", guardian_relationship="Aunt", guardian_consent="on"),
    )

    intake = Intake.objects.get()
    assert (intake.under_18, intake.guardian_name, intake.guardian_consent_at) == (False, "", None)


def test_surrendered_items_need_their_type(officer_client):
    response = officer_client.post(NEW_WALK_IN, walk_in_data(items_surrendered="on"))

    assert response.status_code == 200
    assert "Say what kind of items were surrendered (type only)." in response.text
    assert not Intake.objects.exists()


def test_surrendered_items_are_recorded_by_type(officer_client):
    response = officer_client.post(
        NEW_WALK_IN,
        walk_in_data(
            items_surrendered="on",
            surrendered_item_types=["syringes", "other"],
            surrendered_items_disposed="on",
        ),
        follow=True,
    )

    assert "Syringes or needles, Other, disposed" in response.text
    intake = Intake.objects.get()
    assert (intake.items_surrendered, intake.surrendered_item_types, intake.surrendered_items_disposed) == (
        True,
        ["syringes", "other"],
        True,
    )


def test_surrendered_items_take_no_free_text(officer_client):
    """Issue 13 finding 13: "3.5 g heroin in 2 baggies, found in left jacket pocket" was stored."""
    text = "3.5 g heroin in 2 baggies, left jacket pocket, lot A1234"
    response = officer_client.post(
        NEW_WALK_IN,
        walk_in_data(items_surrendered="on", surrendered_item_types=[text], surrendered_items=text),
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert not Intake.objects.exists()
    page = officer_client.get(NEW_WALK_IN).text
    assert 'name="surrendered_items"' not in page
    assert 'name="surrendered_item_types" value="drugs"' in page


@pytest.fixture
def officer_in_two_departments(officer, other_department):
    Membership.objects.create(user=officer, department=other_department, role=Role.DESK_OFFICER)
    return officer


def test_officer_in_two_departments_chooses_the_department(
    officer_in_two_departments, department, other_department
):
    client = client_for(officer_in_two_departments)

    form = client.get(NEW_WALK_IN)
    assert form.status_code == 200
    assert 'name="department"' in form.text
    assert "Gloucester Police Department" in form.text
    assert "Rockport Police Department" in form.text

    response = client.post(NEW_WALK_IN, walk_in_data(department=other_department.pk), follow=True)

    assert response.status_code == 200
    assert "Rockport Police Department" in response.text
    intake = Intake.objects.get()
    assert intake.department == other_department
    assert intake.person.department == other_department


def test_posting_a_department_where_the_officer_holds_no_role_is_refused(officer_in_two_departments):
    stranger_department = DepartmentFactory(name="Salem Police Department")
    user_with_role(Role.DESK_OFFICER, stranger_department, username="salem-officer")
    client = client_for(officer_in_two_departments)

    response = client.post(NEW_WALK_IN, walk_in_data(department=stranger_department.pk))

    assert response.status_code == 200
    assert "Select a valid choice." in response.text
    assert record_counts() == {"people": 0, "intakes": 0, "events": 0, "consents": 0}


@pytest.mark.parametrize("department_id", ["abc", "-1", "1 OR 1=1", "", "99999999999999999999"])
def test_posting_a_garbage_department_is_refused(officer_in_two_departments, department_id):
    client = client_for(officer_in_two_departments)

    response = client.post(NEW_WALK_IN, walk_in_data(department=department_id))

    assert response.status_code == 200
    assert "Select a valid choice." in response.text or "This field is required." in response.text
    assert not Intake.objects.exists()


def test_posting_a_department_where_the_user_is_only_a_volunteer_is_refused(
    officer_in_two_departments, officer
):
    volunteer_department = DepartmentFactory(name="Essex Police Department")
    Membership.objects.create(user=officer, department=volunteer_department, role=Role.VOLUNTEER)
    client = client_for(officer)

    form = client.get(NEW_WALK_IN)
    response = client.post(NEW_WALK_IN, walk_in_data(department=volunteer_department.pk))

    assert "Essex Police Department" not in form.text.split('name="department"')[1].split("</select>")[0]
    assert response.status_code == 200
    assert "Select a valid choice." in response.text
    assert not Intake.objects.exists()


def test_single_department_officer_cannot_slip_a_walk_in_into_another_department(
    officer_client, department, other_department
):
    officer_client.post(NEW_WALK_IN, walk_in_data(department=other_department.pk))

    intake = Intake.objects.get()
    assert intake.department == department
    assert intake.person.department == department


def test_desk_lists_the_officers_walk_ins_of_the_last_24_hours(officer, second_officer, department):
    with time_machine.travel(timezone.now() - timedelta(hours=25), tick=False):
        IntakeFactory(department=department, logged_by=officer, person__first_name="Yusuf")
    with time_machine.travel(timezone.now() - timedelta(hours=23), tick=False):
        IntakeFactory(department=department, logged_by=officer, person__first_name="Noor")
    IntakeFactory(
        department=department,
        logged_by=officer,
        person__first_name="Wren",
        person__preferred_language="pt",
    )
    IntakeFactory(department=department, logged_by=second_officer, person__first_name="Sasha")

    response = client_for(officer).get(DESK)

    assert response.status_code == 200
    assert "Front desk" in response.text
    assert "Wren" in response.text
    assert "Portuguese" in response.text
    assert "Noor" in response.text
    assert "Waiting for a companion" in response.text
    assert "Yusuf" not in response.text
    assert "Sasha" not in response.text
    assert response.text.index("Wren") < response.text.index("Noor")  # newest first


def test_desk_shows_a_friendly_empty_state(officer_client):
    response = officer_client.get(DESK)

    assert "No walk-ins logged by you in the last 24 hours." in response.text


def test_desk_shows_the_status_of_each_walk_in(officer, department):
    IntakeFactory(
        department=department,
        logged_by=officer,
        person__first_name="Soren",
        status=Intake.Status.COMPANION_ASSIGNED,
        companion_needed_at=None,
    )

    response = client_for(officer).get(DESK)

    assert "Soren" in response.text
    assert "Companion on the way" in response.text


def test_desk_refreshes_itself_with_htmx(officer_client):
    response = officer_client.get(DESK)

    assert f'hx-get="{DESK}"' in response.text
    assert 'hx-trigger="every 15s"' in response.text


def test_htmx_refresh_of_the_desk_returns_only_the_rows(officer, department):
    IntakeFactory(department=department, logged_by=officer, person__first_name="Wren")

    response = client_for(officer).get(DESK, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "<html" not in response.text
    assert "<tbody" not in response.text
    assert "<tr>" in response.text
    assert "Wren" in response.text


def test_coordinator_has_no_front_desk_page(coordinator_client):
    assert coordinator_client.get(DESK).status_code == 403
