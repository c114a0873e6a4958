"""The on-call roster, writes: sign-ups, drops, coordinator assignments, weekly series, and the
volunteer's profile (their own preferences and the coordinator's vetting record).

A volunteer is never on call twice at once, in any department: the services look first, to name
the clashing shift, and the database refuses whatever slips past that look (an exclusion
constraint on the volunteer and ``tstzrange(starts_at, ends_at)``, with btree_gist).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import (
    F,
    Q,
    QuerySet,
)
from django.utils import timezone

from accounts.models import Department, User
from accounts.selectors import coordinator_department_ids
from accounts.services import user_contact_mark_verified
from notifications.models import Notification
from notifications.services import notification_enqueue
from notifications.verification import VerificationRefused, contact_code_check, contact_code_send
from volunteers.roster.models import (
    Shift,
    ShiftSeries,
    Volunteer,
    new_calendar_token,
)
from volunteers.roster.selectors import (
    MAX_DAYS_AHEAD,
    MAX_SHIFT_LENGTH,
    OVERLAP_CONSTRAINTS,
    PAST_GRACE,
    SERIES_HORIZON_DAYS,
    clock_length,
    local_when,
    may_be_on_call,
    occurrence,
)


@transaction.atomic
def calendar_token_rotate(*, volunteer: Volunteer) -> str:
    """A new secret for the volunteer's calendar feed; the old link stops working at once."""
    volunteer.calendar_token = new_calendar_token()
    volunteer.save(update_fields=["calendar_token"])
    return volunteer.calendar_token


# --- writes -----------------------------------------------------------------------------------


def _check_may_schedule(*, actor: User, volunteer: Volunteer, department: Department) -> None:
    """The volunteer themself, or a coordinator of the department, may put them on call."""
    if actor.pk == volunteer.user_id:
        return
    if department.pk not in coordinator_department_ids(user=actor):
        raise PermissionDenied


def _check_volunteer_may_serve(*, volunteer: Volunteer, department: Department, on: date) -> None:
    if not volunteer.departments.filter(pk=department.pk).exists():
        raise ValidationError(f"{volunteer} does not serve {department.name}.")
    if not may_be_on_call(volunteer=volunteer, on=on):
        raise ValidationError(
            "Only active volunteers whose vetting is complete (background check, training, "
            "confidentiality agreement) can be put on call."
        )


def _check_no_overlap(*, volunteer: Volunteer, starts_at: datetime, ends_at: datetime, tz: tzinfo) -> None:
    clash = (
        Shift.objects.filter(volunteer=volunteer, starts_at__lt=ends_at, ends_at__gt=starts_at)
        .select_related("department")
        .first()
    )
    if clash is not None:
        raise ValidationError(
            f"This overlaps the shift on {local_when(clash.starts_at, tz)} – "
            f"{local_when(clash.ends_at, tz, 'g:i A')} ({clash.department.name})."
        )


def _lock_schedule(volunteer: Volunteer) -> None:
    """Serialise writes to one volunteer's shifts (call inside a transaction).

    Two overlapping inserts checked by the exclusion constraint at the same moment can deadlock
    each other in PostgreSQL; taking the volunteer's row lock first makes the second writer wait
    and then see the first one's shift, so it gets a clear "overlaps" message. The constraint
    stays as the backstop for any writer that does not come through here.
    """
    list(Volunteer.objects.select_for_update().filter(pk=volunteer.pk).values_list("pk", flat=True))


def _is_overlap_error(error: IntegrityError) -> bool:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) in OVERLAP_CONSTRAINTS


def shift_create(
    *,
    volunteer: Volunteer,
    department: Department,
    starts_at: datetime,
    ends_at: datetime,
    created_by: User,
    now: datetime | None = None,
) -> Shift:
    """Put ``volunteer`` on call for ``department`` once, from ``starts_at`` to ``ends_at``.

    ``created_by`` is the volunteer themself or a coordinator of the department (else
    PermissionDenied). Raises ValidationError when the volunteer does not serve the department
    or may not be paged, the times are backwards, longer than 24 hours on the clock, in the past,
    more than a year ahead, or overlap another shift of theirs (checked, and refused by the
    database under a race).
    """
    now = now or timezone.now()
    tz = department.tzinfo
    _check_may_schedule(actor=created_by, volunteer=volunteer, department=department)
    if ends_at <= starts_at:
        raise ValidationError("The shift must end after it starts.")
    if clock_length(starts_at, ends_at, tz) > MAX_SHIFT_LENGTH:
        raise ValidationError("A shift can be at most 24 hours.")
    if starts_at < now - PAST_GRACE:
        raise ValidationError("That time has passed. Choose a time from now on.")
    if starts_at > now + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationError("Shifts can be planned up to a year ahead.")
    _check_volunteer_may_serve(
        volunteer=volunteer, department=department, on=timezone.localdate(starts_at, tz)
    )
    with transaction.atomic():
        _lock_schedule(volunteer)
        _check_no_overlap(volunteer=volunteer, starts_at=starts_at, ends_at=ends_at, tz=tz)
        try:
            with transaction.atomic():
                return Shift.objects.create(
                    volunteer=volunteer, department=department, starts_at=starts_at, ends_at=ends_at
                )
        except IntegrityError as error:
            if _is_overlap_error(error):
                raise ValidationError("This overlaps another shift.") from error
            raise


@dataclass(frozen=True)
class Extension:
    """What extending weekly series did: shifts created, and occurrences skipped because they
    overlapped a shift the volunteer already had."""

    created: int = 0
    skipped: int = 0

    def __add__(self, other: Extension) -> Extension:
        return Extension(self.created + other.created, self.skipped + other.skipped)


def shift_series_create(
    *,
    volunteer: Volunteer,
    department: Department,
    weekday: int,
    start_time: time,
    duration: timedelta,
    starts_on: date,
    ends_on: date | None,
    created_by: User,
    now: datetime | None = None,
) -> tuple[ShiftSeries, Extension]:
    """A weekly on-call shift: every ``weekday`` (0 = Monday) at ``start_time`` local time for
    ``duration`` on the clock, from ``starts_on`` until ``ends_on`` (or open-ended).

    Same permission and vetting rules as ``shift_create``. The occurrences up to the horizon are
    created at once; any that would overlap a shift the volunteer already has are skipped (and
    counted in the returned Extension), the others stand.
    """
    now = now or timezone.now()
    tz = department.tzinfo
    today = timezone.localdate(now, tz)
    _check_may_schedule(actor=created_by, volunteer=volunteer, department=department)
    if weekday not in range(7):
        raise ValidationError("Choose a day of the week.")
    if not timedelta(0) < duration <= MAX_SHIFT_LENGTH:
        raise ValidationError("A shift can be at most 24 hours.")
    if starts_on < today:
        raise ValidationError("A weekly shift cannot start in the past.")
    if starts_on > today + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationError("Shifts can be planned up to a year ahead.")
    first = starts_on + timedelta(days=(weekday - starts_on.weekday()) % 7)
    if ends_on is not None and ends_on < first:
        raise ValidationError("There is no such day of the week between those dates.")
    _check_volunteer_may_serve(volunteer=volunteer, department=department, on=today)
    with transaction.atomic():
        series = ShiftSeries.objects.create(
            volunteer=volunteer,
            department=department,
            weekday=weekday,
            start_time=start_time,
            duration=duration,
            starts_on=starts_on,
            ends_on=ends_on,
            created_by=created_by,
        )
        extension = _extend(series=series, now=now, horizon_days=SERIES_HORIZON_DAYS)
    return series, extension


def _series_needing_extension(*, now: datetime, horizon_days: int) -> QuerySet[ShiftSeries]:
    # A day of slack: "today" differs between time zones; _extend decides exactly.
    reach = now.astimezone(UTC).date() + timedelta(days=horizon_days + 1)
    return ShiftSeries.objects.filter(
        Q(materialised_until__isnull=True) | Q(materialised_until__lt=reach),
        Q(ends_on__isnull=True) | Q(materialised_until__isnull=True) | Q(ends_on__gt=F("materialised_until")),
        volunteer__is_active=True,
        volunteer__user__is_active=True,
    )


def shift_series_extend(
    *, series: ShiftSeries | None = None, horizon_days: int = SERIES_HORIZON_DAYS, now: datetime | None = None
) -> Extension:
    """Create the Shift rows of weekly series up to ``horizon_days`` ahead: one series, or every
    series that needs it (the daily task). Idempotent, and safe with several workers at once:
    each series is claimed with FOR UPDATE SKIP LOCKED, and occurrences start after the last
    day already materialised, so an occurrence a volunteer dropped is not created again.
    """
    now = now or timezone.now()
    if series is not None:
        ids = [series.pk]
    else:
        ids = list(_series_needing_extension(now=now, horizon_days=horizon_days).values_list("pk", flat=True))
    total = Extension()
    for pk in ids:
        with transaction.atomic():
            locked = (
                ShiftSeries.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("department", "volunteer__user")
                .filter(pk=pk)
                .first()
            )
            if locked is not None:
                total += _extend(series=locked, now=now, horizon_days=horizon_days)
    return total


def _extend(*, series: ShiftSeries, now: datetime, horizon_days: int) -> Extension:
    """Materialise ``series`` (locked by the caller) up to the horizon."""
    volunteer = series.volunteer
    if not volunteer.is_active or not volunteer.user.is_active:
        return Extension()
    tz = series.department.tzinfo
    today = timezone.localdate(now, tz)
    first = max(series.starts_on, today)
    if series.materialised_until is not None:
        first = max(first, series.materialised_until + timedelta(days=1))
    last = today + timedelta(days=horizon_days)
    if series.ends_on is not None:
        last = min(last, series.ends_on)
    if first > last:
        return Extension()
    day = first + timedelta(days=(series.weekday - first.weekday()) % 7)
    wanted = []
    while day <= last:
        starts_at, ends_at = occurrence(day, series.start_time, series.duration, tz)
        if ends_at > starts_at and ends_at > now:
            wanted.append((starts_at, ends_at))
        day += timedelta(days=7)
    extension = Extension()
    if wanted:
        _lock_schedule(volunteer)
        existing = list(
            Shift.objects.filter(
                volunteer=volunteer, starts_at__lt=wanted[-1][1], ends_at__gt=wanted[0][0]
            ).values_list("starts_at", "ends_at")
        )
        new = [
            Shift(
                volunteer=volunteer,
                department=series.department,
                series=series,
                starts_at=starts_at,
                ends_at=ends_at,
            )
            for starts_at, ends_at in wanted
            if not any(a < ends_at and starts_at < b for a, b in existing)
        ]
        created = 0
        if new:
            # A shift the volunteer signs up for meanwhile wins; the database skips the clash.
            Shift.objects.bulk_create(new, ignore_conflicts=True)
            created = Shift.objects.filter(series=series, starts_at__in=[s.starts_at for s in new]).count()
        extension = Extension(created=created, skipped=len(wanted) - created)
    series.materialised_until = max(series.materialised_until or last, last)
    series.save(update_fields=["materialised_until"])
    return extension


def shift_drop(*, shift: Shift, actor: User, now: datetime | None = None) -> str:
    """Take a shift off the roster. Returns "dropped" or "ended".

    The volunteer may drop their own shift before it starts; a coordinator of its department may
    drop anyone's before it starts, or end one in progress now (the hours so far stay on record).
    A dropped occurrence of a weekly shift stays dropped. Locks the shift row.
    Raises PermissionDenied for anyone else, ValidationError when the shift is over or started.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = Shift.objects.select_for_update().select_related("volunteer").filter(pk=shift.pk).first()
        if locked is None:
            raise ValidationError("This shift has already been removed.")
        is_own = locked.volunteer.user_id == actor.pk
        is_coordinator = locked.department_id in coordinator_department_ids(user=actor)
        if not is_own and not is_coordinator:
            raise PermissionDenied
        if locked.ends_at <= now:
            raise ValidationError("This shift is over; it stays on record.")
        if locked.starts_at > now:
            locked.delete()
            return "dropped"
        if not is_coordinator:
            raise ValidationError(
                "This shift has already started. Please call your coordinator if you cannot stay on call."
            )
        locked.ends_at = now
        locked.save(update_fields=["ends_at"])
        return "ended"


def shift_series_end(*, series: ShiftSeries, actor: User, now: datetime | None = None) -> int:
    """Stop a weekly shift: its occurrences not yet started are deleted and no more are created.
    A shift in progress and past ones stay on record (a series that never started is deleted).
    The volunteer themself or a coordinator of the department. Returns the shifts deleted.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            ShiftSeries.objects.select_for_update(of=("self",))
            .select_related("department", "volunteer")
            .filter(pk=series.pk)
            .first()
        )
        if locked is None:
            raise ValidationError("This weekly shift has already been removed.")
        _check_may_schedule(actor=actor, volunteer=locked.volunteer, department=locked.department)
        deleted, _ = locked.shifts.filter(starts_at__gt=now).delete()
        if not locked.shifts.exists():
            locked.delete()
            return deleted
        today = timezone.localdate(now, locked.department.tzinfo)
        locked.ends_on = min(locked.ends_on or today, today)
        locked.materialised_until = max(locked.materialised_until or locked.ends_on, locked.ends_on)
        locked.save(update_fields=["ends_on", "materialised_until"])
    return deleted


# --- the volunteer's profile ---------------------------------------------------------------


PREFERENCE_FIELDS = (
    "phone",
    "languages",
    "gender",
    "lived_experience",
    "veteran",
    "channels",
    "quiet_hours_start",
    "quiet_hours_end",
    "home_town",
    "call_any_time",
)
VETTING_FIELDS = (
    "is_active",
    "background_check_on",
    "training_completed_on",
    "confidentiality_agreement_signed_on",
)


def _update(volunteer: Volunteer, fields: tuple[str, ...], data: dict[str, Any]) -> Volunteer:
    with transaction.atomic():
        locked = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
        update_fields = list(fields)
        if "phone" in fields and str(locked.phone or "") != str(data["phone"] or ""):
            # A new number has not been proved to reach the volunteer: no pages go there (and
            # no texted answer from it counts) until they enter the code we send it.
            locked.phone_verified_at = None
            update_fields.append("phone_verified_at")
        for name in fields:
            setattr(locked, name, data[name])
        locked.full_clean()
        locked.save(update_fields=update_fields)
    return locked


def volunteer_update_preferences(*, volunteer: Volunteer, data: dict[str, Any]) -> Volunteer:
    """How and when the volunteer wants to be paged, and what matching may use about them.
    Locks the volunteer's row; a changed phone number is no longer verified."""
    return _update(volunteer, PREFERENCE_FIELDS, data)


def volunteer_update_vetting(*, volunteer: Volunteer, coordinator: User, data: dict[str, Any]) -> Volunteer:
    """The coordinator's record of vetting. Unvetted or inactive volunteers are never paged."""
    return _update(volunteer, VETTING_FIELDS, data)


# --- contact methods known to work (DESIGN.md "Notifications") --------------------------------

# One test page a minute is plenty, and keeps the button from flooding a phone.
TEST_PAGE_EVERY = timedelta(seconds=60)


def _contact_value(volunteer: Volunteer, channel: str) -> str:
    if channel == Notification.Channel.SMS:
        return str(volunteer.phone) if volunteer.phone else ""
    return volunteer.user.email


def _home_department(volunteer: Volunteer) -> Department | None:
    return volunteer.departments.order_by("pk").first()


def volunteer_contact_code_send(*, volunteer: Volunteer, channel: str) -> str:
    """Send the volunteer a code for their phone number (``sms``) or e-mail address on record;
    returns where it went. Raises ``VerificationRefused`` (too soon, nothing to verify).
    Side effects and locks: ``notifications.verification.contact_code_send``."""
    department = _home_department(volunteer)
    if department is None:
        raise VerificationRefused("You are not part of a department yet; ask your coordinator.")
    value = _contact_value(volunteer, channel)
    contact_code_send(user=volunteer.user, department=department, channel=channel, value=value)
    return value


def volunteer_contact_confirm(*, volunteer: Volunteer, channel: str, code: str) -> bool:
    """Check the code the volunteer entered; if right, their phone (``volunteer.phone_verified_at``)
    or e-mail address (``user.email_verified_at``) is verified — only if it is still the value the
    code was sent to (one conditional UPDATE). Returns whether it was recorded (False: the value
    changed meanwhile). Raises ``VerificationRefused`` with the reason (a wrong try is counted
    first)."""
    value = _contact_value(volunteer, channel)
    proof = contact_code_check(user=volunteer.user, channel=channel, value=value, code=code)
    if channel == Notification.Channel.EMAIL:
        return user_contact_mark_verified(user=volunteer.user, channel=channel, value=value, at=proof.used_at)
    return bool(
        Volunteer.objects.filter(pk=volunteer.pk, phone=value).update(phone_verified_at=proof.used_at)
    )


def volunteer_test_page_send(*, volunteer: Volunteer, now: datetime | None = None) -> list[Notification]:
    """ "Send me a test page": one message (kind ``test_page``, the station's name only) by each
    verified channel, so the volunteer sees that pages reach them. Locks the volunteer's row so a
    double press sends once; refuses (``ValidationError``) within ``TEST_PAGE_EVERY`` of the
    last, or when no contact is verified. Messages are sent after commit."""
    now = now or timezone.now()
    department = _home_department(volunteer)
    with transaction.atomic():
        locked = Volunteer.objects.select_for_update().select_related("user").get(pk=volunteer.pk)
        user = locked.user
        channels = [
            (channel, to)
            for channel, to in (
                (Notification.Channel.SMS, locked.verified_phone),
                (Notification.Channel.EMAIL, user.verified_email),
            )
            if to
        ]
        if not channels:
            raise ValidationError("Verify your phone number or e-mail address first: pages go only there.")
        if department is None:
            raise ValidationError("You are not part of a department yet; ask your coordinator.")
        if Notification.objects.filter(
            recipient=user, kind=Notification.Kind.TEST_PAGE, created_at__gt=now - TEST_PAGE_EVERY
        ).exists():
            raise ValidationError("A test page went out less than a minute ago. Please wait a moment.")
        attempt = f"{now.timestamp():.6f}"
        sent = [
            notification_enqueue(
                recipient=user,
                department=department,
                kind=Notification.Kind.TEST_PAGE,
                channel=channel,
                to=to,
                context={"station": department.name},
                idempotency_key=f"test_page:{locked.pk}:{attempt}:{channel}",
            )
            for channel, to in channels
        ]
    return [notification for notification in sent if notification is not None]
