"""The coordinator's live board: what needs the coordinator now, the oldest first.

- waiting for a companion, with the offers still open and declined;
- companions on the way (accepted, not yet arrived), the soonest expected first;
- placement searches in progress, with the calls so far;
- follow-ups due today or overdue (each department's own "today"), not yet done.

Every coordinator watching the board reloads it every 15 seconds, and a network's board shows up
to 200 rows, so it is built to cost little more than an empty page (bench/RESULTS.md): four
queries whatever the number of walk-ins, each fetching only the values shown (``values``: no
model instances, no encrypted field decrypted, no phone number parsed), and each row reaches the
template ready to show, its times already on its department's clock and its link built, so the
template only places them (``_board.html``). Nothing here is written or cached.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypedDict

from django.db.models import F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from accounts.models import Department, User
from config.formats import clock_time, month_day
from config.lookups import AnyOf
from intake.models import Intake
from intake.selectors import with_paging_stalled
from intake.waiting import elapsed, minutes_between, wait_class
from referrals.placement.models import FollowUp, PlacementAttempt
from volunteers.models import Offer

# At most this many rows per column, the oldest first; a full column says "50+" and the walk-ins
# list has the rest. A board is for a glance.
BOARD_LIMIT = 50
# Past this, a time of arrival shows its day too.
SAME_DAY_MINUTES = 12 * 60

Status = Intake.Status


# Rows are dictionaries (typed): the template engine looks a name up as a key first, and an
# object answers that only by raising an exception, once per cell of a few hundred rows.
class Row(TypedDict):
    """What every row starts with: the person's first name, linking to the walk-in, and, on a
    board of several departments, the department's name ("" on one department's board)."""

    url: str
    first_name: str
    department: str


class WaitingRow(Row):
    arrived: str  # "3:04 PM", or "Nov 3, 3:04 PM" after twelve hours
    waited: str  # "12 min"
    wait_class: str  # the CSS classes: amber after 10 minutes, red after 20
    paging_stopped: bool
    asked: int  # offers still open
    declined: int
    escalated: bool  # the coordinators were paged: nobody accepted in time
    nobody_can_be_paged: bool  # nobody asked, nobody left: the coordinators were called at once


class OnTheWayRow(Row):
    companion: str
    accepted_ago: str
    expected: str  # "3:40 PM", or "" when the companion gave no time
    late_by: str  # "5 min" once the expected time has passed, else ""


class SearchingRow(Row):
    since_walk_in: str
    calls: int
    last_call_ago: str  # "" before the first call


class FollowUpRow(Row):
    days_after_admission: int
    due: str  # "Nov 3"
    days_overdue: int
    responsible: str  # "" when nobody is named


@dataclass(frozen=True)
class Board:
    now: datetime
    # The clock the board's own times are shown on: the first department's.
    time_zone: str
    waiting: list[WaitingRow]
    on_the_way: list[OnTheWayRow]
    searching: list[SearchingRow]
    follow_ups_due: list[FollowUpRow]
    # Every walk-in the board names: (intake id, person id, department id), for the access log.
    shown: list[tuple] = field(default_factory=list)
    limit: int = BOARD_LIMIT


class SubqueryCount(Subquery):
    """The number of rows of a correlated queryset, as a subquery."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS counted)"
    output_field = IntegerField()


def _count(rows: QuerySet) -> SubqueryCount:
    return SubqueryCount(rows.order_by().values("pk"))


def _user_fields(relation: str) -> dict[str, F]:
    """The values naming the user at ``relation`` (``User.name_of``), for ``values()``."""
    return {
        "display_name": F(f"{relation}__display_name"),
        "user_first_name": F(f"{relation}__first_name"),
        "user_last_name": F(f"{relation}__last_name"),
        "username": F(f"{relation}__username"),
    }


def _user_name(values: dict) -> str:
    return User.name_of(
        display_name=values["display_name"],
        first_name=values["user_first_name"],
        last_name=values["user_last_name"],
        username=values["username"],
    )


def _of(department_ids: list[int]) -> Q | AnyOf:
    """Rows of these departments. One department is an equality, which PostgreSQL can read from
    an index in the board's order; many are one array parameter (``config.lookups.AnyOf``)."""
    if len(department_ids) == 1:
        return Q(department_id=department_ids[0])
    return AnyOf(F("department_id"), department_ids)


def board_for_coordinator(*, departments: list[Department], now: datetime | None = None) -> Board:
    """The board of ``departments`` (already limited to the coordinator's): four queries."""
    now = now or timezone.now()
    by_id = {department.pk: department for department in departments}
    ids = list(by_id)
    of_departments = _of(ids)
    zones = {department.pk: department.tzinfo for department in departments}
    names = {pk: department.name if len(departments) > 1 else "" for pk, department in by_id.items()}
    # Each row links to its walk-in: the URL is reversed once and filled in per row.
    blank = uuid.UUID(int=0)
    detail_url = reverse("intake:detail", kwargs={"intake_id": blank}).replace(str(blank), "{}")

    shown: list[tuple] = []

    def row(values: dict) -> dict:
        department_id = values["department_id"]
        shown.append((values["intake_id"], values["person_id"], department_id))
        return {
            "url": detail_url.format(values["intake_id"]),
            "first_name": values["first_name"],
            "department": names[department_id],
        }

    # Counts as correlated subqueries rather than joins: PostgreSQL computes them for the rows
    # shown only, after ordering and the limit, not for every open walk-in.
    waiting = []
    for values in (
        with_paging_stalled(
            Intake.objects.filter(of_departments, status=Status.WAITING_FOR_COMPANION), now=now
        )
        .annotate(
            asked=_count(Offer.objects.filter(intake=OuterRef("pk"), status=Offer.Status.PENDING)),
            declined=_count(Offer.objects.filter(intake=OuterRef("pk"), status=Offer.Status.DECLINED)),
        )
        .order_by("arrived_at", "pk")
        .values(
            "department_id",
            "arrived_at",
            "companion_needed_at",
            "paging_escalated_at",
            "asked",
            "declined",
            "nobody_can_be_paged",
            "person_id",
            intake_id=F("pk"),
            first_name=F("person__first_name"),
        )[:BOARD_LIMIT]
    ):
        arrived_at, minutes = values["arrived_at"], minutes_between(values["arrived_at"], now)
        zone = zones[values["department_id"]]
        waiting.append(
            WaitingRow(
                **row(values),
                arrived=clock_time(arrived_at, zone)
                if minutes < SAME_DAY_MINUTES
                else f"{month_day(arrived_at.astimezone(zone))}, {clock_time(arrived_at, zone)}",
                waited=elapsed(arrived_at, now),
                wait_class=wait_class(minutes),
                paging_stopped=values["companion_needed_at"] is None,
                asked=values["asked"],
                declined=values["declined"],
                escalated=values["paging_escalated_at"] is not None,
                nobody_can_be_paged=values["nobody_can_be_paged"],
            )
        )

    on_the_way = []
    for values in (
        Offer.objects.filter(
            of_departments,
            status=Offer.Status.ACCEPTED,
            arrived_at__isnull=True,
            intake__status=Status.COMPANION_ASSIGNED,
        )
        .order_by("expected_arrival_at", "pk")
        .values(
            "department_id",
            "intake_id",
            "responded_at",
            "expected_arrival_at",
            first_name=F("intake__person__first_name"),
            person_id=F("intake__person_id"),
            **_user_fields("volunteer__user"),
        )[:BOARD_LIMIT]
    ):
        expected_at = values["expected_arrival_at"]
        on_the_way.append(
            OnTheWayRow(
                **row(values),
                companion=_user_name(values),
                accepted_ago=elapsed(values["responded_at"], now),
                expected=clock_time(expected_at, zones[values["department_id"]]) if expected_at else "",
                late_by=elapsed(expected_at, now) if expected_at and expected_at < now else "",
            )
        )

    searching = [
        SearchingRow(
            **row(values),
            since_walk_in=elapsed(values["arrived_at"], now),
            calls=values["calls"],
            last_call_ago=elapsed(values["last_call_at"], now) if values["last_call_at"] else "",
        )
        for values in Intake.objects.filter(of_departments, status=Status.SEARCHING_PLACEMENT)
        .annotate(
            calls=_count(PlacementAttempt.objects.filter(intake=OuterRef("pk"))),
            last_call_at=Subquery(
                PlacementAttempt.objects.filter(intake=OuterRef("pk"))
                .order_by("-attempted_at")
                .values("attempted_at")[:1]
            ),
        )
        .order_by("arrived_at", "pk")
        .values(
            "department_id",
            "arrived_at",
            "calls",
            "last_call_at",
            "person_id",
            intake_id=F("pk"),
            first_name=F("person__first_name"),
        )[:BOARD_LIMIT]
    ]

    # Each department's own "today", grouped: a network spans one or two dates, not 200 clauses.
    today_by_department = {pk: timezone.localdate(now, zone) for pk, zone in zones.items()}
    today_of: dict[date, list[int]] = {}
    for pk, today in today_by_department.items():
        today_of.setdefault(today, []).append(pk)
    due = Q(pk__in=[])
    for today, department_ids in today_of.items():
        due |= Q(_of(department_ids), due_on__lte=today)
    follow_ups_due = []
    for values in (
        FollowUp.objects.filter(due, completed_at__isnull=True)
        .order_by("due_on", "pk")
        .values(
            "department_id",
            "intake_id",
            "due_on",
            "days_after_admission",
            first_name=F("intake__person__first_name"),
            person_id=F("intake__person_id"),
            **_user_fields("responsible"),
        )[:BOARD_LIMIT]
    ):
        today = today_by_department[values["department_id"]]
        follow_ups_due.append(
            FollowUpRow(
                **row(values),
                days_after_admission=values["days_after_admission"],
                due=month_day(values["due_on"]),
                days_overdue=(today - values["due_on"]).days,
                responsible=_user_name(values) if values["username"] else "",
            )
        )

    return Board(
        now=now,
        time_zone=departments[0].time_zone,
        waiting=waiting,
        on_the_way=on_the_way,
        searching=searching,
        follow_ups_due=follow_ups_due,
        shown=shown,
    )
