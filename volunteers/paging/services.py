"""Paging companions: waves, escalation, first accept wins, arrival. Every timer is a column.

The paging sweep (``tasks.sweep_paging``, every few seconds) and the kick queued when an intake
commits both call ``paging_advance``, which claims the intake with SELECT … FOR UPDATE SKIP
LOCKED: two workers never page the same wave, and a lost or repeated Celery message changes
nothing. Every message is written to the notifications outbox in the same transaction as the
change that causes it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone

from accounts.models import Role, User
from intake.models import Intake
from intake.services import intake_close, intake_create, intake_transition
from notifications.models import Notification
from notifications.services import notification_enqueue
from volunteers.models import OFFER_OPEN_FOR, Offer, Volunteer

from .explain import RELAXABLE_RULES, paging_explanation
from .matching import Candidate, rank_volunteers
from .tokens import offer_link, voice_call_url

logger = logging.getLogger(__name__)

# After the expected arrival time passes, the companion is reminded; if they have still not
# arrived this much later, coordinators are alerted.
ARRIVAL_GRACE = timedelta(minutes=10)
URGENT_KINDS = {Notification.Kind.OFFER, Notification.Kind.ARRIVAL_REMINDER}


# What a volunteer is told when another volunteer accepted first.
TAKEN_REASON = "Someone else is already on the way. Thank you for answering."


class OfferUnavailable(Exception):
    """The offer can no longer be accepted or declined. ``reason`` says why, for the page."""

    heading = "Thank you"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class VolunteerBusy(OfferUnavailable):
    """The volunteer already has an open assignment: one companion, one person. Their offer was
    withdrawn (already committed when this is raised) and paging went on for that walk-in."""

    heading = "You are already with someone"

    def __init__(self, station: str):
        super().__init__(f"You are already with someone at {station}; finish or hand that one back first.")


# --- messages ---------------------------------------------------------------------------------


def _station_context(intake: Intake, now: datetime) -> dict:
    return {
        "station": intake.department.name,
        "station_address": intake.department.street_address,
        "minutes_waited": intake.minutes_waiting(now),
    }


def _in_quiet_hours(volunteer: Volunteer, now: datetime, department) -> bool:
    start, end = volunteer.quiet_hours_start, volunteer.quiet_hours_end
    if start is None or end is None:
        return False
    local = timezone.localtime(now, department.tzinfo).time()
    return start <= local < end if start <= end else (local >= start or local < end)


def _notify_volunteer(*, volunteer: Volunteer, kind: str, offer: Offer, context: dict, now: datetime) -> None:
    """By the volunteer's chosen channels, verified ones only (a page to an unproved number may
    reach a stranger). Quiet hours hold back only what is not urgent (texts that a request was
    filled or cancelled go by email then, if there is a verified one). A request goes by phone
    call to those who chose calls (always, or in their quiet hours); everything else they are
    told by text."""
    user = volunteer.user
    phone, email = volunteer.verified_phone, user.verified_email
    choice = volunteer.channels
    by_call = choice == Volunteer.Channels.VOICE or (
        choice == Volunteer.Channels.SMS_CALL_AT_NIGHT and _in_quiet_hours(volunteer, now, offer.department)
    )
    wants_voice = kind == Notification.Kind.OFFER and by_call and bool(phone)
    texts = (Volunteer.Channels.SMS, Volunteer.Channels.BOTH, Volunteer.Channels.SMS_CALL_AT_NIGHT)
    wants_sms = (choice in texts or (choice == Volunteer.Channels.VOICE and not wants_voice)) and phone
    wants_email = choice in (Volunteer.Channels.EMAIL, Volunteer.Channels.BOTH) and email
    if not wants_sms and not wants_email and not wants_voice:  # whatever verified contact we have
        wants_sms, wants_email = bool(phone), bool(email)
    if kind not in URGENT_KINDS and _in_quiet_hours(volunteer, now, offer.department):
        wants_email = wants_email or bool(wants_sms and email)
        wants_sms = False
    for channel, to in (
        (Notification.Channel.SMS, wants_sms and phone),
        (Notification.Channel.EMAIL, wants_email and email),
    ):
        if to:
            notification_enqueue(
                recipient=user,
                department=offer.department,
                kind=kind,
                channel=channel,
                to=to,
                context=context,
                idempotency_key=f"offer:{offer.pk}:{kind}:{channel}",
                intake=offer.intake,
                offer=offer,
            )
    if wants_voice:
        _call_volunteer(volunteer=volunteer, offer=offer)


def _call_volunteer(*, volunteer: Volunteer, offer: Offer) -> Notification | None:
    """Page by phone call: the call says the station's name and listens for 1 or 2 (the TwiML at
    the offer's signed voice link). One call per offer (idempotency key); only to a verified
    number (None otherwise)."""
    if not volunteer.verified_phone:
        return None
    return notification_enqueue(
        recipient=volunteer.user,
        department=offer.department,
        kind=Notification.Kind.OFFER,
        channel=Notification.Channel.VOICE,
        to=volunteer.verified_phone,
        context={"station": offer.department.name},
        idempotency_key=f"offer:{offer.pk}:{Notification.Kind.OFFER}:{Notification.Channel.VOICE}",
        intake=offer.intake,
        offer=offer,
        call_url=voice_call_url(offer),
    )


def _notify_coordinators(*, intake: Intake, kind: str, context: dict, key: str, voice: bool = False) -> int:
    """Every coordinator of the intake's department, by text and e-mail, each only if verified;
    with ``voice``, by phone call as well (the call speaks templates/notifications/voice/<kind>)."""
    coordinators = User.objects.filter(
        is_active=True, memberships__department=intake.department, memberships__role=Role.COORDINATOR
    ).distinct()
    sent = 0
    for user in coordinators:
        for channel, to in (
            (Notification.Channel.SMS, user.verified_phone),
            (Notification.Channel.EMAIL, user.verified_email),
            (Notification.Channel.VOICE, user.verified_phone if voice else ""),
        ):
            if to and notification_enqueue(
                recipient=user,
                department=intake.department,
                kind=kind,
                channel=channel,
                to=to,
                context=context,
                idempotency_key=f"intake:{intake.pk}:{key}:{user.pk}:{channel}",
                intake=intake,
            ):
                sent += 1
    return sent


# --- paging -----------------------------------------------------------------------------------


def _make_offers(
    *,
    intake: Intake,
    candidates: list[Candidate],
    wave: int,
    source: str,
    now: datetime,
    paged_by: User | None = None,
    relaxed_rule: str = "",
) -> list[Offer]:
    offers = []
    for candidate in candidates:
        offer = Offer.objects.create(
            department=intake.department,
            intake=intake,
            volunteer=candidate.volunteer,
            wave=wave,
            source=source,
            reasons=candidate.reasons_text[:300],
            created_at=now,
            expires_at=now + OFFER_OPEN_FOR,
            paged_by=paged_by,
            relaxed_rule=relaxed_rule,
        )
        context = {**_station_context(intake, now), "link": offer_link(offer)}
        _notify_volunteer(
            volunteer=candidate.volunteer, kind=Notification.Kind.OFFER, offer=offer, context=context, now=now
        )
        offers.append(offer)
    return offers


def _stall_check(*, intake: Intake, now: datetime) -> bool:
    """Page the coordinators at once when the intake (locked by the caller, waiting, paging on)
    has no offer still open: nobody is being asked. The caller has just found nobody left to ask.

    Which stall it is goes in the message: ``nobody_fits`` when nobody was ever paged, else
    ``nobody_left`` (everyone asked declined, did not answer, or went to someone else). Written in
    the caller's transaction. The idempotency key holds the number of offers made so far, so one
    stall pages the coordinators once, and a new stall (a new candidate appeared, was paged and
    declined in turn) pages them again. Returns whether this is a stall."""
    if intake.status != Intake.Status.WAITING_FOR_COMPANION or intake.companion_needed_at is None:
        return False
    offers = intake.offers.all()
    if offers.filter(status=Offer.Status.PENDING, expires_at__gt=now).exists():
        return False
    made = offers.count()
    kind = Notification.Kind.NOBODY_LEFT if made else Notification.Kind.NOBODY_FITS
    _notify_coordinators(intake=intake, kind=kind, context=_station_context(intake, now), key=f"stall:{made}")
    logger.info("paging: nobody can be paged (%s offers made)", made)
    return True


def _page_next_or_stall(*, intake: Intake, now: datetime, source: str) -> list[Offer]:
    """Someone paged for ``intake`` (locked by the caller) is out: page the best candidate left
    at once, or, with nobody left and nobody still asked, page the coordinators (``_stall_check``).
    Does nothing when the intake no longer waits or paging was stopped."""
    if intake.status != Intake.Status.WAITING_FOR_COMPANION or intake.companion_needed_at is None:
        return []
    intake = Intake.objects.select_related("department", "person").get(pk=intake.pk)
    wave = intake.offers.aggregate(n=Max("wave"))["n"] or 1
    offers = _make_offers(
        intake=intake,
        candidates=rank_volunteers(intake=intake, now=now, limit=1),
        wave=wave,
        source=source,
        now=now,
    )
    if not offers:
        _stall_check(intake=intake, now=now)
    return offers


def paging_advance(*, intake_id, now: datetime | None = None) -> list[Offer]:
    """Send the next wave for an intake whose paging timer is due; escalate when it is time.

    Claims the intake with FOR UPDATE SKIP LOCKED and returns at once if another worker holds
    it or nothing is due. Escalation pages the department's coordinators once, after
    ``escalate_after_waves`` waves or ``escalate_after_minutes`` minutes without an acceptance,
    or at once when nobody at all can be paged. Returns the offers made.
    """
    now = now or timezone.now()
    with transaction.atomic():
        intake = (
            Intake.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("department", "person")
            .filter(pk=intake_id, companion_needed_at__lte=now)
            .first()
        )
        if intake is None:
            return []
        if intake.status != Intake.Status.WAITING_FOR_COMPANION:
            intake.companion_needed_at = None
            intake.save(update_fields=["companion_needed_at", "updated_at"])
            return []
        department = intake.department
        wave_interval = timedelta(minutes=department.wave_minutes)
        waves = intake.offers.filter(source=Offer.Source.WAVE).aggregate(
            n=Max("wave"), last=Max("created_at")
        )
        waves_sent, last_wave_at = waves["n"] or 0, waves["last"]
        escalate_at = intake.arrived_at + timedelta(minutes=department.escalate_after_minutes)

        # The timer may be due for the next wave, for the escalation, or both. With nobody left
        # to answer (paging was stopped, then resumed) the next wave need not wait its turn.
        offers: list[Offer] = []
        candidates: list[Candidate] = []
        asking = intake.offers.filter(status=Offer.Status.PENDING).exists()
        if last_wave_at is None or now >= last_wave_at + wave_interval or not asking:
            candidates = rank_volunteers(intake=intake, now=now, limit=department.wave_size)
            offers = _make_offers(
                intake=intake, candidates=candidates, wave=waves_sent + 1, source=Offer.Source.WAVE, now=now
            )
            waves_sent, last_wave_at = waves_sent + 1, now

        # Coordinators are paged once paging has run its course (or at once when nobody can be
        # paged), and again every escalate_after_minutes while the person is still waiting, so
        # that nobody is forgotten once every volunteer has been asked.
        escalation_interval = timedelta(minutes=department.escalate_after_minutes)
        if intake.paging_escalated_at is None:
            escalate = waves_sent > department.escalate_after_waves or now >= escalate_at
        else:
            escalate = now >= intake.paging_escalated_at + escalation_interval
            escalate_at = intake.paging_escalated_at + escalation_interval
        if escalate:
            _notify_coordinators(
                intake=intake,
                kind=Notification.Kind.NOBODY_ACCEPTED,
                context=_station_context(intake, now),
                key=f"nobody-accepted:{intake.minutes_waiting(now)}",
            )
            intake.paging_escalated_at = now
            escalate_at = now + escalation_interval

        if not offers and not asking:
            # Nobody is being asked and nobody is left to ask: the coordinators, at once.
            _stall_check(intake=intake, now=now)

        next_at = min(last_wave_at + wave_interval, escalate_at)
        intake.companion_needed_at = next_at
        intake.save(update_fields=["companion_needed_at", "paging_escalated_at", "updated_at"])
    logger.info("paging: wave %s, %s offers", waves_sent, len(offers))
    return offers


def paging_due_intake_ids(*, now: datetime | None = None, limit: int = 100) -> list:
    now = now or timezone.now()
    return list(
        Intake.objects.filter(companion_needed_at__lte=now)
        .order_by("companion_needed_at")
        .values_list("pk", flat=True)[:limit]
    )


def _lock_waiting(intake: Intake) -> Intake:
    """Lock the intake (first in the lock order) for a coordinator's page; it must still wait."""
    locked = (
        Intake.objects.select_for_update(of=("self",))
        .select_related("department", "person")
        .get(pk=intake.pk)
    )
    if locked.status != Intake.Status.WAITING_FOR_COMPANION:
        raise OfferUnavailable("This person already has a companion, or the walk-in is closed.")
    return locked


def offer_page_by_hand(
    *, intake: Intake, volunteer: Volunteer, coordinator: User, now: datetime | None = None
) -> Offer:
    """A coordinator pages a volunteer of their choosing (on shift or not, but vetted and free)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_waiting(intake)
        eligible = rank_volunteers(intake=locked, now=now, require_on_call=False, only=volunteer)
        if not eligible:
            raise OfferUnavailable(
                "That volunteer cannot be paged for this walk-in (already paged, busy, or not vetted)."
            )
        wave = locked.offers.aggregate(n=Max("wave"))["n"] or 1
        (offer,) = _make_offers(
            intake=locked, candidates=eligible, wave=wave, source=Offer.Source.COORDINATOR, now=now
        )
    return offer


def offer_page_near_fit(
    *, intake: Intake, volunteer: Volunteer, rule: str, coordinator: User, now: datetime | None = None
) -> Offer:
    """A coordinator pages a near fit anyway ("Page Tom anyway"), relaxing for this one offer the
    one rule that left them out: language, gender or not on call (``RELAXABLE_RULES``; never
    vetting, being busy with someone else, or having answered already).

    Locks the intake. The offer records who relaxed which rule (``paged_by``, ``relaxed_rule``;
    its ``created_at`` says when), which the intake's paging history shows. The volunteer is
    texted in this transaction (outbox). Raises OfferUnavailable when the walk-in no longer
    waits or the volunteer is not a near fit for exactly that rule (any more)."""
    now = now or timezone.now()
    if rule not in RELAXABLE_RULES:
        raise OfferUnavailable("Only the language, gender or on-call rule can be relaxed.")
    with transaction.atomic():
        locked = _lock_waiting(intake)
        explanation = paging_explanation(intake=locked, now=now)
        near_fit = next(
            (n for n in explanation.near_fits if n.volunteer.pk == volunteer.pk and n.rule.key == rule),
            None,
        )
        if near_fit is None:
            raise OfferUnavailable(
                "That volunteer cannot be paged anyway for this walk-in (already paged, busy, "
                "not vetted, or left out by another rule)."
            )
        candidate = Candidate(
            volunteer=near_fit.volunteer,
            score=0,
            reasons=[f"paged anyway by {coordinator}: {near_fit.rule.relaxed_text(locked)}"],
        )
        wave = locked.offers.aggregate(n=Max("wave"))["n"] or 1
        (offer,) = _make_offers(
            intake=locked,
            candidates=[candidate],
            wave=wave,
            source=Offer.Source.COORDINATOR,
            now=now,
            paged_by=coordinator,
            relaxed_rule=rule,
        )
    return offer


def paging_stop(*, intake: Intake, actor: User, now: datetime | None = None) -> int:
    """Stop paging for an intake and withdraw the open offers, telling those volunteers."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Intake.objects.select_for_update().get(pk=intake.pk)
        locked.companion_needed_at = None
        locked.save(update_fields=["companion_needed_at", "updated_at"])
        return _withdraw_pending(intake=locked, now=now, kind=Notification.Kind.CANCELLED)


def paging_resume(*, intake: Intake, actor: User, now: datetime | None = None) -> None:
    now = now or timezone.now()
    with transaction.atomic():
        locked = Intake.objects.select_for_update().get(pk=intake.pk)
        if locked.status != Intake.Status.WAITING_FOR_COMPANION:
            raise OfferUnavailable("Only a walk-in still waiting for a companion can be paged.")
        locked.companion_needed_at = now
        locked.save(update_fields=["companion_needed_at", "updated_at"])
    transaction.on_commit(lambda: _kick(locked.pk), robust=True)


def _kick(intake_id) -> None:
    from .tasks import page_intake

    page_intake.delay(str(intake_id))


def paging_kick_on_commit(*, intake: Intake) -> None:
    """Queue the first wave right after the intake commits (the sweep covers a lost message)."""
    if intake.companion_needed_at is not None:
        transaction.on_commit(lambda: _kick(intake.pk), robust=True)


def walk_in_log(
    *,
    department,
    officer: User,
    person_data: dict,
    intake_data: dict,
) -> Intake:
    """The desk logs a walk-in: the intake is recorded (``intake_create``) and, unless it closed
    at once as a medical transfer, the first wave is queued right after commit (the paging sweep
    is the safety net for a lost message). Returns the intake."""
    with transaction.atomic():
        intake = intake_create(
            department=department,
            officer=officer,
            person_data=person_data,
            intake_data=intake_data,
        )
        paging_kick_on_commit(intake=intake)
    return intake


def walk_in_close(*, intake: Intake, actor: User, reason: str) -> Intake:
    """Close a walk-in (``intake_close``) and, in the same transaction, tell everyone still paged
    and a companion still on the way that they are no longer needed. Lock order: the intake
    (``intake_close``), then its offers."""
    with transaction.atomic():
        closed = intake_close(intake=intake, actor=actor, reason=reason)
        offers_withdraw_for_closed_intake(intake=closed, now=closed.closed_at)
    return closed


def _withdraw_pending(*, intake: Intake, now: datetime, kind: str) -> int:
    pending = list(
        Offer.objects.select_for_update(of=("self",))
        .select_related("volunteer__user", "department", "intake")
        .filter(intake=intake, status=Offer.Status.PENDING)
    )
    for offer in pending:
        offer.status = Offer.Status.WITHDRAWN
        offer.responded_at = now
        offer.save(update_fields=["status", "responded_at"])
        _notify_volunteer(
            volunteer=offer.volunteer,
            kind=kind,
            offer=offer,
            context={"station": intake.department.name},
            now=now,
        )
    return len(pending)


def offers_withdraw_for_closed_intake(*, intake: Intake, now: datetime | None = None) -> int:
    """The walk-in closed: tell everyone paged, and a companion still on the way, that they are
    no longer needed (the accepted offer stays accepted: it is the record of who came)."""
    now = now or timezone.now()
    on_the_way = (
        Offer.objects.select_related("volunteer__user", "department", "intake")
        .filter(intake=intake, status=Offer.Status.ACCEPTED, arrived_at__isnull=True)
        .first()
    )
    if on_the_way is not None:
        on_the_way.arrival_check_at = None
        on_the_way.save(update_fields=["arrival_check_at"])
        _notify_volunteer(
            volunteer=on_the_way.volunteer,
            kind=Notification.Kind.CANCELLED,
            offer=on_the_way,
            context={"station": intake.department.name},
            now=now,
        )
    return _withdraw_pending(intake=intake, now=now, kind=Notification.Kind.CANCELLED)


# --- answers ----------------------------------------------------------------------------------


def _offer_for_answer(*, offer_id: int, volunteer: Volunteer, now: datetime) -> tuple[Offer, Intake]:
    offer = Offer.objects.select_related("intake", "department").get(pk=offer_id)
    if offer.volunteer_id != volunteer.pk:
        raise OfferUnavailable("This request was sent to another volunteer.")
    # Lock order everywhere: the intake, then its offers.
    intake = (
        Intake.objects.select_for_update(of=("self",)).select_related("department").get(pk=offer.intake_id)
    )
    offer = (
        Offer.objects.select_for_update(of=("self",)).select_related("department", "intake").get(pk=offer_id)
    )
    return offer, intake


def offer_accept(*, offer_id: int, volunteer: Volunteer, now: datetime | None = None) -> Offer:
    """First accept wins, and one companion is with one person at a time.

    Lock order (the same in every paging service): the intake, then its offers, then the
    volunteer's row. Holding the volunteer's row, the check "no other open assignment" cannot be
    raced by the same volunteer accepting another walk-in: that accept waits for this
    transaction and then sees its assignment. A conditional update plus the partial unique index
    (one accepted offer per intake) make a second acceptance of one walk-in impossible even if the
    lock were bypassed.

    On success the intake moves to companion_assigned, the other open offers of this walk-in are
    withdrawn with a "filled, thank you", the arrival timer starts, and the volunteer's pending
    offers for other walk-ins are withdrawn, each of those walk-ins paging its next candidate at
    once (or its coordinators, with nobody left). Those walk-ins are locked with SKIP LOCKED
    (taking them after the volunteer's row would otherwise break the lock order): one held by
    another transaction keeps its offer, which is refused as below if the volunteer answers it.

    A volunteer who already has an open assignment is refused with ``VolunteerBusy`` (a 409 on the
    page): this offer is withdrawn and the walk-in pages its next candidate, committed before the
    exception is raised. Raises OfferUnavailable with the reason to show otherwise. Accepting
    twice is harmless. Side effects: notifications in the outbox, written in this transaction.
    """
    now = now or timezone.now()
    busy_at = None
    with transaction.atomic():
        offer, intake = _offer_for_answer(offer_id=offer_id, volunteer=volunteer, now=now)
        if offer.status == Offer.Status.ACCEPTED:
            return offer
        if offer.status == Offer.Status.WITHDRAWN and intake.status == Intake.Status.WAITING_FOR_COMPANION:
            # Withdrawn because they went to someone else (``_withdraw_elsewhere``)? Say so.
            elsewhere = _open_assignment(volunteer=volunteer, other_than=offer)
            if elsewhere is not None:
                raise VolunteerBusy(elsewhere.department.name)
        if offer.status != Offer.Status.PENDING:
            raise OfferUnavailable(offer_closed_reason(offer))
        if offer.expires_at <= now:
            raise OfferUnavailable("This request has expired. Thank you for answering.")
        if intake.status != Intake.Status.WAITING_FOR_COMPANION:
            raise OfferUnavailable(TAKEN_REASON)
        today = timezone.localdate(now, timezone=intake.department.tzinfo)
        locked_volunteer = (
            Volunteer.objects.select_for_update(of=("self",)).filter(pk=volunteer.pk).vetted(on=today).first()
        )
        if locked_volunteer is None:
            # Paused, or vetting lapsed since the page went out: never assigned to a person.
            raise OfferUnavailable(
                "Your volunteer record needs attention first. Please call your coordinator."
            )
        elsewhere = _open_assignment(volunteer=volunteer, other_than=offer)
        if elsewhere is not None:
            offer.status = Offer.Status.WITHDRAWN
            offer.responded_at = now
            offer.save(update_fields=["status", "responded_at"])
            _page_next_or_stall(intake=intake, now=now, source=Offer.Source.DECLINE)
            busy_at = elsewhere.department.name
        else:
            expected = now + timedelta(minutes=intake.department.expected_arrival_minutes)
            try:
                with transaction.atomic():
                    updated = Offer.objects.filter(pk=offer.pk, status=Offer.Status.PENDING).update(
                        status=Offer.Status.ACCEPTED,
                        responded_at=now,
                        expected_arrival_at=expected,
                        arrival_check_at=expected,
                    )
            except IntegrityError:
                updated = 0
            if not updated:
                raise OfferUnavailable(TAKEN_REASON)
            intake_transition(
                intake=intake, to_status=Intake.Status.COMPANION_ASSIGNED, actor=volunteer.user, now=now
            )
            _withdraw_pending(intake=intake, now=now, kind=Notification.Kind.FILLED)
            _withdraw_elsewhere(volunteer=volunteer, accepted=offer, now=now)
            offer.refresh_from_db()
    if busy_at is not None:
        raise VolunteerBusy(busy_at)
    return offer


def _open_assignment(*, volunteer: Volunteer, other_than: Offer) -> Offer | None:
    """The volunteer's accepted offer for a walk-in still engaging its companion, if any."""
    return (
        Offer.objects.select_related("department")
        .filter(
            volunteer=volunteer,
            status=Offer.Status.ACCEPTED,
            intake__status__in=Intake.COMPANION_ENGAGED_STATUSES,
        )
        .exclude(pk=other_than.pk)
        .first()
    )


def _withdraw_elsewhere(*, volunteer: Volunteer, accepted: Offer, now: datetime) -> int:
    """The volunteer just accepted ``accepted``: withdraw their pending offers for other walk-ins
    and page the next candidate of each at once. Each walk-in is taken with SKIP LOCKED (see
    ``offer_accept``) inside a savepoint. Returns how many offers were withdrawn."""
    intake_ids = set(
        Offer.objects.filter(volunteer=volunteer, status=Offer.Status.PENDING)
        .exclude(intake_id=accepted.intake_id)
        .values_list("intake_id", flat=True)
    )
    withdrawn = 0
    for intake_id in sorted(intake_ids, key=str):
        with transaction.atomic():
            other = (
                Intake.objects.select_for_update(skip_locked=True, of=("self",)).filter(pk=intake_id).first()
            )
            if other is None:
                continue
            n = Offer.objects.filter(intake=other, volunteer=volunteer, status=Offer.Status.PENDING).update(
                status=Offer.Status.WITHDRAWN, responded_at=now
            )
            if n:
                withdrawn += n
                _page_next_or_stall(intake=other, now=now, source=Offer.Source.DECLINE)
    return withdrawn


def offer_decline(*, offer_id: int, volunteer: Volunteer, now: datetime | None = None) -> Offer:
    """Decline, and page the next candidate at once if the person is still waiting; with nobody
    left to ask and nobody still asked, page the coordinators in this same transaction
    (``_page_next_or_stall``). Locks the intake, then the offer."""
    now = now or timezone.now()
    with transaction.atomic():
        offer, intake = _offer_for_answer(offer_id=offer_id, volunteer=volunteer, now=now)
        if offer.status == Offer.Status.DECLINED:
            return offer
        if offer.status != Offer.Status.PENDING:
            raise OfferUnavailable(offer_closed_reason(offer))
        offer.status = Offer.Status.DECLINED
        offer.responded_at = now
        offer.save(update_fields=["status", "responded_at"])
        _page_next_or_stall(intake=intake, now=now, source=Offer.Source.DECLINE)
    return offer


# --- delivery receipts ------------------------------------------------------------------------

PAGE_NOT_DELIVERED = (Notification.Status.FAILED, Notification.Status.UNDELIVERED)


def offer_delivery_receipt(*, notification_id: int, now: datetime | None = None) -> str:
    """React to a delivery receipt (``notifications.services.notification_delivery_update``).

    Delivered: the recipient is reachable again (their ``unreachable_since`` is cleared).
    A page (kind offer) that failed or came back undelivered: a text is followed by a phone call
    for the same offer if the volunteer has a phone and no call was placed yet; once every
    message of the page failed (the call too), the offer is ``offer_mark_unreachable``. Returns
    what was done: "reachable", "calling", "unreachable" or "nothing".
    """
    now = now or timezone.now()
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None:
        return "nothing"
    if notification.status == Notification.Status.DELIVERED:
        Volunteer.objects.filter(user_id=notification.recipient_id, unreachable_since__isnull=False).update(
            unreachable_since=None
        )
        return "reachable"
    if notification.status not in PAGE_NOT_DELIVERED or notification.offer_id is None:
        return "nothing"
    if notification.kind != Notification.Kind.OFFER:
        return "nothing"
    return offer_page_undelivered(offer_id=notification.offer_id, now=now)


def offer_page_undelivered(*, offer_id: int, now: datetime | None = None) -> str:
    """A message of this offer's page did not arrive. Lock order: the intake, then the offer.

    Still pending: call the volunteer (once) when a text failed and they have a phone; when no
    message of the page can still arrive, mark the offer unreachable. Returns "calling",
    "unreachable" or "nothing" (answered or closed meanwhile, or a message still on its way).
    """
    now = now or timezone.now()
    with transaction.atomic():
        offer = Offer.objects.filter(pk=offer_id).select_related("volunteer__user").first()
        if offer is None:
            return "nothing"
        Intake.objects.select_for_update(of=("self",)).filter(pk=offer.intake_id).first()
        offer = (
            Offer.objects.select_for_update(of=("self",))
            .select_related("volunteer__user", "department", "intake")
            .get(pk=offer_id)
        )
        if offer.status != Offer.Status.PENDING:
            return "nothing"
        page = Notification.objects.filter(offer=offer, kind=Notification.Kind.OFFER)
        texts_failed = page.filter(channel=Notification.Channel.SMS, status__in=PAGE_NOT_DELIVERED).exists()
        called = page.filter(channel=Notification.Channel.VOICE).exists()
        if texts_failed and not called and offer.volunteer.verified_phone:
            _call_volunteer(volunteer=offer.volunteer, offer=offer)
            logger.info("paging: offer %s text not delivered, calling", offer.pk)
            return "calling"
        if page.exclude(status__in=PAGE_NOT_DELIVERED).exists():
            return "nothing"
        offer_mark_unreachable(offer_id=offer_id, now=now)
    return "unreachable"


def offer_mark_unreachable(*, offer_id: int, now: datetime | None = None) -> Offer:
    """No message of this page reached the volunteer: treat it as unanswerable at once.

    Locks the intake, then the offer. A pending offer becomes ``unreachable``; like a decline, it
    pages the next candidate at once, or the coordinators when nobody is left
    (``_page_next_or_stall``). The volunteer is flagged to coordinators (``unreachable_since``,
    kept from the first time). An offer no longer pending is returned unchanged.
    """
    now = now or timezone.now()
    with transaction.atomic():
        offer = Offer.objects.select_related("intake").get(pk=offer_id)
        intake = Intake.objects.select_for_update(of=("self",)).get(pk=offer.intake_id)
        offer = Offer.objects.select_for_update(of=("self",)).select_related("volunteer").get(pk=offer_id)
        if offer.status != Offer.Status.PENDING:
            return offer
        offer.status = Offer.Status.UNREACHABLE
        offer.responded_at = now
        offer.save(update_fields=["status", "responded_at"])
        Volunteer.objects.filter(pk=offer.volunteer_id, unreachable_since__isnull=True).update(
            unreachable_since=now
        )
        logger.info("paging: offer %s unreachable", offer.pk)
        _page_next_or_stall(intake=intake, now=now, source=Offer.Source.UNREACHABLE)
    return offer


def offers_undelivered_due(*, now: datetime | None = None, limit: int = 100) -> list[int]:
    """Pending offers with a page message that did not arrive and none still on its way or
    delivered: what a receipt would have acted on. The paging sweep's safety net, for messages
    the provider refused at once (no receipt ever comes) and receipts lost in transit."""
    now = now or timezone.now()
    page = Notification.objects.filter(offer=OuterRef("pk"), kind=Notification.Kind.OFFER)
    return list(
        Offer.objects.filter(status=Offer.Status.PENDING, expires_at__gt=now)
        .filter(Exists(page.filter(status__in=PAGE_NOT_DELIVERED)))
        .exclude(Exists(page.exclude(status__in=PAGE_NOT_DELIVERED)))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


def offer_closed_reason(offer: Offer) -> str:
    if offer.status == Offer.Status.WITHDRAWN and offer.intake.status in (
        Intake.Status.WAITING_FOR_COMPANION,  # paging was stopped
        Intake.Status.CLOSED,
    ):
        return "This request is no longer needed. Thank you for being ready to help."
    return {
        Offer.Status.DECLINED: "You declined this request. Thank you for letting us know.",
        Offer.Status.EXPIRED: "This request has expired.",
        Offer.Status.WITHDRAWN: TAKEN_REASON,
        Offer.Status.ACCEPTED: "You have already accepted this request.",
        Offer.Status.UNREACHABLE: "We could not reach you in time, so we asked someone else. Thank you.",
    }.get(offer.status, "This request is closed.")


def offers_expire(*, now: datetime | None = None, limit: int = 100) -> int:
    """Expire offers left unanswered past their time. Walk-in by walk-in, each locked (SKIP
    LOCKED, then its offers: the usual lock order); a walk-in left with no open offer pages its
    next candidate at once, or its coordinators with nobody left. Returns how many expired."""
    now = now or timezone.now()
    intake_ids = list(
        Offer.objects.filter(status=Offer.Status.PENDING, expires_at__lte=now)
        .order_by()
        .values_list("intake_id", flat=True)
        .distinct()[:limit]
    )
    expired = 0
    for intake_id in intake_ids:
        with transaction.atomic():
            intake = (
                Intake.objects.select_for_update(skip_locked=True, of=("self",)).filter(pk=intake_id).first()
            )
            if intake is None:
                continue
            n = Offer.objects.filter(intake=intake, status=Offer.Status.PENDING, expires_at__lte=now).update(
                status=Offer.Status.EXPIRED, responded_at=now
            )
            expired += n
            still_asked = intake.offers.filter(status=Offer.Status.PENDING, expires_at__gt=now).exists()
            if n and not still_asked:
                _page_next_or_stall(intake=intake, now=now, source=Offer.Source.DECLINE)
    return expired


# --- arrival ----------------------------------------------------------------------------------


def companion_mark_arrived(*, offer_id: int, volunteer: Volunteer, now: datetime | None = None) -> Offer:
    now = now or timezone.now()
    with transaction.atomic():
        offer, intake = _offer_for_answer(offer_id=offer_id, volunteer=volunteer, now=now)
        if offer.status != Offer.Status.ACCEPTED:
            raise OfferUnavailable("Only the companion who accepted can mark arrival.")
        if offer.arrived_at is not None:
            return offer
        offer.arrived_at = now
        offer.arrival_check_at = None
        offer.save(update_fields=["arrived_at", "arrival_check_at"])
        if intake.status == Intake.Status.COMPANION_ASSIGNED:
            intake_transition(
                intake=intake, to_status=Intake.Status.COMPANION_ARRIVED, actor=volunteer.user, now=now
            )
    return offer


def companion_release(*, offer_id: int, actor: User, now: datetime | None = None) -> Offer:
    """The companion cannot come after all (they say so, or a coordinator records it).

    Their accepted offer is withdrawn (so the one-accepted-offer rule lets someone else accept),
    the intake goes back to waiting and paging resumes at once with those not yet asked.
    """
    now = now or timezone.now()
    with transaction.atomic():
        offer = Offer.objects.select_related("intake").get(pk=offer_id)
        intake = Intake.objects.select_for_update(of=("self",)).get(pk=offer.intake_id)
        offer = Offer.objects.select_for_update().get(pk=offer_id)
        if offer.status != Offer.Status.ACCEPTED or offer.arrived_at is not None:
            raise OfferUnavailable("Only a companion who has not arrived yet can be released.")
        if intake.status != Intake.Status.COMPANION_ASSIGNED:
            raise OfferUnavailable("This walk-in has moved on; nothing to release.")
        offer.status = Offer.Status.WITHDRAWN
        offer.arrival_check_at = None
        offer.save(update_fields=["status", "arrival_check_at"])
        intake = intake_transition(
            intake=intake, to_status=Intake.Status.WAITING_FOR_COMPANION, actor=actor, now=now
        )
        paging_kick_on_commit(intake=intake)
    return offer


def arrival_checks(*, now: datetime | None = None, limit: int = 100) -> int:
    """Remind companions who are late, then alert coordinators. Claims rows with SKIP LOCKED."""
    now = now or timezone.now()
    done = 0
    with transaction.atomic():
        due = list(
            Offer.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("volunteer__user", "intake__department", "department")
            .filter(status=Offer.Status.ACCEPTED, arrived_at__isnull=True, arrival_check_at__lte=now)
            .order_by("arrival_check_at")[:limit]
        )
        for offer in due:
            intake = offer.intake
            if intake.status != Intake.Status.COMPANION_ASSIGNED:
                offer.arrival_check_at = None
            elif offer.arrival_reminded_at is None:
                context = {**_station_context(intake, now), "link": offer_link(offer)}
                _notify_volunteer(
                    volunteer=offer.volunteer,
                    kind=Notification.Kind.ARRIVAL_REMINDER,
                    offer=offer,
                    context=context,
                    now=now,
                )
                offer.arrival_reminded_at = now
                offer.arrival_check_at = now + ARRIVAL_GRACE
            else:
                _notify_coordinators(
                    intake=intake,
                    kind=Notification.Kind.COMPANION_LATE,
                    context=_station_context(intake, now),
                    key=f"companion-late:{offer.pk}",
                )
                offer.arrival_escalated_at = now
                offer.arrival_check_at = None
            offer.save(update_fields=["arrival_check_at", "arrival_reminded_at", "arrival_escalated_at"])
            done += 1
    return done
