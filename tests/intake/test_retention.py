"""Retention: people past their department's retention period are anonymised, figures kept."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AccessLogEntry, Role
from config.celery import app as celery_app
from config.history import history_models
from intake.models import Consent, ConsentHistory, Intake, IntakeHistory, Person, PersonHistory, age_on
from intake.services.retention import ANONYMISED, ANONYMISED_DISCLOSURE, retention_anonymise
from intake.tasks import apply_retention
from referrals.models import Disclosure, FollowUp, PlacementAttempt
from referrals.reports.figures import Period, program_figures
from referrals.reports.public import public_summary

from ..dashboard import builders
from ..factories import ConsentFactory, DepartmentFactory, DisclosureFactory, FacilityFactory, user_with_role

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
OVERDUE = NOW - relativedelta(years=7) - timedelta(days=1)
NOT_YET = NOW - relativedelta(years=7) + timedelta(days=1)


@pytest.fixture
def department():
    return DepartmentFactory()


@pytest.fixture
def officer(department):
    return user_with_role(Role.DESK_OFFICER, department)


def backdate(intake: Intake, at) -> Intake:
    """Every timestamp of ``intake`` and its person at ``at`` (auto_now fields included)."""
    Intake.objects.filter(pk=intake.pk).update(updated_at=at, created_at=at)
    Person.objects.filter(pk=intake.person_id).update(created_at=at, updated_at=at)
    return intake


def person_with_history(department, officer, name: str, at, **person_fields) -> Person:
    """Someone who walked in at ``at``, was placed and admitted the same day, signed a consent
    and had a disclosure made: every kind of personal record."""
    person = builders.person(department, name)
    Person.objects.filter(pk=person.pk).update(
        last_name="Quayle",
        phone="+19785550123",
        town="Rockport",
        gender="woman",
        pronouns="she/her",
        insurance_member_id="MH-12345",
        emergency_contact_name="Pat Quayle",
        emergency_contact_phone="+19785550124",
        **person_fields,
    )
    person.refresh_from_db()
    facility = FacilityFactory()
    intake = builders.walk_in(
        person=person,
        officer=officer,
        arrived_at=at,
        accepted_after=5,
        arrived_after=20,
        placed_after=90,
        admitted_after=200,
        facility=facility,
    )
    Intake.objects.filter(pk=intake.pk).update(
        needs="A quiet room, her sister Pat",
        notes=f"{name} Quayle from Rockport",
        medical_concerns="Asthma",
        mental_health_concerns="Anxiety",
        surrendered_item_types=["syringes"],
        substances=["opioids"],
        last_use_at=at - timedelta(hours=3),
    )
    intake.placement.transport_by = "Pat Quayle"
    intake.placement.save()
    builders.attempt(intake, facility, PlacementAttempt.Outcome.NO_BED, officer)
    PlacementAttempt.objects.filter(intake=intake).update(note=f"Called for {name}")
    consent = ConsentFactory(intake=intake, signed_at=at)
    DisclosureFactory(intake=intake, consent=consent, disclosed_at=at, information=f"Name: {name} Quayle")
    backdate(intake, at)
    return person


def test_person_past_retention_is_anonymised(department, officer):
    person = person_with_history(department, officer, "Harriet", OVERDUE)

    report = retention_anonymise(now=NOW)

    assert report.total_people == 1
    assert report.total_intakes == 1
    person.refresh_from_db()
    assert person.anonymised_at == NOW
    assert (person.first_name, person.last_name, person.date_of_birth) == (ANONYMISED, "", None)
    # Born 17 May 1990: their age at the last walk-in, rounded down to five years, is kept.
    born = date(1990, 5, 17)
    age_then = age_on(born, timezone.localdate(OVERDUE))
    assert person.approximate_age == age_then // 5 * 5
    for name in ("phone", "town", "gender", "pronouns", "insurance_member_id", "emergency_contact_name"):
        assert not getattr(person, name), name
    assert not person.emergency_contact_phone

    intake = person.intakes.get()
    assert (intake.needs, intake.notes, intake.medical_concerns, intake.mental_health_concerns) == ("",) * 4
    assert intake.surrendered_item_types == []
    assert intake.substances == []
    assert intake.last_use_at is None
    # What the figures rest on is kept.
    assert intake.status == Intake.Status.PLACED
    assert intake.arrived_at == OVERDUE
    assert intake.updated_at == OVERDUE
    assert intake.placement.transport_by == ""
    assert intake.placement.admitted_at is not None
    assert PlacementAttempt.objects.get(intake=intake).note == ""

    consent = Consent.objects.get(person=person)
    assert (consent.patient_name, consent.signature) == (ANONYMISED, ANONYMISED)
    disclosure = Disclosure.objects.get(person=person)
    assert disclosure.information == ANONYMISED_DISCLOSURE
    assert disclosure.recipient == disclosure.facility.name


def test_person_within_retention_is_kept(department, officer):
    person = person_with_history(department, officer, "Harriet", NOT_YET)

    report = retention_anonymise(now=NOW)

    assert report.total_people == 0
    person.refresh_from_db()
    assert person.anonymised_at is None
    assert (person.first_name, person.last_name, person.date_of_birth) == (
        "Harriet",
        "Quayle",
        date(1990, 5, 17),
    )
    assert Intake.objects.get(person=person).needs == "A quiet room, her sister Pat"


def test_a_later_contact_keeps_the_person(department, officer):
    """An old walk-in with a recent follow-up (or disclosure) is not past retention."""
    followed = person_with_history(department, officer, "Harriet", OVERDUE)
    disclosed = person_with_history(department, officer, "Iris", OVERDUE)
    FollowUp.objects.create(
        department=department,
        intake=followed.intakes.get(),
        days_after_admission=90,
        due_on=timezone.localdate(NOT_YET),
        completed_at=NOT_YET,
        completed_by=officer,
        outcome=FollowUp.Outcome.IN_TREATMENT,
    )
    Disclosure.objects.filter(person=disclosed).update(disclosed_at=NOT_YET)

    assert retention_anonymise(now=NOW).total_people == 0


def test_minor_with_guardian_keeps_a_guardian_name(department, officer):
    person = builders.person(department, "Kit")
    intake = builders.walk_in(person=person, officer=officer, arrived_at=OVERDUE, close_reason="ineligible")
    Intake.objects.filter(pk=intake.pk).update(
        under_18=True, guardian_name="Robin Kit", guardian_relationship="mother", guardian_consent_at=OVERDUE
    )
    backdate(intake, OVERDUE)

    retention_anonymise(now=NOW)

    intake.refresh_from_db()
    assert (intake.guardian_name, intake.guardian_relationship) == (ANONYMISED, "")


def test_department_setting_shortens_retention(department, officer):
    two_years_and_a_day = NOW - relativedelta(years=2) - timedelta(days=1)
    short = DepartmentFactory(retention_years=2)
    short_officer = user_with_role(Role.DESK_OFFICER, short)
    due = person_with_history(short, short_officer, "Harriet", two_years_and_a_day)
    kept = person_with_history(department, officer, "Iris", two_years_and_a_day)

    report = retention_anonymise(now=NOW)

    assert dict(report.people) == {short.name: 1}
    due.refresh_from_db()
    kept.refresh_from_db()
    assert due.first_name == ANONYMISED
    assert kept.first_name == "Iris"


def test_dry_run_changes_nothing_and_reports_counts(department, officer):
    other = DepartmentFactory()
    other_officer = user_with_role(Role.DESK_OFFICER, other)
    twice = person_with_history(department, officer, "Harriet", OVERDUE - timedelta(days=30))
    backdate(
        builders.walk_in(person=twice, officer=officer, arrived_at=OVERDUE, close_reason="ineligible"),
        OVERDUE,
    )
    person_with_history(department, officer, "Iris", NOT_YET)
    person_with_history(other, other_officer, "Jo", OVERDUE)
    before = list(Person.objects.order_by("pk").values())
    intakes_before = list(Intake.objects.order_by("pk").values())

    report = retention_anonymise(now=NOW, dry_run=True)

    assert report.dry_run
    assert dict(report.people) == {department.name: 1, other.name: 1}
    assert dict(report.intakes) == {department.name: 2, other.name: 1}
    assert list(Person.objects.order_by("pk").values()) == before
    assert list(Intake.objects.order_by("pk").values()) == intakes_before
    # And the real run does what the dry run said.
    real = retention_anonymise(now=NOW)
    assert (real.people, real.intakes) == (report.people, report.intakes)


def test_running_twice_is_idempotent(department, officer):
    person = person_with_history(department, officer, "Harriet", OVERDUE)
    retention_anonymise(now=NOW, batch=1)
    person.refresh_from_db()
    first = Person.objects.filter(pk=person.pk).values().get()

    again = retention_anonymise(now=NOW + timedelta(days=1))

    assert again.total_people == 0
    assert Person.objects.filter(pk=person.pk).values().get() == first


def test_batches_cover_everyone(department, officer):
    for name in ("Harriet", "Iris", "Jo"):
        person_with_history(department, officer, name, OVERDUE)

    assert retention_anonymise(now=NOW, batch=2).total_people == 3
    assert set(Person.objects.values_list("first_name", flat=True)) == {ANONYMISED}


def test_dashboard_figures_and_public_summary_are_unchanged(department, officer):
    ann = person_with_history(department, officer, "Ann", OVERDUE - timedelta(days=2))
    # A repeat visit and a closure.
    backdate(
        builders.walk_in(
            person=ann,
            officer=officer,
            arrived_at=OVERDUE,
            accepted_after=3,
            close_reason="left_before_placement",
        ),
        OVERDUE,
    )
    ben = builders.person(department, "Ben")
    backdate(
        builders.walk_in(
            person=ben,
            officer=officer,
            arrived_at=OVERDUE,
            accepted_after=7,
            close_reason="declined_treatment",
        ),
        OVERDUE,
    )
    Person.objects.filter(pk=ben.pk).update(date_of_birth=None, approximate_age=42)
    start = timezone.localdate(OVERDUE, department.tzinfo) - timedelta(days=40)
    period = Period(start=start, end=start + timedelta(days=90), time_zone=department.tzinfo)
    then = OVERDUE + timedelta(days=70)
    figures_before = program_figures(departments=[department], period=period, now=then)
    summary_before = public_summary(department=department, now=then).as_json()

    assert retention_anonymise(now=NOW).total_intakes == 3

    assert program_figures(departments=[department], period=period, now=then) == figures_before
    assert public_summary(department=department, now=then).as_json() == summary_before
    assert figures_before.walk_ins == 3
    assert figures_before.people == 2
    assert Person.objects.get(pk=ben.pk).approximate_age == 40


def test_access_log_is_left_alone(department, officer):
    person = person_with_history(department, officer, "Harriet", OVERDUE)
    AccessLogEntry.objects.create(
        user=officer,
        department=department,
        action=AccessLogEntry.Action.VIEW,
        record_type=AccessLogEntry.RecordType.PERSON,
        record_id=str(person.pk),
        person=person,
        path=f"/people/{person.pk}/",
    )
    before = list(AccessLogEntry.objects.values())

    with CaptureQueriesContext(connection) as queries:
        retention_anonymise(now=NOW)

    assert list(AccessLogEntry.objects.values()) == before
    assert not [q["sql"] for q in queries if "accounts_accesslogentry" in q["sql"]]


def test_command_prints_counts_never_names(department, officer):
    person_with_history(department, officer, "Harriet", OVERDUE)
    out = StringIO()

    call_command("apply_retention", "--dry-run", stdout=out)
    call_command("apply_retention", stdout=out)

    text = out.getvalue()
    assert "Dry run" in text
    assert "would anonymise: 1 people, 1 walk-ins" in text
    assert "anonymised: 1 people, 1 walk-ins" in text
    assert "Harriet" not in text
    assert "Quayle" not in text
    assert Person.objects.get().first_name == ANONYMISED


def test_daily_task_is_scheduled_and_runs(department, officer):
    person_with_history(department, officer, "Harriet", OVERDUE)
    entry = celery_app.conf.beat_schedule["apply-retention"]
    assert entry["task"] == "intake.tasks.apply_retention"
    assert entry["options"] == {"expires": 3600}
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({3}, {30})

    assert apply_retention() == 1
    assert apply_retention() == 0


# What person_with_history says about the person, in any field of any record.
PERSONAL_VALUES = [
    "Harriet",
    "Quayle",
    "Rockport",
    "1990-05-17",
    "+19785550123",
    "she/her",
    "MH-12345",
    "Asthma",
    "Anxiety",
    "Two needles",
    "her sister Pat",
]


def history_values(person: Person) -> list[str]:
    """Every value of every history event of ``person``'s records, as the app reads them."""
    intake_ids = set(IntakeHistory.objects.filter(person_id=person.pk).values_list("id", flat=True))
    values = []
    for model in history_models():
        fields = {field.name for field in model._meta.fields}
        if model is PersonHistory:
            events = model.objects.filter(id=person.pk)
        elif "person" in fields:
            events = model.objects.filter(person_id=person.pk)
        elif "intake" in fields:
            events = model.objects.filter(intake_id__in=intake_ids)
        else:
            continue
        values += [str(value) for row in events.values() for value in row.values()]
    return values


def test_retention_leaves_no_personal_value_in_the_change_history(department, officer):
    person = person_with_history(department, officer, "Harriet", OVERDUE)
    kept = person_with_history(department, officer, "Iris", NOT_YET)
    before = history_values(person)
    assert any("Harriet" in value for value in before)
    assert any("Asthma" in value for value in before)  # decrypted: the history holds it

    assert apply_retention() == 1

    after = history_values(person)
    leaks = [word for word in PERSONAL_VALUES if any(word in value for value in after)]
    assert not leaks
    # What is left is the anonymisation itself, by the daily task: the rows as they are now.
    events = PersonHistory.objects.filter(pgh_obj=person)
    assert [(e.pgh_label, e.first_name, e.date_of_birth) for e in events] == [("update", ANONYMISED, None)]
    assert events.get().pgh_context.metadata == {
        "task": "intake.tasks.apply_retention",
        "service": "retention_anonymise",
    }
    assert IntakeHistory.objects.filter(person_id=person.pk).get().notes == ""
    # Someone still within retention keeps their whole history.
    assert PersonHistory.objects.filter(pgh_obj=kept, pgh_label="insert", first_name="Iris").exists()
    assert any("Iris" in value for value in history_values(kept))


def test_the_command_names_itself_in_the_history(department, officer):
    person = person_with_history(department, officer, "Harriet", OVERDUE)

    call_command("apply_retention", stdout=StringIO())

    assert PersonHistory.objects.get(pgh_obj=person).pgh_context.metadata == {
        "command": "apply_retention",
        "service": "retention_anonymise",
    }


def test_retention_forgets_the_contexts_only_the_forgotten_changes_had(department, officer):
    import pghistory
    from pghistory.models import Context

    with pghistory.context(user=officer.pk, url="/intake/overdue/edit/") as alone:
        person = person_with_history(department, officer, "Harriet", OVERDUE)
    with pghistory.context(user=officer.pk, url="/intake/both/") as shared:
        Person.objects.filter(pk=person.pk).update(town="Essex")
        kept = person_with_history(department, officer, "Iris", NOT_YET)

    assert apply_retention() == 1

    remaining = set(Context.objects.values_list("pk", flat=True))
    assert alone.id not in remaining
    assert shared.id in remaining  # Iris's changes, kept, still name it
    assert PersonHistory.objects.filter(pgh_obj=kept, pgh_context_id=shared.id).exists()
    # The anonymisation's own context stays with the events it wrote.
    assert PersonHistory.objects.get(pgh_obj=person).pgh_context_id in remaining


# --- issue 13, finding 18 ---------------------------------------------------------------------


def test_a_person_with_an_open_walk_in_is_never_anonymised(department, officer):
    """The board showed "Anonymised … 8 years" for a walk-in still open."""
    person = builders.person(department, "Opal")
    intake = builders.walk_in(person=person, officer=officer, arrived_at=OVERDUE, accepted_after=3)
    backdate(intake, OVERDUE)
    assert intake.is_open

    assert retention_anonymise(now=NOW).total_people == 0

    person.refresh_from_db()
    assert (person.first_name, person.anonymised_at) == ("Opal", None)


def test_the_consents_free_text_is_anonymised(department, officer):
    person = person_with_history(department, officer, "Harriet", OVERDUE)
    Consent.objects.filter(person=person).update(
        information="My records from Addison Gilbert and my sister Pat's number",
        recipients="Pat Quayle (sister), Lahey Behavioral Health",
        purpose="So Pat can visit Harriet in detox",
        expiry_event="When Harriet leaves Lahey",
    )

    retention_anonymise(now=NOW)

    consent = Consent.objects.get(person=person)
    texts = [consent.information, consent.recipients, consent.purpose, consent.expiry_event]
    assert texts == [ANONYMISED] * 4
    for value in ("Pat", "Harriet", "Addison", "Lahey"):
        assert not ConsentHistory.objects.filter(recipients__contains=value).exists()
        assert not ConsentHistory.objects.filter(information__contains=value).exists()
        assert not ConsentHistory.objects.filter(purpose__contains=value).exists()


@pytest.mark.django_db(transaction=True)
def test_the_command_vacuums_the_tables_it_rewrote(department, officer):
    person_with_history(department, officer, "Harriet", OVERDUE)
    out = StringIO()

    call_command("apply_retention", stdout=out)

    assert "anonymised: 1 people" in out.getvalue()
    assert "Vacuumed 15 tables." in out.getvalue()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE last_vacuum IS NOT NULL "
            "AND relname IN "
            "('intake_person', 'intake_personhistory', 'intake_consent', 'referrals_disclosure')"
        )
        assert len(cursor.fetchall()) == 4
