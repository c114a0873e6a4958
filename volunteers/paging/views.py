"""What a volunteer opens from a page: the offer link, then their assignment.

The offer page needs no sign-in to read (it shows only the station and how long the person has
waited); answering it does, as the volunteer it was sent to.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access_log import RecordType, record_shown, records_shown, shows_person
from accounts.models import Role
from accounts.permissions import role_required
from intake import selectors as intake_selectors
from intake.forms import CloseIntakeForm, CompanionDetailsForm, WalkInForm
from intake.models import Intake
from intake.selectors import intake_get_for_user
from intake.services import intake_update_by_companion
from volunteers.paging.models import Offer
from volunteers.roster import selectors as roster_selectors
from volunteers.roster.models import Volunteer

from . import selectors, services, tokens
from .explain import paging_explanation
from .forms import NearFitForm
from .matching import rank_volunteers


def _link_problem(request: HttpRequest, title: str, text: str, status: int) -> HttpResponse:
    return render(request, "volunteers/offer_problem.html", {"title": title, "text": text}, status=status)


def _offer_closed(
    request: HttpRequest, offer: Offer, reason: str, status: int = 200, heading: str = ""
) -> HttpResponse:
    heading = heading or ("Already taken" if reason == services.TAKEN_REASON else "Thank you")
    return render(
        request,
        "volunteers/offer_closed.html",
        {"offer": offer, "reason": reason, "heading": heading},
        status=status,
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def offer_respond(request: HttpRequest, token: str) -> HttpResponse:
    try:
        offer_id = tokens.offer_id_from_token(token)
    except tokens.ExpiredOfferLink:
        return _link_problem(
            request, "This link has expired", "Thank you for checking. The request is closed.", 410
        )
    except tokens.BadOfferLink:
        return _link_problem(
            request, "This link is not valid", "Please open the link exactly as you received it.", 400
        )
    offer = (
        Offer.objects.select_related("intake", "department", "volunteer__user").filter(pk=offer_id).first()
    )
    if offer is None:
        raise Http404
    user = request.user
    if user.is_authenticated and offer.volunteer.user_id != user.pk:
        return _link_problem(
            request,
            "This request was sent to another volunteer",
            "You are signed in as someone else. Sign out and open the link again if this is your phone.",
            403,
        )

    if request.method == "POST":
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        answer = request.POST.get("answer")
        if answer not in {"accept", "decline"}:
            return _link_problem(request, "Please choose", "Press Accept or Decline.", 400)
        try:
            if answer == "accept":
                offer = services.offer_accept(offer_id=offer.pk, volunteer=offer.volunteer)
            else:
                services.offer_decline(offer_id=offer.pk, volunteer=offer.volunteer)
        except services.VolunteerBusy as busy:
            return _offer_closed(request, offer, busy.reason, status=409, heading=busy.heading)
        except services.OfferUnavailable as unavailable:
            return _offer_closed(request, offer, unavailable.reason, status=409)
        if answer == "accept":
            messages.success(request, "Thank you — you are on your way. The station knows you are coming.")
            return redirect("volunteers:assignment", offer_id=offer.pk)
        return render(
            request,
            "volunteers/offer_closed.html",
            {"offer": offer, "reason": "Thank you for letting us know. We are asking someone else."},
        )

    if offer.status == Offer.Status.ACCEPTED and user.is_authenticated:
        return redirect("volunteers:assignment", offer_id=offer.pk)
    if not offer.is_open:
        reason = (
            services.offer_closed_reason(offer)
            if offer.status != Offer.Status.PENDING
            else "This request has expired."
        )
        return _offer_closed(request, offer, reason)
    return render(
        request,
        "volunteers/offer.html",
        {"offer": offer, "minutes_waited": offer.intake.minutes_waiting(timezone.now())},
    )


@shows_person(RecordType.ASSIGNMENT)
@role_required(Role.VOLUNTEER)
def assignment(request: HttpRequest, offer_id: int) -> HttpResponse:
    """The minimum a companion needs: first name, language, needs, status (42 CFR Part 2)."""
    try:
        offer = selectors.assignment_for_user(user=request.user, offer_id=offer_id)
    except Http404:
        ended = selectors.ended_assignment_for_user(user=request.user, offer_id=offer_id)
        if ended is None:
            raise
        # Only that it ended: no detail about the person (nothing of their record is shown).
        records_shown(request, [])
        return render(request, "volunteers/assignment_ended.html", {"offer": ended})
    record_shown(request, offer.intake, record_id=offer.pk)
    return render(request, "volunteers/assignment.html", {"offer": offer, "intake": offer.intake})


@shows_person(RecordType.ASSIGNMENT)
@role_required(Role.VOLUNTEER)
def assignment_details(request: HttpRequest, offer_id: int) -> HttpResponse:
    """The companion corrects the minimum necessary: the first name, the language, the needs."""
    offer = selectors.assignment_for_user(user=request.user, offer_id=offer_id)
    intake = offer.intake
    record_shown(request, intake, record_id=offer.pk)
    form = CompanionDetailsForm(request.POST or None, initial=CompanionDetailsForm.initial_for(intake))
    if request.method == "POST" and form.is_valid():
        try:
            intake_update_by_companion(intake=intake, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, "Saved. Thank you.")
            return redirect("volunteers:assignment", offer_id=offer.pk)
    return render(request, "volunteers/assignment_details.html", {"offer": offer, "form": form})


@shows_person(RecordType.ASSIGNMENT)
@role_required(Role.VOLUNTEER)
@require_POST
def assignment_arrived(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = selectors.assignment_for_user(user=request.user, offer_id=offer_id)
    record_shown(request, offer.intake, record_id=offer.pk)
    return _run(
        request,
        lambda: services.companion_mark_arrived(offer_id=offer.pk, volunteer=offer.volunteer),
        success="Thank you. The desk knows you are here.",
        back=reverse("volunteers:assignment", kwargs={"offer_id": offer.pk}),
    )


# --- the paging panel on the intake page (desk officers and coordinators) ---------------------


@shows_person(RecordType.INTAKE)
def paging_panel(request: HttpRequest, intake_id) -> HttpResponse:
    """Who was paged when, their answers, the expected arrival; refreshed by htmx. Coordinators
    also see the ranking with its reasons and can page someone by hand or stop paging."""
    intake = intake_get_for_user(user=request.user, intake_id=intake_id)
    record_shown(request, intake)
    # The ranking, paging by hand and volunteers' verified numbers (to call them) are for the
    # department's coordinators only: desk officers and volunteers never see them.
    is_coordinator = intake_selectors.intake_coordinated_by(user=request.user, intake=intake)
    show_phones = is_coordinator
    now = timezone.now()
    offers = list(selectors.offers_for_intake(intake=intake))
    state = selectors.paging_state(intake=intake, offers=offers, now=now)
    candidates, explanation = [], None
    if is_coordinator and intake.status == intake.Status.WAITING_FOR_COMPANION:
        candidates = rank_volunteers(intake=intake, limit=10, require_on_call=False)
        explanation = paging_explanation(intake=intake, now=now)
    return render(
        request,
        "volunteers/_paging_panel.html",
        {
            "intake": intake,
            "offers": offers,
            "state": state,
            "candidates": candidates,
            "explanation": explanation,
            "is_coordinator": is_coordinator,
            "show_phones": show_phones,
            "on_call": list(selectors.on_call_now(department=intake.department)) if show_phones else [],
            "now": now,
        },
    )


def _for_coordinator(request: HttpRequest, intake_id) -> Intake:
    """The intake (404 if the user may not see it), if they coordinate its department (else 403:
    a coordinator elsewhere who is also this walk-in's desk officer does not page for it)."""
    intake = intake_get_for_user(user=request.user, intake_id=intake_id)
    if not intake_selectors.intake_coordinated_by(user=request.user, intake=intake):
        raise PermissionDenied
    record_shown(request, intake)
    return intake


@shows_person(RecordType.INTAKE)
@role_required(Role.COORDINATOR)
@require_POST
def paging_page_by_hand(request: HttpRequest, intake_id) -> HttpResponse:
    intake = _for_coordinator(request, intake_id)
    volunteer = Volunteer.objects.filter(
        pk=_int_or_none(request.POST.get("volunteer")), departments=intake.department
    ).first()
    if volunteer is None:
        messages.error(request, "Choose a volunteer of this department to page.")
        return redirect("intake:detail", intake_id=intake.pk)
    return _page(
        request,
        intake,
        lambda: services.offer_page_by_hand(intake=intake, volunteer=volunteer, coordinator=request.user),
        f"{volunteer} has been paged.",
    )


def _run(request: HttpRequest, action, *, success: str, back: str) -> HttpResponse:
    """Run ``action`` (a paging service), say how it went (its OfferUnavailable reason, or
    ``success``) and go back to ``back``."""
    try:
        action()
    except services.OfferUnavailable as unavailable:
        messages.error(request, unavailable.reason)
    else:
        messages.success(request, success)
    return redirect(back)


def _page(request: HttpRequest, intake, page, success: str) -> HttpResponse:
    return _run(request, page, success=success, back=_intake_page(intake))


def _intake_page(intake) -> str:
    return reverse("intake:detail", kwargs={"intake_id": intake.pk})


@shows_person(RecordType.INTAKE)
@role_required(Role.COORDINATOR)
@require_POST
def paging_page_near_fit(request: HttpRequest, intake_id) -> HttpResponse:
    """ "Page Tom anyway": a near fit, relaxing the one rule that left them out."""
    intake = _for_coordinator(request, intake_id)
    form = NearFitForm(request.POST)
    volunteer = None
    if form.is_valid():
        volunteer = Volunteer.objects.filter(
            pk=form.cleaned_data["volunteer"], departments=intake.department
        ).first()
    if volunteer is None:
        messages.error(request, "Choose a near fit of this department to page.")
        return redirect("intake:detail", intake_id=intake.pk)
    rule = form.cleaned_data["rule"]
    return _page(
        request,
        intake,
        lambda: services.offer_page_near_fit(
            intake=intake, volunteer=volunteer, rule=rule, coordinator=request.user
        ),
        f"{volunteer} has been paged anyway.",
    )


@shows_person(RecordType.INTAKE)
@role_required(Role.COORDINATOR)
@require_POST
def paging_stop(request: HttpRequest, intake_id) -> HttpResponse:
    intake = _for_coordinator(request, intake_id)
    withdrawn = services.paging_stop(intake=intake, actor=request.user)
    messages.success(
        request, f"Paging stopped; {withdrawn} open request{'s' if withdrawn != 1 else ''} withdrawn."
    )
    return redirect("intake:detail", intake_id=intake.pk)


@shows_person(RecordType.INTAKE)
@role_required(Role.COORDINATOR)
@require_POST
def paging_resume(request: HttpRequest, intake_id) -> HttpResponse:
    intake = _for_coordinator(request, intake_id)
    return _run(
        request,
        lambda: services.paging_resume(intake=intake, actor=request.user),
        success="Paging resumed: the next wave goes out now.",
        back=_intake_page(intake),
    )


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@shows_person(RecordType.ASSIGNMENT)
@role_required(Role.VOLUNTEER)
@require_POST
def assignment_release(request: HttpRequest, offer_id: int) -> HttpResponse:
    """The companion cannot come after all: someone else is paged at once."""
    offer = selectors.assignment_for_user(user=request.user, offer_id=offer_id)
    record_shown(request, offer.intake, record_id=offer.pk)
    try:
        services.companion_release(offer_id=offer.pk, actor=request.user)
    except services.OfferUnavailable as unavailable:
        messages.error(request, unavailable.reason)
        return redirect("volunteers:assignment", offer_id=offer.pk)
    messages.success(request, "Thank you for telling us. We are asking someone else now.")
    return redirect("volunteers:home")


@shows_person(RecordType.INTAKE)
@role_required(Role.COORDINATOR)
@require_POST
def paging_release(request: HttpRequest, intake_id) -> HttpResponse:
    """A coordinator records that the companion on the way is not coming; paging resumes."""
    intake = _for_coordinator(request, intake_id)
    offer = Offer.objects.filter(intake=intake, status=Offer.Status.ACCEPTED).first()
    if offer is None:
        messages.error(request, "There is no companion to release.")
        return redirect(_intake_page(intake))
    return _run(
        request,
        lambda: services.companion_release(offer_id=offer.pk, actor=request.user),
        success="Companion released; paging has resumed.",
        back=_intake_page(intake),
    )


# --- the desk: logging and closing a walk-in (paging starts and stops with them) -----------


@shows_person(RecordType.INTAKE)
@role_required(Role.DESK_OFFICER, Role.COORDINATOR)
def walk_in_create(request: HttpRequest) -> HttpResponse:
    """Log a walk-in in one step. The answer never depends on whether the person is known:
    repeat visits are suggested to coordinators on the intake page, after the walk-in is saved."""
    departments = intake_selectors.departments_for_walk_ins(user=request.user)
    form = WalkInForm(request.POST or None, departments=departments)
    if request.method == "POST" and form.is_valid():
        intake = services.walk_in_log(
            department=form.chosen_department(),
            officer=request.user,
            person_data=form.person_data(),
            intake_data=form.intake_data(),
        )
        record_shown(request, intake)
        if intake.close_reason == Intake.CloseReason.MEDICAL_TRANSFER:
            messages.error(
                request,
                "Call EMS now (911). This walk-in is recorded as a medical transfer to the ER.",
            )
        else:
            messages.success(request, "Walk-in logged. A companion will be paged.")
        return redirect("intake:detail", intake_id=intake.pk)
    records_shown(request, [])  # the empty form shows nobody
    return render(request, "intake/walk_in_form.html", {"form": form})


@shows_person(RecordType.INTAKE)
@require_POST
def intake_close(request: HttpRequest, intake_id: UUID) -> HttpResponse:
    intake = intake_selectors.intake_get_for_user(user=request.user, intake_id=intake_id)
    record_shown(request, intake)
    form = CloseIntakeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose why this walk-in is being closed.")
        return redirect("intake:detail", intake_id=intake.pk)
    try:
        services.walk_in_close(intake=intake, actor=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("intake:detail", intake_id=intake.pk)
    messages.success(request, "Walk-in closed.")
    return redirect("intake:detail", intake_id=intake.pk)


# --- the volunteer's home: open requests, the assignment, shifts, hours ---------------------------

# How many rows the home page lists; the rest are a tap away on "My shifts".
HOME_SHIFTS = 5
HOME_OFFERS = 5


@role_required(Role.VOLUNTEER)
def home(request: HttpRequest) -> HttpResponse:
    """Open requests, the current assignment, upcoming shifts and hours this month. A volunteer
    who may not be paged (vetting incomplete, profile paused) is told what is missing instead of
    seeing requests or assignments."""
    now = timezone.now()
    volunteer = roster_selectors.volunteer_get_for_user(user=request.user)
    context: dict = {"volunteer": volunteer, "now": now}
    if volunteer is not None:
        tz = roster_selectors.volunteer_time_zone(
            departments=roster_selectors.volunteer_departments(volunteer=volunteer)
        )
        missing = roster_selectors.vetting_missing(volunteer=volunteer, on=timezone.localdate(now, tz))
        context.update(
            missing=missing,
            offers=[]
            if missing
            else [
                {
                    "offer": offer,
                    "link": tokens.offer_link(offer),
                    "minutes_waited": offer.intake.minutes_waiting(now),
                }
                for offer in selectors.open_offers(volunteer=volunteer, now=now)[:HOME_OFFERS]
            ],
            assignments=[]
            if missing
            else list(selectors.active_assignments(volunteer=volunteer)[:HOME_OFFERS]),
            shifts=list(roster_selectors.upcoming_shifts(volunteer=volunteer, now=now)[:HOME_SHIFTS]),
            hours=selectors.hours_this_month(volunteer=volunteer, tz=tz, now=now),
            month_name=timezone.localtime(now, tz).strftime("%B"),
        )
    return render(request, "volunteers/home.html", context)
