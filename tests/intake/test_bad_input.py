"""Hostile and malformed input on every intake form: a clear error or a 4xx, never a 500, and
never a partial record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from intake.models import Intake, Person
from tests.conftest import client_for
from tests.factories import ConsentFactory, IntakeFactory

from .helpers import consent_data, edit_data, record_counts, walk_in_data

LONG = "A" * 10_000
REQUIRED = "This field is required."
INVALID_DATE = "Enter a valid date."
FUTURE_DOB = "The date of birth cannot be in the future."
TOO_OLD = "Please check the year: that would make them older than 110."
CONTROL = "Please remove the invisible control characters from this text."
NUL = "Null characters are not allowed."
ONE_LINE = "Please keep this to one line."
WHOLE_NUMBER = "Enter a whole number."
AT_LEAST_ONE = "Ensure this value is greater than or equal to 1."
BAD_CHOICE = "Select a valid choice."


def _tomorrow() -> str:
    return (timezone.localdate() + timedelta(days=1)).isoformat()


def _born_150_years_ago() -> str:
    return (timezone.localdate() - timedelta(days=365 * 150)).isoformat()


def _yesterday() -> str:
    return (timezone.localdate() - timedelta(days=1)).isoformat()


# Dates relative to today are written as markers here and resolved when the test runs.
DATE_MARKERS = {"<tomorrow>": _tomorrow, "<150 years ago>": _born_150_years_ago, "<yesterday>": _yesterday}


def _resolve(overrides: dict) -> dict:
    return {
        key: DATE_MARKERS[value]() if isinstance(value, str) and value in DATE_MARKERS else value
        for key, value in overrides.items()
    }


def _unchanged_page(response, message: str) -> None:
    assert response.status_code == 200
    assert message in response.text
    assert "is-invalid" in response.text or 'role="alert"' in response.text


WALK_IN_CASES = {
    "no-first-name": ({"first_name": None}, REQUIRED),
    "no-warrant-answer": ({"warrant_check": None}, REQUIRED),
    "impossible-date-of-birth": ({"date_of_birth": "2023-02-30", "approximate_age": ""}, INVALID_DATE),
    "date-of-birth-not-a-date": ({"date_of_birth": "last spring", "approximate_age": ""}, INVALID_DATE),
    "date-of-birth-year-10000": ({"date_of_birth": "10000-01-01", "approximate_age": ""}, INVALID_DATE),
    "date-of-birth-in-the-future": ({"date_of_birth": "<tomorrow>", "approximate_age": ""}, FUTURE_DOB),
    "date-of-birth-150-years-ago": ({"date_of_birth": "<150 years ago>", "approximate_age": ""}, TOO_OLD),
    "date-of-birth-year-1": ({"date_of_birth": "0001-01-01", "approximate_age": ""}, TOO_OLD),
    "10000-character-first-name": ({"first_name": LONG}, "at most 100 characters (it has 10000)"),
    "10000-character-last-name": ({"last_name": LONG}, "at most 100 characters (it has 10000)"),
    "nul-in-name": ({"first_name": "Ta\x00msin"}, NUL),
    "terminal-escape-in-name": ({"first_name": "\x1b[31mTamsin"}, CONTROL),
    "right-to-left-override-in-name": ({"first_name": "Tam\u202esin"}, CONTROL),
    "newline-in-name": ({"first_name": "Tamsin\nOkafor"}, ONE_LINE),
    "carriage-return-in-last-name": ({"last_name": "Oka\rfor"}, ONE_LINE),
    "age-not-a-number": ({"approximate_age": "thirty"}, WHOLE_NUMBER),
    "negative-age": ({"approximate_age": "-5"}, AT_LEAST_ONE),
    "age-zero": ({"approximate_age": "0"}, AT_LEAST_ONE),
    "age-999": ({"approximate_age": "999"}, "less than or equal to 110"),
    "age-huge-number": ({"approximate_age": "9" * 40}, "less than or equal to 110"),
    "unknown-language": ({"preferred_language": "klingon"}, BAD_CHOICE),
    "unknown-warrant-answer": ({"warrant_check": "shoot-out"}, BAD_CHOICE),
    "unknown-companion-gender": ({"companion_gender": "robot"}, BAD_CHOICE),
    "control-characters-in-guardian": (
        {
            "under_18": "on",
            "guardian_name": "Pat\x1b",
            "guardian_relationship": "Dad",
            "guardian_consent": "on",
        },
        CONTROL,
    ),
    "free-text-surrendered-items": (
        {"items_surrendered": "on", "surrendered_item_types": LONG},
        "Select a valid choice",
    ),
}


@pytest.mark.parametrize(("overrides", "message"), WALK_IN_CASES.values(), ids=WALK_IN_CASES.keys())
def test_hostile_walk_in_gets_a_form_error_and_creates_nothing(officer_client, overrides, message):
    before = record_counts()

    response = officer_client.post(reverse("intake:create"), walk_in_data(**_resolve(overrides)))

    _unchanged_page(response, message)
    assert "New walk-in" in response.text
    assert record_counts() == before


def test_walk_in_submitted_empty_gets_form_errors(officer_client):
    response = officer_client.post(reverse("intake:create"), {"first_name": "", "approximate_age": ""})

    assert response.status_code == 200
    assert response.text.count(REQUIRED) >= 2
    assert record_counts() == {"people": 0, "intakes": 0, "events": 0, "consents": 0}


@pytest.mark.parametrize(
    "person_choice",
    ["\x00", "x" * 10_000, "new\nnew", "\u202e"],
    ids=["nul", "10000-characters", "newline", "right-to-left-override"],
)
def test_a_forged_person_choice_is_ignored(officer_client, person_choice):
    """The desk has no way to pick a known person (issue 13): the old field is not read."""
    before = record_counts()

    response = officer_client.post(reverse("intake:create"), walk_in_data(person_choice=person_choice))

    assert response.status_code == 302
    assert record_counts() == before | {
        "people": before["people"] + 1,
        "intakes": before["intakes"] + 1,
        "events": before["events"] + 1,
    }


def test_markup_in_a_name_is_shown_as_text_not_run(officer_client):
    name = '<script>alert("x")</script>'

    detail = officer_client.post(reverse("intake:create"), walk_in_data(first_name=name), follow=True)
    desk = officer_client.get(reverse("intake:desk"))

    assert Person.objects.get().first_name == name
    for page in (detail, desk):
        assert page.status_code == 200
        assert name not in page.text
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page.text


@pytest.fixture
def walk_in(officer, department):
    return IntakeFactory(
        department=department,
        logged_by=officer,
        person__first_name="Wren",
        person__last_name="Okafor",
        person__approximate_age=None,
    )


def _snapshot(intake: Intake) -> tuple[dict, dict]:
    person = Person.objects.get(pk=intake.person_id)
    fresh = Intake.objects.get(pk=intake.pk)
    return model_to_dict(person) | {"updated_at": person.updated_at}, model_to_dict(fresh) | {
        "updated_at": fresh.updated_at
    }


EDIT_CASES = {
    "no-first-name": ({"person-first_name": ""}, REQUIRED),
    "no-age-or-date-of-birth": (
        {"person-date_of_birth": "", "person-approximate_age": ""},
        "approximate age",
    ),
    "impossible-date-of-birth": ({"person-date_of_birth": "2023-02-30"}, INVALID_DATE),
    "date-of-birth-in-the-future": ({"person-date_of_birth": "<tomorrow>"}, FUTURE_DOB),
    "date-of-birth-150-years-ago": ({"person-date_of_birth": "<150 years ago>"}, TOO_OLD),
    "10000-character-first-name": ({"person-first_name": LONG}, "at most 100 characters (it has 10000)"),
    "10000-character-town": ({"person-town": LONG}, "at most 100 characters (it has 10000)"),
    "nul-in-name": ({"person-last_name": "Oka\x00for"}, NUL),
    "terminal-escape-in-name": ({"person-first_name": "\x1b[31mWren"}, CONTROL),
    "right-to-left-override-in-pronouns": ({"person-pronouns": "\u202esheher"}, CONTROL),
    "newline-in-name": ({"person-first_name": "Wren\nOkafor"}, ONE_LINE),
    "age-not-a-number": ({"person-date_of_birth": "", "person-approximate_age": "old"}, WHOLE_NUMBER),
    "negative-age": (
        {"person-date_of_birth": "", "person-approximate_age": "-3"},
        "greater than or equal to",
    ),
    "age-zero": ({"person-date_of_birth": "", "person-approximate_age": "0"}, AT_LEAST_ONE),
    "age-999": ({"person-date_of_birth": "", "person-approximate_age": "999"}, "less than or equal to"),
    "not-a-phone-number": ({"person-phone": "call me maybe"}, "Enter a valid phone number"),
    "unknown-language": ({"person-preferred_language": "xx"}, BAD_CHOICE),
    "unknown-insurance": ({"person-insurance": "golden-ticket"}, BAD_CHOICE),
    "unknown-substance": ({"intake-substances": ["opioids", "unicorn-dust"]}, BAD_CHOICE),
    "impossible-last-use": ({"intake-last_use_at": "2023-02-30T10:00"}, "Enter a valid date/time."),
    "last-use-in-the-future": ({"intake-last_use_at": "2999-01-01T10:00"}, "cannot be in the future"),
    "last-use-at-the-end-of-time": ({"intake-last_use_at": "9999-12-31T23:59"}, "cannot be in the future"),
    "10000-character-notes": ({"intake-notes": LONG}, "at most 5000 characters (it has 10000)"),
    "nul-in-needs": ({"intake-needs": "quiet\x00"}, NUL),
    "terminal-escape-in-medical-concerns": ({"intake-medical_concerns": "\x1b[2J"}, CONTROL),
    "unknown-companion-language": ({"intake-companion_language": "elvish"}, BAD_CHOICE),
}


@pytest.mark.parametrize(("overrides", "message"), EDIT_CASES.values(), ids=EDIT_CASES.keys())
def test_hostile_record_completion_gets_a_form_error_and_changes_nothing(
    officer_client, walk_in, overrides, message
):
    before, snapshot = record_counts(), _snapshot(walk_in)

    response = officer_client.post(
        reverse("intake:edit", args=[walk_in.pk]), edit_data(walk_in, **_resolve(overrides))
    )

    _unchanged_page(response, message)
    assert "Complete the record" in response.text
    assert record_counts() == before
    assert _snapshot(walk_in) == snapshot


def test_record_completion_with_good_input_saves(officer_client, walk_in):
    response = officer_client.post(
        reverse("intake:edit", args=[walk_in.pk]),
        edit_data(walk_in, **{"person-phone": "+1 978 555 0123", "intake-notes": "Line one\nLine two"}),
        follow=True,
    )

    assert "Saved." in response.text
    walk_in.refresh_from_db()
    assert walk_in.substances == ["opioids"]
    assert walk_in.notes == "Line one\nLine two"
    assert walk_in.person.insurance == "medicaid"
    assert str(walk_in.person.phone) == "+19785550123"


CONSENT_CASES = {
    "10000-character-patient-name": ({"patient_name": LONG}, "at most 200 characters (it has 10000)"),
    "10000-character-information": ({"information": LONG}, "at most 5000 characters (it has 10000)"),
    "10000-character-signature": ({"signature": LONG}, "at most 200 characters (it has 10000)"),
    "nul-in-signature": ({"signature": "Tamsin\x00"}, NUL),
    "terminal-escape-in-signature": ({"signature": "\x1b[31mTamsin"}, CONTROL),
    "right-to-left-override-in-recipients": ({"recipients": "Clinic \u202eevil"}, CONTROL),
    "newline-in-signature": ({"signature": "Tamsin\nOkafor"}, ONE_LINE),
    "impossible-expiry-date": ({"expires_on": "2023-02-30"}, INVALID_DATE),
    "expiry-in-the-past": ({"expires_on": "<yesterday>"}, "The expiry date cannot be in the past."),
    "control-characters-in-expiry-event": ({"expires_on": "", "expiry_event": "end\x07"}, CONTROL),
    "unknown-signer": ({"signer": "the-desk-officer"}, BAD_CHOICE),
    "notice-not-acknowledged": ({"notice_acknowledged": None}, REQUIRED),
    "no-signature": ({"signature": None}, REQUIRED),
}


@pytest.mark.parametrize(("overrides", "message"), CONSENT_CASES.values(), ids=CONSENT_CASES.keys())
def test_hostile_consent_gets_a_form_error_and_saves_nothing(officer_client, walk_in, overrides, message):
    before = record_counts()

    response = officer_client.post(
        reverse("intake:consent", args=[walk_in.pk]), consent_data(**_resolve(overrides))
    )

    _unchanged_page(response, message)
    assert record_counts() == before


@pytest.mark.parametrize(
    "path",
    [
        "/intake/not-a-uuid/",
        "/intake/12345/edit/",
        "/intake/%00/consent/",
        "/intake/00000000-0000-0000-0000-00000000000g/close/",
        "/intake/consents/'; DROP TABLE intake_consent;--/revoke/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_non_uuid_in_the_url_is_404(officer_client, path, method):
    response = getattr(officer_client, method)(path)

    assert response.status_code == 404


def test_an_unknown_uuid_in_the_url_is_404(officer_client):
    unknown = "0b0b0b0b-0000-4000-8000-000000000000"

    assert officer_client.get(f"/intake/{unknown}/").status_code == 404
    assert officer_client.post(f"/intake/consents/{unknown}/revoke/").status_code == 404


@pytest.mark.parametrize(
    "reason",
    ["", "exploded", "closed", "\x00", "duplicate\n", "A" * 10_000],
    ids=["empty", "unknown", "a-status-not-a-reason", "nul", "trailing-newline", "10000-characters"],
)
def test_garbage_close_reason_is_refused_and_the_walk_in_stays_open(officer_client, walk_in, reason):
    events_before = walk_in.events.count()

    response = officer_client.post(
        reverse("intake:close", args=[walk_in.pk]), {"reason": reason}, follow=True
    )

    assert response.status_code == 200
    assert "Choose why this walk-in is being closed." in response.text
    walk_in.refresh_from_db()
    assert walk_in.status == Intake.Status.WAITING_FOR_COMPANION
    assert walk_in.closed_at is None
    assert walk_in.events.count() == events_before


def test_closing_with_a_good_reason_works(officer_client, walk_in):
    response = officer_client.post(
        reverse("intake:close", args=[walk_in.pk]), {"reason": "left_before_placement"}, follow=True
    )

    assert "Walk-in closed." in response.text
    assert "Closed: left before placement" in response.text
    walk_in.refresh_from_db()
    assert walk_in.close_reason == "left_before_placement"


def test_closing_a_closed_walk_in_again_explains_rather_than_failing(officer_client, walk_in):
    officer_client.post(reverse("intake:close", args=[walk_in.pk]), {"reason": "duplicate"})

    response = officer_client.post(
        reverse("intake:close", args=[walk_in.pk]), {"reason": "declined_treatment"}, follow=True
    )

    assert response.status_code == 200
    assert "This walk-in is already closed or placed." in response.text
    walk_in.refresh_from_db()
    assert walk_in.close_reason == "duplicate"


def test_another_departments_walk_in_cannot_be_closed(walk_in, other_coordinator):
    response = client_for(other_coordinator).post(
        reverse("intake:close", args=[walk_in.pk]), {"reason": "duplicate"}
    )

    assert response.status_code == 404
    walk_in.refresh_from_db()
    assert walk_in.status == Intake.Status.WAITING_FOR_COMPANION


def test_another_departments_consent_cannot_be_revoked(
    coordinator_client, other_coordinator, other_department
):
    foreign = ConsentFactory(intake=IntakeFactory(department=other_department, logged_by=other_coordinator))

    response = coordinator_client.post(reverse("intake:consent_revoke", args=[foreign.pk]))

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None
