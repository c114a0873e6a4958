"""Building walk-ins with their whole history for the dashboard tests: one by one with known
timings (the hand-built data set), or a thousand at a time with bulk_create (the query counts)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone

from accounts.models import Department, User
from intake.models import Intake, IntakeEvent, Person
from referrals.models import Facility, FollowUp, Placement, PlacementAttempt
from volunteers.models import OFFER_OPEN_FOR, Offer, Volunteer

Status = Intake.Status
STEPS = [Status.COMPANION_ASSIGNED, Status.COMPANION_ARRIVED, Status.SEARCHING_PLACEMENT, Status.PLACED]


def person(department: Department, name: str) -> Person:
    return Person.objects.create(department=department, first_name=name, date_of_birth=date(1990, 5, 17))


def walk_in(
    *,
    person: Person,
    officer: User,
    arrived_at: datetime,
    accepted_after: int | None = None,
    arrived_after: int | None = None,
    placed_after: int | None = None,
    admitted_after: int | None = None,
    facility: Facility | None = None,
    level_of_care: str = "3.7-WM",
    close_reason: str = "",
    status: str | None = None,
) -> Intake:
    """A walk-in whose companion accepted, arrived, and who was placed and admitted the given
    numbers of minutes after arriving (None: that step never happened); closed with
    ``close_reason`` when given. Its events are written as the services would."""
    minutes = {
        Status.COMPANION_ASSIGNED: accepted_after,
        Status.COMPANION_ARRIVED: arrived_after,
        Status.SEARCHING_PLACEMENT: arrived_after,
        Status.PLACED: placed_after,
    }
    reached = [step for step in STEPS if minutes[step] is not None]
    final = status or (
        Status.CLOSED if close_reason else (reached[-1] if reached else Status.WAITING_FOR_COMPANION)
    )
    last_moment = arrived_at + timedelta(
        minutes=max([0, *(m for m in minutes.values() if m is not None)]) + 1
    )
    intake = Intake.objects.create(
        department=person.department,
        person=person,
        logged_by=officer,
        arrived_at=arrived_at,
        status=final,
        close_reason=close_reason,
        closed_at=last_moment if close_reason else None,
        companion_needed_at=arrived_at if final == Status.WAITING_FOR_COMPANION else None,
    )
    events = [IntakeEvent(intake=intake, to_status=Status.WAITING_FOR_COMPANION, at=arrived_at)]
    previous = Status.WAITING_FOR_COMPANION
    for step in reached:
        events.append(
            IntakeEvent(
                intake=intake,
                from_status=previous,
                to_status=step,
                at=arrived_at + timedelta(minutes=minutes[step]),
            )
        )
        previous = step
    if close_reason:
        events.append(
            IntakeEvent(
                intake=intake,
                from_status=previous,
                to_status=Status.CLOSED,
                close_reason=close_reason,
                at=last_moment,
            )
        )
    IntakeEvent.objects.bulk_create(events)
    if placed_after is not None:
        Placement.objects.create(
            department=intake.department,
            intake=intake,
            facility=facility,
            level_of_care=level_of_care,
            placed_at=arrived_at + timedelta(minutes=placed_after),
            placed_by=officer,
            admitted_at=None if admitted_after is None else arrived_at + timedelta(minutes=admitted_after),
            admission_confirmed_by=None if admitted_after is None else officer,
        )
    return intake


def attempt(intake: Intake, facility: Facility, outcome: str, officer: User) -> PlacementAttempt:
    return PlacementAttempt.objects.create(
        department=intake.department,
        intake=intake,
        facility=facility,
        outcome=outcome,
        attempted_by=officer,
        attempted_at=intake.arrived_at + timedelta(minutes=30),
    )


def offer(
    intake: Intake,
    volunteer: Volunteer,
    status: str,
    *,
    sent_after: int = 0,
    answered_after: int | None = None,
    expected_arrival_at: datetime | None = None,
) -> Offer:
    created_at = intake.arrived_at + timedelta(minutes=sent_after)
    responded_at = None
    if status != Offer.Status.PENDING:
        responded_at = intake.arrived_at + timedelta(
            minutes=answered_after if answered_after is not None else 60
        )
    return Offer.objects.create(
        department=intake.department,
        intake=intake,
        volunteer=volunteer,
        wave=1,
        status=status,
        created_at=created_at,
        expires_at=created_at + OFFER_OPEN_FOR,
        responded_at=responded_at,
        expected_arrival_at=expected_arrival_at,
    )


def follow_up(intake: Intake, due_on: date, *, days: int = 7, completed_by: User | None = None) -> FollowUp:
    return FollowUp.objects.create(
        department=intake.department,
        intake=intake,
        days_after_admission=days,
        due_on=due_on,
        completed_at=timezone.now() if completed_by else None,
        completed_by=completed_by,
        outcome=FollowUp.Outcome.IN_TREATMENT if completed_by else "",
    )


# --- many at once -----------------------------------------------------------------------------

# The cycle of states the bulk walk-ins go through, so that every column of the board and every
# figure has rows to count.
BULK_CYCLE = [
    Status.WAITING_FOR_COMPANION,
    Status.COMPANION_ASSIGNED,
    Status.SEARCHING_PLACEMENT,
    Status.PLACED,
    Status.CLOSED,
]


def bulk_walk_ins(
    *,
    department: Department,
    officer: User,
    count: int,
    facilities: list[Facility],
    volunteers: list[Volunteer],
    first_arrival: datetime,
    spacing: timedelta = timedelta(hours=3),
) -> None:
    """``count`` walk-ins with events, offers, placements, attempts and follow-ups, written with
    a handful of bulk inserts (factories one by one would take minutes for a thousand)."""
    people = Person.objects.bulk_create(
        Person(
            department=department, first_name=f"Person{n}", date_of_birth=date(1990, 1, 1) + timedelta(days=n)
        )
        for n in range(count)
    )
    intakes = []
    for n in range(count):
        status = BULK_CYCLE[n % len(BULK_CYCLE)]
        arrived_at = first_arrival + spacing * n
        closed = status == Status.CLOSED
        intakes.append(
            Intake(
                department=department,
                # Every third person comes back: repeat visits to count.
                person=people[n - n % 3],
                logged_by=officer,
                arrived_at=arrived_at,
                status=status,
                close_reason=Intake.CloseReason.DECLINED_TREATMENT if closed else "",
                closed_at=arrived_at + timedelta(minutes=90) if closed else None,
                companion_needed_at=arrived_at if status == Status.WAITING_FOR_COMPANION else None,
            )
        )
    Intake.objects.bulk_create(intakes)
    events, offers, placements, attempts, follow_ups = [], [], [], [], []
    today = timezone.localdate(timezone.now(), department.tzinfo)
    for n, intake in enumerate(intakes):
        at = intake.arrived_at
        events.append(IntakeEvent(intake=intake, to_status=Status.WAITING_FOR_COMPANION, at=at))
        volunteer = volunteers[n % len(volunteers)]
        if intake.status == Status.WAITING_FOR_COMPANION:
            offers.append(_bulk_offer(intake, volunteer, Offer.Status.PENDING, at, None))
            continue
        accepted = at + timedelta(minutes=n % 17 + 1)
        events.append(
            IntakeEvent(
                intake=intake,
                from_status=Status.WAITING_FOR_COMPANION,
                to_status=Status.COMPANION_ASSIGNED,
                at=accepted,
            )
        )
        offers.append(_bulk_offer(intake, volunteer, Offer.Status.ACCEPTED, at, accepted))
        other = volunteers[(n + 1) % len(volunteers)]
        if other != volunteer:
            offers.append(_bulk_offer(intake, other, Offer.Status.DECLINED, at, at + timedelta(minutes=1)))
        if intake.status == Status.COMPANION_ASSIGNED:
            continue
        arrived = accepted + timedelta(minutes=20)
        events.append(
            IntakeEvent(
                intake=intake,
                from_status=Status.COMPANION_ASSIGNED,
                to_status=Status.COMPANION_ARRIVED,
                at=arrived,
            )
        )
        if intake.status == Status.CLOSED:
            events.append(
                IntakeEvent(
                    intake=intake,
                    from_status=Status.COMPANION_ARRIVED,
                    to_status=Status.CLOSED,
                    close_reason=intake.close_reason,
                    at=intake.closed_at,
                )
            )
            continue
        facility = facilities[n % len(facilities)]
        attempts.append(
            PlacementAttempt(
                department=department,
                intake=intake,
                facility=facility,
                outcome=PlacementAttempt.Outcome.NO_BED,
                attempted_by=officer,
                attempted_at=arrived,
            )
        )
        if intake.status == Status.SEARCHING_PLACEMENT:
            continue
        placed = arrived + timedelta(minutes=45 + n % 30)
        events.append(
            IntakeEvent(
                intake=intake, from_status=Status.SEARCHING_PLACEMENT, to_status=Status.PLACED, at=placed
            )
        )
        placements.append(
            Placement(
                department=department,
                intake=intake,
                facility=facility,
                level_of_care=facility.levels_of_care[n % len(facility.levels_of_care)],
                placed_at=placed,
                placed_by=officer,
                admitted_at=placed + timedelta(hours=2) if n % 2 else None,
                admission_confirmed_by=officer if n % 2 else None,
            )
        )
        follow_ups.append(
            FollowUp(
                department=department,
                intake=intake,
                days_after_admission=1,
                due_on=today - timedelta(days=n % 3),
            )
        )
    IntakeEvent.objects.bulk_create(events)
    Offer.objects.bulk_create(offers)
    Placement.objects.bulk_create(placements)
    PlacementAttempt.objects.bulk_create(attempts)
    FollowUp.objects.bulk_create(follow_ups)


def _bulk_offer(
    intake: Intake, volunteer: Volunteer, status: str, at: datetime, answered: datetime | None
) -> Offer:
    return Offer(
        department=intake.department,
        intake=intake,
        volunteer=volunteer,
        wave=1,
        status=status,
        created_at=at,
        expires_at=at + OFFER_OPEN_FOR,
        responded_at=answered,
        expected_arrival_at=answered + timedelta(minutes=30) if status == Offer.Status.ACCEPTED else None,
    )
