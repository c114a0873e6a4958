"""Retention: personal records are anonymised once a department's retention period has passed.

A person's *last contact* is the latest of: their walk-ins' arrival, closure and last change
(``Intake.arrived_at``, ``closed_at``, ``updated_at``) and the contacts the other apps' rows of
their record declare (``intake.records``: a placement's confirmed admission, a follow-up's
completion, a disclosure made about them); the person's own ``created_at`` is the
floor, so that someone with no walk-in at all still has one. It is computed in SQL.

A person is *due* when their last contact is before ``now`` minus their department's
``retention_years``, in calendar years (``dateutil.relativedelta``: 29 February steps back to
28 February), they have not been anonymised yet (``Person.anonymised_at`` is null), and none of
their walk-ins is still open (an open walk-in is a person being helped now, whatever its age).

A coordinator may also erase one person on the person's request (``person_erase``, a
§2.26-style request): the same anonymisation, at once, recorded (``PersonErasure``) so that the
accounting of disclosures shows it.

Anonymising keeps every row, status, timestamp, close reason, department, facility and level of
care, so every dashboard figure and the public summary are unchanged; it blanks or replaces
what identifies the person or describes them in free text. Rows that constraints require to be
non-empty (a consent's signature, a minor's guardian) get the word ``Anonymised`` instead.
The access log is append-only and is never touched (it holds opaque ids, not names).

The change history (``config.history``) would otherwise keep every earlier value: the
anonymised records' history events are deleted (through the database function
``harbor_forget_history``, the one way the application's role may delete history events, and
only those of anonymised people: migration ``intake.0010``), all but those the anonymisation itself wrote,
which snapshot the rows as they are now (anonymised); so the history shows only that, and
when, the record was anonymised by retention. The contexts that only the deleted events referred
to (who made each change, from which page) are deleted with them.

Rewritten and deleted rows stay in the tables' files until PostgreSQL reclaims them: after a run
``retention_vacuum`` VACUUMs every table it rewrote (outside any transaction). VACUUM needs the
tables' owner: the ``apply_retention`` command, run as the owner role (SECURITY.md), does it; the
daily task, run as the application's role, anonymises and leaves the VACUUM to that command and
to autovacuum.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

import pghistory
import pghistory.models
from dateutil.relativedelta import relativedelta
from django.db import connection, transaction
from django.db.models import Case, Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import Department, User
from config.history import history_models

from ..models import (
    MAX_AGE,
    Consent,
    ConsentHistory,
    Intake,
    IntakeHistory,
    Person,
    PersonErasure,
    PersonHistory,
    age_on,
)
from ..records import REASON, person_record_models

ANONYMISED = "Anonymised"
ANONYMISED_DISCLOSURE = "Anonymised after the retention period"
ERASED_DISCLOSURE = "Erased on the person's request"
AGE_BUCKET_YEARS = 5
PERSON_ANONYMISED_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "approximate_age",
    "gender",
    "pronouns",
    "phone",
    "town",
    "insurance_member_id",
    "emergency_contact_name",
    "emergency_contact_phone",
)


@dataclass
class RetentionReport:
    """What a run anonymised (or, in a dry run, would have): counts only, never a name."""

    now: datetime
    dry_run: bool
    # Department name → count.
    people: Counter = field(default_factory=Counter)
    intakes: Counter = field(default_factory=Counter)

    @property
    def total_people(self) -> int:
        return sum(self.people.values())

    @property
    def total_intakes(self) -> int:
        return sum(self.intakes.values())

    def lines(self) -> list[str]:
        verb = "would anonymise" if self.dry_run else "anonymised"
        head = "Dry run: nothing was changed." if self.dry_run else "Retention applied."
        lines = [head, f"{verb}: {self.total_people} people, {self.total_intakes} walk-ins"]
        for name in sorted(self.people):
            lines.append(f"  {name}: {self.people[name]} people, {self.intakes[name]} walk-ins")
        return lines


def _latest(rows: QuerySet, column: str) -> Subquery:
    """The latest ``column`` of ``rows`` (correlated on the person), as a scalar subquery."""
    return Subquery(rows.order_by().values("person_key").annotate(latest=Max(column)).values("latest")[:1])


def people_with_last_contact() -> QuerySet[Person]:
    """Every person, annotated with ``last_contact`` (see the module docstring)."""
    person = OuterRef("pk")
    intakes = Intake.objects.filter(person=person).annotate(person_key=F("person_id"))
    # The contacts other apps' rows record (``intake.records``: placements, follow-ups, disclosures).
    contacts = []
    for model in person_record_models():
        record = model.person_record
        rows = model.objects.filter(**{record.person: person}).annotate(person_key=F(f"{record.person}_id"))
        contacts += [_latest(rows, column) for column in record.contact]
    # PostgreSQL's GREATEST ignores NULLs; created_at is never null, so neither is the result.
    return Person.objects.annotate(
        last_contact=Greatest(
            F("created_at"),
            _latest(intakes, "arrived_at"),
            _latest(intakes, "closed_at"),
            _latest(intakes, "updated_at"),
            *contacts,
        )
    )


def retention_cutoff(*, department: Department, now: datetime) -> datetime:
    """Contacts before this moment are past ``department``'s retention period."""
    return now - relativedelta(years=department.retention_years)


def people_due(*, now: datetime) -> QuerySet[Person]:
    """People not yet anonymised whose last contact is past their department's retention period."""
    due = Q(pk__in=[])
    for department in Department.objects.only("pk", "retention_years"):
        due |= Q(
            department_id=department.pk, last_contact__lt=retention_cutoff(department=department, now=now)
        )
    open_walk_in = Intake.objects.filter(person=OuterRef("pk"), status__in=Intake.OPEN_STATUSES)
    return people_with_last_contact().filter(due, ~Exists(open_walk_in), anonymised_at__isnull=True)


def _age_bucket(person: Person, last_arrival: datetime | None) -> int:
    """The person's age at their last walk-in (or their recorded approximate age), rounded
    down to five years: enough for the age figures, too coarse to identify anyone. Never 0, to
    keep the ``person_has_dob_or_age`` and age range constraints."""
    day: date = timezone.localdate(last_arrival) if last_arrival else timezone.localdate(person.created_at)
    age = age_on(person.date_of_birth, day) if person.date_of_birth else person.approximate_age
    bucket = (age or 0) // AGE_BUCKET_YEARS * AGE_BUCKET_YEARS
    return min(max(bucket, 1), MAX_AGE)


def _anonymise_people(*, people: list[Person], now: datetime, reason: str = ANONYMISED_DISCLOSURE) -> None:
    """Blank what identifies ``people`` (locked by the caller) and describe them in no words:
    their own rows, their walk-ins and consents, and the other apps' rows of their record
    (``reason`` is what a disclosure's text becomes)."""
    ids = [person.pk for person in people]
    _anonymise_person_rows(people=people, now=now)
    _anonymise_walk_ins(person_ids=ids)
    _anonymise_consents(person_ids=ids)
    for model in person_record_models():
        record = model.person_record
        values = {column: reason if value is REASON else value for column, value in record.anonymised.items()}
        model.objects.filter(**{f"{record.person}_id__in": ids}).update(**values)


def _anonymise_person_rows(*, people: list[Person], now: datetime) -> None:
    last_arrivals = dict(
        Intake.objects.filter(person__in=people)
        .order_by()
        .values("person_id")
        .annotate(latest=Max("arrived_at"))
        .values_list("person_id", "latest")
    )
    for person in people:
        person.approximate_age = _age_bucket(person, last_arrivals.get(person.pk))
        person.first_name = ANONYMISED
        person.last_name = ""
        person.date_of_birth = None
        person.gender = ""
        person.pronouns = ""
        person.phone = ""
        person.town = ""
        person.insurance_member_id = ""
        person.emergency_contact_name = ""
        person.emergency_contact_phone = ""
        person.anonymised_at = now
    Person.objects.bulk_update(people, [*PERSON_ANONYMISED_FIELDS, "anonymised_at"])


def _anonymise_walk_ins(*, person_ids: list) -> None:
    # QuerySet.update() leaves the auto_now ``updated_at`` alone: the timestamps stay as they were.
    Intake.objects.filter(person_id__in=person_ids).update(
        needs="",
        notes="",
        medical_concerns="",
        mental_health_concerns="",
        surrendered_item_types=[],
        substances=[],
        last_use_at=None,
        # A minor's consented walk-in must keep a guardian name (intake_minor_has_guardian_consent).
        guardian_name=Case(When(guardian_name="", then=Value("")), default=Value(ANONYMISED)),
        guardian_relationship="",
    )


def _anonymise_consents(*, person_ids: list) -> None:
    # A consent must stay signed (consent_is_signed) and keep an expiry (consent_has_expiry); its
    # free text may name the person, their family or their circumstances.
    Consent.objects.filter(person_id__in=person_ids).update(
        patient_name=ANONYMISED,
        signature=ANONYMISED,
        revocation_note="",
        information=ANONYMISED,
        recipients=ANONYMISED,
        purpose=ANONYMISED,
        expiry_event=Case(When(expiry_event="", then=Value("")), default=Value(ANONYMISED)),
    )


def _forget_history(*, person_ids: list, keep_context_id) -> None:
    """Delete the history events of everything ``_anonymise_people`` anonymised for
    ``person_ids``, except the events of the context ``keep_context_id`` (the anonymisation's
    own, which hold the anonymised values). Offers are not anonymised and keep their history."""
    intake_ids = {
        *Intake.objects.filter(person_id__in=person_ids).values_list("pk", flat=True),
        # Walk-ins deleted since: their history names the person too.
        *IntakeHistory.objects.filter(person_id__in=person_ids).values_list("id", flat=True),
    }
    ids_via = {"person": person_ids, "intake": intake_ids}
    events = [
        PersonHistory.objects.filter(id__in=person_ids),
        IntakeHistory.objects.filter(person_id__in=person_ids),
        ConsentHistory.objects.filter(person_id__in=person_ids),
        # The other apps' rows of the person's record: their history snapshots name the person or
        # the walk-in as the rows do.
        *(
            history.objects.filter(**{f"{model.person_record.via}_id__in": ids_via[model.person_record.via]})
            for model in person_record_models()
            for history in _history_models_of(model)
        ),
    ]
    forgotten = [queryset.exclude(pgh_context_id=keep_context_id) for queryset in events]
    context_ids = set()
    for queryset in forgotten:
        context_ids.update(queryset.values_list("pgh_context_id", flat=True).distinct())
    with connection.cursor() as cursor:
        for queryset in forgotten:
            event_ids = list(queryset.values_list("pgh_id", flat=True))
            if event_ids:
                # The guarded way (migration intake.0010): deletes only anonymised people's events.
                cursor.execute(
                    "SELECT harbor_forget_history(%s, %s)", [queryset.model._meta.db_table, event_ids]
                )
    _forget_contexts(context_ids - {None})


def _history_models_of(model) -> list:
    return [history for history in history_models() if history.pgh_tracked_model is model]


def _forget_contexts(context_ids: set) -> None:
    """Delete those of ``context_ids`` that no history event refers to any more: a request's
    context names its user and its path (which holds the walk-in's id), and is of no use once
    the changes it made are forgotten."""
    unused = Q()
    for model in history_models():
        unused &= ~Exists(model.objects.filter(pgh_context_id=OuterRef("pk")))
    pghistory.models.Context.objects.filter(unused, pk__in=context_ids).delete()


def _count(report: RetentionReport, people: list[Person], names: dict[int, str]) -> None:
    intakes = Counter(
        dict(
            Intake.objects.filter(person__in=people)
            .order_by()
            .values("person__department_id")
            .annotate(n=Count("pk"))
            .values_list("person__department_id", "n")
        )
    )
    for person in people:
        report.people[names[person.department_id]] += 1
    for department_id, n in intakes.items():
        report.intakes[names[department_id]] += n


def retention_anonymise(
    *, now: datetime | None = None, dry_run: bool = False, batch: int = 500
) -> RetentionReport:
    """Anonymise every person past their department's retention period (see the module
    docstring), ``batch`` people per transaction.

    Each batch claims its people with ``SELECT … FOR UPDATE SKIP LOCKED``, so several hosts may
    run this at once without waiting on or repeating each other's work; anonymised people are
    marked (``anonymised_at``) and never claimed again, so running it twice changes nothing more.
    Their earlier change history is deleted in the same transaction (see the module docstring).
    With ``dry_run``, nothing is locked or written: the report says what a run would do.
    """
    now = now or timezone.now()
    report = RetentionReport(now=now, dry_run=dry_run)
    names = dict(Department.objects.values_list("pk", "name"))
    if dry_run:
        _count(report, list(people_due(now=now).only("pk", "department_id")), names)
        return report
    while True:
        with transaction.atomic():
            claimed = list(
                people_due(now=now).select_for_update(skip_locked=True, of=("self",)).order_by("pk")[:batch]
            )
            if not claimed:
                return report
            _count(report, claimed, names)
            # One history context for the run (or the task's, when a task runs it).
            with pghistory.context(service="retention_anonymise") as history_context:
                _anonymise_people(people=claimed, now=now)
                _forget_history(person_ids=[p.pk for p in claimed], keep_context_id=history_context.id)


def rewritten_models() -> list:
    """Every table ``_anonymise_people`` and ``_forget_history`` rewrite."""
    records = person_record_models()
    return [
        Person,
        Intake,
        Consent,
        *records,
        PersonHistory,
        IntakeHistory,
        ConsentHistory,
        *(history for model in records for history in _history_models_of(model)),
        pghistory.models.Context,
    ]


def retention_vacuum() -> list[str]:
    """VACUUM every table retention rewrites, so the old values leave the tables' pages. Must run
    outside a transaction (VACUUM cannot run in one); tables the connection's role does not own
    are skipped by PostgreSQL (with a warning). Returns the tables vacuumed."""
    if connection.in_atomic_block:
        raise RuntimeError("retention_vacuum must run outside a transaction")
    vacuumed = []
    with connection.cursor() as cursor:
        for model in rewritten_models():
            table = model._meta.db_table
            cursor.execute(
                "SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class WHERE oid = %s::regclass",
                [table],
            )
            if cursor.fetchone()[0]:
                cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")
                vacuumed.append(table)
    return vacuumed


class ErasureRefused(Exception):
    """The person cannot be erased now (the message says why; it names nobody)."""


def person_erase(*, person: Person, actor: User, now: datetime | None = None) -> PersonErasure:
    """Erase one person on their request (a §2.26-style request), at once, whatever their
    retention period: the same anonymisation as retention, their earlier history forgotten, and a
    ``PersonErasure`` row recording who and when (the accounting of disclosures shows it).

    Locks the person's row, then the records of repeat visits merged into it (erased with it).
    Refuses (``ErasureRefused``, nothing written) a person with an open
    walk-in (close it first) or already anonymised. The caller confirms and logs the access.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = Person.objects.select_for_update(of=("self",)).get(pk=person.pk)
        if locked.anonymised_at is not None:
            raise ErasureRefused("This person's record was already anonymised.")
        if Intake.objects.filter(person=locked, status__in=Intake.OPEN_STATUSES).exists():
            raise ErasureRefused("This person has an open walk-in: close it before erasing the record.")
        # A repeat visit linked to this person left its own record behind, merged into this one
        # (``intake.services.repeat_visit_link``): it and its history are the same person's.
        merged = list(
            Person.objects.select_for_update(of=("self",)).filter(
                merged_into=locked, anonymised_at__isnull=True
            )
        )
        people = [locked, *merged]
        with pghistory.context(service="person_erase") as history_context:
            _anonymise_people(people=people, now=now, reason=ERASED_DISCLOSURE)
            _forget_history(person_ids=[p.pk for p in people], keep_context_id=history_context.id)
        return PersonErasure.objects.create(
            person=locked, department_id=locked.department_id, erased_at=now, erased_by=actor
        )
