"""Placement pages, phone first: calls to facilities, the placement, the ride, the admission;
sharing with a facility under consent; follow-ups. Thin: selector (404) → role (403) → form →
service → redirect. Times are typed and shown in the walk-in's department's time zone.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.access_log import RecordType, record_shown, records_shown, shows_person
from accounts.models import Role, User
from accounts.permissions import role_required
from intake.models import Intake
from intake.selectors import (
    companion_assignment_id,
    consents_of,
    intake_coordinated_by,
    intake_get_for_user,
    intake_recordable_by,
    intakes_visible_to,
)
from referrals.directory.models import Facility
from referrals.directory.selectors import facility_for_prefill

from . import selectors, services
from .forms import (
    AdmissionForm,
    DisclosureForm,
    FollowUpForm,
    PlacementAttemptForm,
    PlacementForm,
    TransportForm,
)
from .models import PlacementAttempt


def _for_recording(request: HttpRequest, intake_id: UUID) -> Intake:
    """The intake (404 if the user may not see its placement), if they may record it (else 403)."""
    intake = intake_get_for_user(user=request.user, intake_id=intake_id, with_companion=True)
    if not intake_recordable_by(user=request.user, intake=intake):
        raise PermissionDenied
    record_shown(request, intake)
    return intake


def _for_disclosure(request: HttpRequest, intake_id: UUID) -> Intake:
    """Sharing with a facility is a coordinator's act (minimum necessary: the companion does not
    see the last name, date of birth or insurance that a referral sheet carries)."""
    intake = intake_get_for_user(user=request.user, intake_id=intake_id, with_companion=True)
    if not intake_coordinated_by(user=request.user, intake=intake):
        raise PermissionDenied
    record_shown(request, intake)
    return intake


def _back_url(user: User, intake: Intake) -> str:
    """The intake page for staff who can see it; the assignment page for the companion."""
    if intakes_visible_to(user=user).filter(pk=intake.pk).exists():
        return reverse("intake:detail", kwargs={"intake_id": intake.pk})
    offer_id = companion_assignment_id(user=user, intake_id=intake.pk)
    return (
        reverse("volunteers:assignment", kwargs={"offer_id": offer_id})
        if offer_id
        else reverse("accounts:home")
    )


def _to_placement(intake: Intake) -> HttpResponse:
    return redirect("referrals:placement", intake_id=intake.pk)


def _now_local(intake: Intake):
    return timezone.localtime(timezone.now(), intake.department.tzinfo).replace(second=0, microsecond=0)


def _facility_from_query(request: HttpRequest) -> Facility | None:
    """``?facility=<id>`` from the directory search: prefilled when it names an active facility."""
    return facility_for_prefill(value=request.GET.get("facility", ""))


def _page(
    request: HttpRequest, template: str, intake: Intake, context: dict, status: int = 200
) -> HttpResponse:
    return render(
        request,
        template,
        {"intake": intake, "back_url": _back_url(request.user, intake), **context},
        status=status,
    )


@shows_person(RecordType.PLACEMENT)
@require_GET
def placement_detail(request: HttpRequest, intake_id: UUID) -> HttpResponse:
    """The placement of one walk-in: the intake page's panel (htmx) or a page of its own."""
    intake = intake_get_for_user(user=request.user, intake_id=intake_id, with_companion=True)
    record_shown(request, intake)
    context = selectors.placement_panel_context(user=request.user, intake=intake)
    if request.htmx:
        return render(request, "referrals/_placement_panel.html", context)
    return _page(request, "referrals/placement.html", intake, context)


@shows_person(RecordType.PLACEMENT)
def attempt_create(request: HttpRequest, intake_id: UUID) -> HttpResponse:
    """Record a call to a facility. ``?facility=<id>`` (the directory's search) prefills it."""
    intake = _for_recording(request, intake_id)
    if not intake.is_open:
        messages.error(request, "This walk-in is already placed or closed.")
        return _to_placement(intake)
    with timezone.override(intake.department.tzinfo):
        facility = _facility_from_query(request)
        form = PlacementAttemptForm(
            request.POST or None, initial={"facility": facility, "attempted_at": _now_local(intake)}
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.placement_attempt_record(
                    intake=intake,
                    actor=request.user,
                    facility=data["facility"],
                    outcome=data["outcome"],
                    attempted_at=data["attempted_at"],
                    note=data["note"],
                )
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                if data["outcome"] == PlacementAttempt.Outcome.BED_OFFERED:
                    messages.success(request, "Call recorded: a bed is offered. Record the placement next.")
                    return redirect(
                        reverse("referrals:placement_create", kwargs={"intake_id": intake.pk})
                        + f"?facility={data['facility'].pk}"
                    )
                messages.success(request, "Call recorded.")
                return _to_placement(intake)
        return _page(request, "referrals/attempt_form.html", intake, {"form": form, "facility": facility})


@shows_person(RecordType.PLACEMENT)
def placement_create(request: HttpRequest, intake_id: UUID) -> HttpResponse:
    """Record the placement (the facility and level of care): the walk-in is then placed."""
    intake = _for_recording(request, intake_id)
    if not intake.is_open:
        messages.error(request, "This walk-in is already placed or closed.")
        return _to_placement(intake)
    with timezone.override(intake.department.tzinfo):
        form = PlacementForm(request.POST or None, initial={"facility": _facility_from_query(request)})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.placement_record(
                    intake=intake,
                    actor=request.user,
                    facility=data["facility"],
                    level_of_care=data["level_of_care"],
                    bed_held_until=data["bed_held_until"],
                )
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                messages.success(request, "Placed in treatment. Record the ride when they leave.")
                return _to_placement(intake)
        return _page(request, "referrals/placement_form.html", intake, {"form": form})


def _placement_or_redirect(request: HttpRequest, intake: Intake):
    record = selectors.placement_for_intake(intake=intake)
    if record is None:
        messages.error(request, "Record the placement first.")
    return record


@shows_person(RecordType.PLACEMENT)
def transport_update(request: HttpRequest, intake_id: UUID) -> HttpResponse:
    """How the person gets there, who drives, when they left and arrived."""
    intake = _for_recording(request, intake_id)
    record = _placement_or_redirect(request, intake)
    if record is None:
        return _to_placement(intake)
    with timezone.override(intake.department.tzinfo):
        form = TransportForm(request.POST or None, initial=TransportForm.initial_for(record))
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.placement_transport_update(
                    placement=record,
                    actor=request.user,
                    mode=data["transport_mode"],
                    by=data["transport_by"],
                    departed_at=data["departed_at"],
                    arrived_at=data["arrived_at"],
                )
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                messages.success(request, "Transport saved.")
                return _to_placement(intake)
        return _page(
            request, "referrals/placement_transport.html", intake, {"form": form, "placement": record}
        )


@shows_person(RecordType.PLACEMENT)
def admission_confirm(request: HttpRequest, intake_id: UUID) -> HttpResponse:
    """The facility confirmed the admission: follow-ups are scheduled."""
    intake = _for_recording(request, intake_id)
    record = _placement_or_redirect(request, intake)
    if record is None:
        return _to_placement(intake)
    if record.admitted_at is not None:
        messages.info(request, "The admission was already confirmed.")
        return _to_placement(intake)
    with timezone.override(intake.department.tzinfo):
        form = AdmissionForm(request.POST or None, initial={"admitted_at": _now_local(intake)})
        if request.method == "POST" and form.is_valid():
            try:
                services.placement_admission_confirm(
                    placement=record, actor=request.user, admitted_at=form.cleaned_data["admitted_at"]
                )
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                messages.success(request, "Admission confirmed. Follow-ups are scheduled.")
                return _to_placement(intake)
        return _page(
            request, "referrals/placement_admission.html", intake, {"form": form, "placement": record}
        )


@shows_person(RecordType.DISCLOSURE)
def disclosure_create(request: HttpRequest, intake_id: UUID) -> HttpResponse:
    """Share a referral sheet with a facility, if a valid consent covers it (42 CFR 2.31)."""
    intake = _for_disclosure(request, intake_id)
    record = selectors.placement_for_intake(intake=intake)
    initial = {"facility": _facility_from_query(request) or (record.facility if record else None)}
    if record:
        initial["level_of_care"] = record.level_of_care
    form = DisclosureForm(request.POST or None, initial=initial)
    refused = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            disclosure = services.disclosure_record(
                intake=intake,
                facility=data["facility"],
                information=selectors.referral_information(
                    person=intake.person, items=data["items"], level_of_care=data["level_of_care"]
                ),
                items=data["items"],
                purpose=data["purpose"],
                actor=request.user,
            )
        except ValidationError as error:
            refused = getattr(error, "code", None) == "no_consent"
            form.add_error(None, error.messages)
        else:
            messages.success(request, "Recorded. Send the sheet below with the notice at its top.")
            return redirect("referrals:disclosure_detail", disclosure_id=disclosure.pk)
    return _page(
        request,
        "referrals/disclosure_form.html",
        intake,
        {
            "form": form,
            "refused": refused,
            "consents": list(consents_of(person=intake.person)[:5]),
        },
        status=403 if refused else 200,
    )


@shows_person(RecordType.DISCLOSURE)
@role_required(Role.COORDINATOR)
@require_GET
def disclosure_detail(request: HttpRequest, disclosure_id: int) -> HttpResponse:
    """The referral sheet as shared: the 42 CFR 2.32 notice first, then exactly what was sent."""
    disclosure = selectors.disclosure_get_for_user(user=request.user, disclosure_id=disclosure_id)
    record_shown(request, disclosure)
    return render(request, "referrals/disclosure_sheet.html", {"disclosure": disclosure})


@shows_person(RecordType.PLACEMENT)
@role_required(Role.COORDINATOR)
@require_GET
def follow_ups(request: HttpRequest) -> HttpResponse:
    """Due and overdue follow-ups of the coordinator's departments (or those coming up)."""
    show = request.GET.get("show", "due")
    if show not in {"due", "upcoming"}:
        show = "due"
    rows = (
        selectors.follow_ups_due_for(user=request.user)
        if show == "due"
        else selectors.follow_ups_upcoming_for(user=request.user)
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    records_shown(request, [follow_up.intake for follow_up in page])
    now = timezone.now()
    for follow_up in page:  # overdue on the department's own date, not the server's
        follow_up.overdue = follow_up.due_on < selectors.local_today(follow_up.department, now)
    return render(request, "referrals/follow_up_list.html", {"page": page, "show": show})


@shows_person(RecordType.PLACEMENT)
@role_required(Role.COORDINATOR)
def follow_up_record(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    """Record how the person is doing at a follow-up."""
    follow_up = selectors.follow_up_get_for_user(user=request.user, follow_up_id=follow_up_id)
    record_shown(request, follow_up.intake, record_id=f"follow_up:{follow_up.pk}")
    department = follow_up.department
    with timezone.override(department.tzinfo):
        now_local = timezone.localtime(timezone.now()).replace(second=0, microsecond=0)
        form = FollowUpForm(request.POST or None, initial={"completed_at": now_local})
        if request.method == "POST" and follow_up.completed_at is None and form.is_valid():
            data = form.cleaned_data
            try:
                services.follow_up_record(
                    follow_up=follow_up,
                    actor=request.user,
                    outcome=data["outcome"],
                    note=data["note"],
                    completed_at=data["completed_at"],
                )
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                messages.success(request, "Follow-up recorded.")
                return redirect("referrals:follow_ups")
        return render(request, "referrals/follow_up_form.html", {"follow_up": follow_up, "form": form})
