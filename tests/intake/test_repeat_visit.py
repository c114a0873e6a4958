"""Repeat visits: the desk never learns whether a person is known (issue 13, finding 2).

Every walk-in gets its own record at the desk. A possible earlier visit is found after the
walk-in is saved and shown to the department's coordinators only, who link or dismiss it.
"""

from __future__ import annotations

import itertools
import re
from datetime import date

import pytest
from django.urls import reverse

from accounts.models import AccessLogEntry
from intake.models import Consent, Intake, Person, RepeatVisitSuggestion
from tests.conftest import client_for
from tests.factories import ConsentFactory, DisclosureFactory, IntakeFactory, PersonFactory

from .helpers import walk_in_data

NEW_WALK_IN = reverse("intake:create")
DOB = date(1990, 5, 17)
SUGGESTION_HEADING = "Possible earlier visit"
# What the earlier visit knows and the desk must never see.
SECRETS = {
    "last_name": "Okonkwo-Threlfall",
    "phone": "+16175550143",
    "insurance_member_id": "MH-88812-QX",
    "emergency_contact_name": "Perpetua Vanterpool",
}


@pytest.fixture
def agatha(department, second_officer):
    """Agatha, whom another officer logged last month and whose record was completed then."""
    person = PersonFactory(
        department=department,
        first_name="Agatha",
        date_of_birth=DOB,
        town="Gloucester",
        emergency_contact_phone="+16175550199",
        **SECRETS,
    )
    IntakeFactory(department=department, person=person, logged_by=second_officer)
    return person


def _walk_in(**overrides) -> dict:
    return walk_in_data(
        **{"first_name": "Agatha", "last_name": "", "date_of_birth": DOB.isoformat(), "approximate_age": ""}
        | overrides
    )


def _detail(intake) -> str:
    return reverse("intake:detail", kwargs={"intake_id": intake.pk})


def _decide(intake) -> str:
    return reverse(
        "intake:repeat_visit_decide", kwargs={"suggestion_id": intake.repeat_visit_suggestions.get().pk}
    )


def _latest_intake() -> Intake:
    return Intake.objects.order_by("-created_at").first()


# --- the desk learns nothing -------------------------------------------------------------------


def test_the_walk_in_form_has_no_lookup(officer_client, agatha):
    page = officer_client.get(NEW_WALK_IN).text
    assert "been here before" not in page
    assert "person_choice" not in page
    assert str(agatha.pk) not in page


FIRST_NAMES = ["Agatha", "agatha", "ÁGATHA", "Agathe", "Agata", "Maria"]
LAST_NAMES = ["", SECRETS["last_name"], "Smith"]
BIRTHS = [
    {"date_of_birth": DOB.isoformat(), "approximate_age": ""},
    {"date_of_birth": "1990-05-18", "approximate_age": ""},
    {"date_of_birth": "", "approximate_age": "36"},
]
COMBINATIONS = list(itertools.product(FIRST_NAMES, LAST_NAMES, range(len(BIRTHS))))


def _normalised(text: str, *, department, user) -> str:
    """The page with what legitimately differs between the two desks replaced: ids, the
    department and the officer, the clock, per-request tokens."""
    for value, placeholder in (
        (department.name, "DEPARTMENT"),
        (department.town, "TOWN"),
        (str(user), "OFFICER"),
        (user.username, "OFFICER"),
    ):
        text = text.replace(value, placeholder)
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", text)
    text = re.sub(r"Walk-in [0-9a-f]{8}", "Walk-in ID", text)
    text = re.sub(r"\d{1,2}:\d{2}\s?[AP]M", "TIME", text)
    return re.sub(r"[A-Za-z0-9+/=_-]{32,}", "TOKEN", text)


def _desk_answers(client, data, *, department, user) -> list:
    """Everything the officer sees for one walk-in: the POST's answer, the page it leads to,
    and their desk afterwards."""
    response = client.post(NEW_WALK_IN, data)
    location = response.get("Location", "")
    answers = [response.status_code, re.sub(r"[0-9a-f-]{36}", "UUID", location)]
    if location:
        followed = client.get(location)
        answers += [followed.status_code, _normalised(followed.text, department=department, user=user)]
    desk = client.get(reverse("intake:desk"))
    answers.append(_normalised(desk.text, department=department, user=user))
    return answers


@pytest.mark.parametrize(("first_name", "last_name", "birth"), COMBINATIONS)
def test_the_desk_answers_the_same_for_a_known_and_an_unknown_person(
    officer, other_officer, department, other_department, agatha, first_name, last_name, birth
):
    """Agatha is known to the officer's department; nobody is known to the other one. Posting
    any mix of her name and date of birth looks exactly like posting it for a stranger."""
    data = _walk_in(first_name=first_name, last_name=last_name, **BIRTHS[birth])

    known = _desk_answers(client_for(officer), data, department=department, user=officer)
    unknown = _desk_answers(client_for(other_officer), data, department=other_department, user=other_officer)

    assert known == unknown
    assert known[0] == 302
    for secret in SECRETS.values():
        if secret != last_name:  # what the officer typed is theirs to see
            assert secret not in "".join(map(str, known))
    # Every walk-in has its own record, as far as the desk can tell.
    assert Intake.objects.filter(person=agatha).count() == 1


# --- suggested to coordinators ----------------------------------------------------------------


@pytest.mark.parametrize("first_name", ["Agatha", "agatha", "ÁGATHÂ"])
def test_a_match_is_suggested_to_the_coordinator_with_its_reasons(
    officer_client, coordinator_client, agatha, first_name
):
    officer_client.post(NEW_WALK_IN, _walk_in(first_name=first_name))
    intake = _latest_intake()

    page = coordinator_client.get(_detail(intake)).text

    assert SUGGESTION_HEADING in page
    assert "Same first name (ignoring case and accents)" in page
    assert "Same date of birth" in page
    assert "1 earlier visit" in page
    assert 'value="link"' in page
    assert 'value="dismiss"' in page
    assert SUGGESTION_HEADING not in officer_client.get(_detail(intake)).text
    # Seeing the earlier person's name and visits is an access to their record.
    assert AccessLogEntry.objects.filter(person=agatha, record_type="person", action="view").count() == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"first_name": "Agata"},
        {"first_name": "Aggie"},
        {"date_of_birth": "1990-05-18"},
        {"date_of_birth": "", "approximate_age": "36"},
    ],
    ids=["near-miss-name", "nickname", "other-birthday", "age-only"],
)
def test_no_suggestion_without_the_same_first_name_and_birthday(
    officer_client, coordinator_client, agatha, overrides
):
    officer_client.post(NEW_WALK_IN, _walk_in(**overrides))
    intake = _latest_intake()
    assert not intake.repeat_visit_suggestions.exists()
    assert SUGGESTION_HEADING not in coordinator_client.get(_detail(intake)).text


def test_someone_known_only_to_another_department_is_never_suggested(
    other_officer, other_coordinator, agatha
):
    client_for(other_officer).post(NEW_WALK_IN, _walk_in())
    intake = _latest_intake()
    assert not intake.repeat_visit_suggestions.exists()
    assert SUGGESTION_HEADING not in client_for(other_coordinator).get(_detail(intake)).text


# --- the coordinator decides --------------------------------------------------------------------


@pytest.fixture
def repeat(officer_client, agatha) -> Intake:
    """Today's walk-in of Agatha, as the officer logged it (first name and birthday only)."""
    officer_client.post(NEW_WALK_IN, _walk_in(last_name="O."))
    intake = _latest_intake()
    ConsentFactory(intake=intake, person=intake.person, department=intake.department)
    return intake


def test_linking_joins_the_earlier_person(coordinator_client, coordinator, officer, agatha, repeat):
    own_record = repeat.person
    disclosure = DisclosureFactory(intake=repeat, consent=repeat.consents.get(), disclosed_by=coordinator)

    response = coordinator_client.post(_decide(repeat), {"decision": "link"}, follow=True)

    assert response.status_code == 200
    assert "Linked: this walk-in is now with the earlier visits." in response.text
    disclosure.refresh_from_db()
    assert disclosure.person == agatha  # the accounting of disclosures follows the person
    assert f"Linked by {coordinator}" in response.text
    repeat.refresh_from_db()
    own_record.refresh_from_db()
    agatha.refresh_from_db()
    assert repeat.person == agatha
    assert agatha.intakes.count() == 2
    assert Consent.objects.filter(person=agatha).count() == 1
    assert own_record.merged_into == agatha
    assert own_record.last_name == ""  # its details now live on the earlier record only
    assert agatha.last_name == SECRETS["last_name"]  # the earlier record is not overwritten
    suggestion = RepeatVisitSuggestion.objects.get()
    assert (suggestion.status, suggestion.decided_by) == ("linked", coordinator)
    # The decision is in the change history, with who made it and from which page.
    event = suggestion.history.order_by("pgh_id").last()
    assert event.status == "linked"
    assert event.pgh_context.metadata["user"] == coordinator.pk
    # The accounting of the earlier person lists the accesses to the walk-in's own record too.
    assert AccessLogEntry.objects.filter(person=own_record).exists()
    accounting = coordinator_client.get(reverse("intake:person_accounting", kwargs={"person_id": agatha.pk}))
    assert str(officer) in accounting.text  # the officer logged the walk-in: an access to it


def test_after_linking_the_desk_never_sees_the_earlier_visit(
    officer_client, coordinator_client, agatha, repeat
):
    coordinator_client.post(_decide(repeat), {"decision": "link"})

    pages = [
        officer_client.get(_detail(repeat)),
        officer_client.get(reverse("intake:edit", kwargs={"intake_id": repeat.pk})),
        officer_client.get(reverse("intake:desk")),
        officer_client.get(reverse("intake:desk"), HTTP_HX_REQUEST="true"),
    ]
    for response in pages:
        for secret in [*SECRETS.values(), "617-555-0143", "(617) 555-0143"]:
            assert secret not in response.text
    assert pages[0].status_code == 404
    assert pages[1].status_code == 404


def test_dismissing_keeps_them_apart(coordinator_client, coordinator, agatha, repeat):
    own_record = repeat.person

    response = coordinator_client.post(_decide(repeat), {"decision": "dismiss"}, follow=True)

    assert "Dismissed: kept as a different person." in response.text
    assert f"Dismissed by {coordinator}" in response.text
    repeat.refresh_from_db()
    assert repeat.person == own_record
    assert agatha.intakes.count() == 1
    assert RepeatVisitSuggestion.objects.get().status == "dismissed"


def test_a_decision_is_taken_once(coordinator_client, agatha, repeat):
    coordinator_client.post(_decide(repeat), {"decision": "dismiss"})

    response = coordinator_client.post(_decide(repeat), {"decision": "link"}, follow=True)

    assert "This suggestion was already decided." in response.text
    repeat.refresh_from_db()
    assert repeat.person != agatha
    assert RepeatVisitSuggestion.objects.get().status == "dismissed"


@pytest.mark.parametrize("decision", ["", "merge", "link'; --"])
def test_a_garbled_decision_changes_nothing(coordinator_client, agatha, repeat, decision):
    response = coordinator_client.post(_decide(repeat), {"decision": decision}, follow=True)
    assert response.status_code == 200
    assert "Choose whether this is the same person." in response.text
    assert RepeatVisitSuggestion.objects.get().status == "suggested"
    assert Person.objects.filter(merged_into__isnull=False).count() == 0


@pytest.mark.parametrize("user", ["officer", "other_coordinator", "volunteer_user", "outsider"])
def test_only_the_departments_coordinators_decide(request, agatha, repeat, user):
    response = client_for(request.getfixturevalue(user)).post(_decide(repeat), {"decision": "link"})
    assert response.status_code == 404
    assert RepeatVisitSuggestion.objects.get().status == "suggested"
