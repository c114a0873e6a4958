"""Paging's reads: a volunteer's assignment, an intake's offers, the offer a text reply answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from django.db.models import DurationField, ExpressionWrapper, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Greatest, Least
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from intake.models import Intake
from intake.selectors import STALL_NOTIFICATION_KINDS, companion_intake_ids
from notifications.models import Notification
from volunteers.models import OFFER_OPEN_FOR, Offer, Shift, Volunteer
from volunteers.roster.selectors import local_moment

# After an assignment ends (the walk-in closed, or the person was admitted), its page says only
# that it ended, for this long; then it is gone (404). Nothing about the person is shown then.
ASSIGNMENT_ENDED_NOTICE = timedelta(hours=12)


def _assignments_of(user: User) -> QuerySet[Offer]:
    return Offer.objects.filter(volunteer__user=user, status=Offer.Status.ACCEPTED)


def assignment_for_user(*, user: User, offer_id: int) -> Offer:
    """The volunteer's own assignment (their accepted offer) while it is open, else 404. Open is
    ``intake.selectors.companion_intake_ids``: one definition of the companion for every page."""
    return get_object_or_404(
        _assignments_of(user)
        .filter(intake_id__in=companion_intake_ids(user=user))
        .select_related("intake__person", "intake__department", "volunteer__user", "department"),
        pk=offer_id,
    )


def ended_assignment_for_user(*, user: User, offer_id: int, now: datetime | None = None) -> Offer | None:
    """The volunteer's assignment that ended (closed, or the person admitted) less than
    ``ASSIGNMENT_ENDED_NOTICE`` ago and is no longer open, else None. The page shows only that it
    ended: the station and when, never the person."""
    now = now or timezone.now()
    since = now - ASSIGNMENT_ENDED_NOTICE
    return (
        _assignments_of(user)
        .exclude(intake_id__in=companion_intake_ids(user=user))
        .filter(
            Q(intake__closed_at__gte=since) | Q(intake__placement__admitted_at__gte=since),
        )
        .select_related("department")
        .only("pk", "department__name", "department__time_zone", "intake_id")
        .filter(pk=offer_id)
        .first()
    )


def offers_for_intake(*, intake) -> QuerySet:
    return (
        Offer.objects.filter(intake=intake)
        .select_related("volunteer__user", "paged_by")
        .order_by("created_at", "pk")
    )


def offer_for_sms_reply(*, phone: str, now: datetime | None = None) -> Offer | None:
    """The offer a YES or NO texted from ``phone`` (E.164) answers, or None.

    Only a number verified by exactly one active volunteer counts, and only that volunteer's own
    offers: a number nobody proved (mistyped on a profile, and so someone else's) or one shared
    by two volunteers answers nothing. The most recent offer still open; failing that, the most
    recent one made within ``OFFER_OPEN_FOR``, so that a late answer is told what became of it
    ("someone else is already on the way") rather than that nothing was found.
    """
    now = now or timezone.now()
    owners = list(
        Volunteer.objects.filter(
            phone=phone, phone_verified_at__isnull=False, is_active=True, user__is_active=True
        ).values_list("pk", flat=True)[:2]
    )
    if len(owners) != 1:
        return None
    offers = Offer.objects.filter(volunteer_id=owners[0]).select_related("volunteer__user", "department")
    open_offer = (
        offers.filter(status=Offer.Status.PENDING, expires_at__gt=now).order_by("-created_at", "-pk").first()
    )
    if open_offer is not None:
        return open_offer
    return offers.filter(created_at__gt=now - OFFER_OPEN_FOR).order_by("-created_at", "-pk").first()


def on_call_now(*, department, now: datetime | None = None) -> QuerySet[Volunteer]:
    """The department's active volunteers with a shift covering ``now``, for the coordinator to
    call (the paging panel shows their verified numbers to the department's coordinators)."""
    now = now or timezone.now()
    return (
        Volunteer.objects.filter(
            is_active=True,
            user__is_active=True,
            shifts__department=department,
            shifts__starts_at__lte=now,
            shifts__ends_at__gt=now,
        )
        .select_related("user")
        .distinct()
        .order_by("user__first_name", "user__last_name", "pk")
    )


@dataclass(frozen=True)
class PagingState:
    """Where paging stands for an intake waiting for a companion, for the pages to say plainly.

    ``state``: ``asking`` (an offer is open), ``starting`` (no page has gone out yet: the first
    wave is on its way), ``stalled`` (nobody is asked and nobody is left: the coordinators were
    paged at ``called_at``), ``between`` (nobody is asked right now; the next wave is due),
    ``stopped`` (a coordinator stopped paging), or ``""`` when the intake no longer waits."""

    state: str
    open_offers: int = 0
    called_at: datetime | None = None
    stall_kind: str = ""


def paging_state(*, intake, offers: list[Offer] | None = None, now: datetime | None = None) -> PagingState:
    """``offers``: the intake's offers when the caller already has them (else one query)."""
    now = now or timezone.now()
    if intake.status != intake.Status.WAITING_FOR_COMPANION:
        return PagingState("")
    if intake.companion_needed_at is None:
        return PagingState("stopped")
    offers = list(offers_for_intake(intake=intake)) if offers is None else offers
    open_offers = sum(1 for o in offers if o.status == Offer.Status.PENDING and o.expires_at > now)
    if open_offers:
        return PagingState("asking", open_offers=open_offers)
    # Nobody asked and the coordinators called: the same test as the desk's and the board's
    # (``intake.selectors.with_paging_stalled``), so the panel never disagrees with them.
    stall = (
        Notification.objects.filter(intake=intake, kind__in=STALL_NOTIFICATION_KINDS)
        .order_by("-created_at")
        .values("created_at", "kind")
        .first()
    )
    if stall is not None:
        return PagingState("stalled", called_at=stall["created_at"], stall_kind=stall["kind"])
    return PagingState("starting" if not offers else "between")


# --- the volunteer's home ----------------------------------------------------------------------


def open_offers(*, volunteer: Volunteer, now: datetime | None = None) -> QuerySet[Offer]:
    """Requests this volunteer can still answer: pending, unexpired, the person still waiting."""
    now = now or timezone.now()
    return (
        Offer.objects.filter(
            volunteer=volunteer,
            status=Offer.Status.PENDING,
            expires_at__gt=now,
            intake__status=Intake.Status.WAITING_FOR_COMPANION,
        )
        .select_related("department", "intake")
        .order_by("-created_at")
    )


def active_assignments(*, volunteer: Volunteer) -> QuerySet[Offer]:
    """Accepted offers whose walk-in still needs the companion."""
    return (
        Offer.objects.filter(
            volunteer=volunteer,
            status=Offer.Status.ACCEPTED,
            intake__status__in=Intake.COMPANION_ENGAGED_STATUSES,
        )
        .select_related("department", "intake")
        .order_by("-responded_at")
    )


@dataclass(frozen=True)
class MonthHours:
    on_call: timedelta
    scheduled: timedelta
    assignments: int

    @property
    def on_call_hours(self) -> float:
        return round(self.on_call.total_seconds() / 3600, 1)

    @property
    def scheduled_hours(self) -> float:
        return round(self.scheduled.total_seconds() / 3600, 1)


def _duration(expression) -> ExpressionWrapper:
    return ExpressionWrapper(expression, output_field=DurationField())


def hours_this_month(*, volunteer: Volunteer, tz: tzinfo, now: datetime | None = None) -> MonthHours:
    """Hours on call so far this calendar month (local time), hours still scheduled in it, and
    the number of requests accepted in it. Two aggregate queries, whatever the number of shifts."""
    now = now or timezone.now()
    today = timezone.localdate(now, tz)
    first_day = today.replace(day=1)
    next_first_day = (first_day + timedelta(days=32)).replace(day=1)
    month_start, month_end = local_moment(first_day, time.min, tz), local_moment(next_first_day, time.min, tz)
    zero = Value(timedelta(0), output_field=DurationField())
    totals = Shift.objects.filter(
        volunteer=volunteer, starts_at__lt=month_end, ends_at__gt=month_start
    ).aggregate(
        on_call=Sum(
            Greatest(
                _duration(Least(F("ends_at"), Value(now)) - Greatest(F("starts_at"), Value(month_start))),
                zero,
            )
        ),
        scheduled=Sum(
            Greatest(
                _duration(Least(F("ends_at"), Value(month_end)) - Greatest(F("starts_at"), Value(now))), zero
            )
        ),
    )
    assignments = Offer.objects.filter(
        volunteer=volunteer,
        status=Offer.Status.ACCEPTED,
        responded_at__gte=month_start,
        responded_at__lt=month_end,
    ).count()
    return MonthHours(
        on_call=totals["on_call"] or timedelta(0),
        scheduled=totals["scheduled"] or timedelta(0),
        assignments=assignments,
    )
