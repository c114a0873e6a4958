"""The desk officer's and coordinator's intake pages. Thin: selector → role → form → service."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.access_log import RecordType, access_log_write, record_shown, records_shown, shown, shows_person
from accounts.models import Role
from accounts.permissions import role_required
from accounts.selectors import access_log_for_person
from notifications.selectors import notifications_for_intake

from . import selectors, services
from .erasure_forms import PersonEraseForm
from .forms import (
    CloseIntakeForm,
    ConsentForm,
    IntakeDetailsForm,
    PersonDetailsForm,
    RepeatVisitDecisionForm,
    RevokeConsentForm,
)
from .models import Intake
from .services.retention import ErasureRefused, person_erase

STAFF = (Role.DESK_OFFICER, Role.COORDINATOR)


@shows_person(RecordType.INTAKE)
@role_required(Role.DESK_OFFICER)
def desk(request: HttpRequest) -> HttpResponse:
    """The desk officer's home: their walk-ins of the last 24 hours, refreshed by htmx."""
    intakes = list(selectors.officer_recent_intakes(user=request.user)[:50])
    records_shown(request, intakes)
    context = {"intakes": intakes, "now": timezone.now()}
    if request.htmx:
        return render(request, "intake/_desk_rows.html", context)
    return render(request, "intake/desk.html", context)


@shows_person(RecordType.INTAKE)
@role_required(Role.COORDINATOR)
def intake_list(request: HttpRequest) -> HttpResponse:
    """Every walk-in of the coordinator's departments, newest first."""
    status = request.GET.get("status", "open")
    if status not in {"", "open", *Intake.Status.values}:
        status = "open"
    page = Paginator(selectors.coordinator_intakes(user=request.user, status=status), 50).get_page(
        request.GET.get("page")
    )
    records_shown(request, page)
    return render(
        request,
        "intake/list.html",
        {"page": page, "status": status, "statuses": Intake.Status.choices, "now": timezone.now()},
    )


@shows_person(RecordType.INTAKE)
def intake_detail(request: HttpRequest, intake_id: UUID) -> HttpResponse:
    intake = selectors.intake_get_for_user(user=request.user, intake_id=intake_id)
    record_shown(request, intake)
    context = {
        "intake": intake,
        "events": intake.events.select_related("actor"),
        "consents": selectors.consents_of(person=intake.person),
        "has_valid_consent": selectors.person_has_valid_consent(person=intake.person),
        "close_form": CloseIntakeForm(),
        "now": timezone.now(),
        "nobody_can_be_paged": selectors.intake_nobody_can_be_paged(intake=intake),
    }
    if request.htmx:
        return render(request, "intake/_status.html", context)
    context["repeat_visits"] = selectors.repeat_visit_suggestions_for(user=request.user, intake=intake)
    for suggestion in context["repeat_visits"]:  # the earlier person's name and visits are shown too
        record_shown(request, suggestion.candidate, record_type=RecordType.PERSON)
    return render(request, "intake/detail.html", context)


@shows_person(RecordType.INTAKE)
def intake_edit(request: HttpRequest, intake_id: UUID) -> HttpResponse:
    """Complete the rest of the record: the officer within their window, or a coordinator. (The
    companion corrects only the minimum necessary, from their assignment.)"""
    intake = selectors.intake_get_for_editing(user=request.user, intake_id=intake_id)
    record_shown(request, intake)
    person_form = PersonDetailsForm(request.POST or None, instance=intake.person, prefix="person")
    intake_form = IntakeDetailsForm(request.POST or None, instance=intake, prefix="intake")
    if request.method == "POST" and person_form.is_valid() and intake_form.is_valid():
        try:
            services.intake_update_details(
                intake=intake,
                actor=request.user,
                person_data={f: person_form.cleaned_data[f] for f in PersonDetailsForm.Meta.fields},
                intake_data={f: intake_form.cleaned_data[f] for f in IntakeDetailsForm.Meta.fields},
                guardian_consent=intake_form.cleaned_data["guardian_consent"],
            )
        except ValidationError as error:
            intake_form.add_error(None, error.messages)
        else:
            messages.success(request, "Saved.")
            return redirect(_back_from_edit(request.user, intake))
    return render(
        request,
        "intake/edit.html",
        {
            "intake": intake,
            "person_form": person_form,
            "intake_form": intake_form,
            "back_url": _back_from_edit(request.user, intake),
        },
    )


def _back_from_edit(user, intake: Intake) -> str:
    return reverse("intake:detail", kwargs={"intake_id": intake.pk})


@shows_person(RecordType.CONSENT)
def consent_create(request: HttpRequest, intake_id: UUID) -> HttpResponse:
    """The consent screen, in plain words and large type, for the person to read and sign."""
    intake = selectors.intake_get_for_user(user=request.user, intake_id=intake_id)
    record_shown(request, intake)
    form = ConsentForm(request.POST or None, initial=ConsentForm.initial_for(intake))
    if request.method == "POST" and form.is_valid():
        services.consent_record(intake=intake, actor=request.user, data=form.cleaned_data)
        messages.success(request, "Consent recorded. Thank you.")
        return redirect("intake:detail", intake_id=intake.pk)
    return render(request, "intake/consent.html", {"intake": intake, "form": form})


@shows_person(RecordType.CONSENT)
@require_POST
def consent_revoke(request: HttpRequest, consent_id: UUID) -> HttpResponse:
    consent = selectors.consent_get_for_user(user=request.user, consent_id=consent_id)
    record_shown(request, consent)
    form = RevokeConsentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The note could not be saved: " + " ".join(form.errors["note"]))
        return redirect("intake:detail", intake_id=consent.intake_id)
    try:
        services.consent_revoke(consent=consent, actor=request.user, note=form.cleaned_data["note"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Consent revoked. Nothing more will be shared under it.")
    return redirect("intake:detail", intake_id=consent.intake_id)


@require_GET
def person_accounting(request: HttpRequest, person_id: UUID) -> HttpResponse:
    """For a coordinator, and printable for the person who asks: every disclosure of their records
    (42 CFR 2.24, 2.25) and every access to them. Viewing it is itself logged, so it lists itself:
    the row is written before the list is read."""
    person = selectors.person_get_for_coordinator(user=request.user, person_id=person_id)
    access_log_write(request=request, records=[shown(person, record_type=RecordType.ACCOUNTING)])
    context = {
        "person": person,
        "disclosures": list(selectors.disclosures_of(person=person)),
        "entries": list(
            access_log_for_person(person_id=person.pk, merged_ids=selectors.people_merged_into(person=person))
        ),
        "now": timezone.now(),
    }
    return render(request, "intake/person_accounting.html", context)


@shows_person(RecordType.INTAKE)
@require_POST
def repeat_visit_decide(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    """A coordinator confirms (links the walk-in to the earlier person) or dismisses a possible
    repeat visit. Both are recorded in the suggestion's change history."""
    suggestion = selectors.repeat_visit_suggestion_get_for_coordinator(
        user=request.user, suggestion_id=suggestion_id
    )
    record_shown(request, suggestion.intake)
    record_shown(request, suggestion.candidate, record_type=RecordType.PERSON)
    form = RepeatVisitDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose whether this is the same person.")
        return redirect("intake:detail", intake_id=suggestion.intake_id)
    decide = (
        services.repeat_visit_link
        if form.cleaned_data["decision"] == "link"
        else services.repeat_visit_dismiss
    )
    try:
        decide(suggestion=suggestion, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            "Linked: this walk-in is now with the earlier visits."
            if form.cleaned_data["decision"] == "link"
            else "Dismissed: kept as a different person.",
        )
    return redirect("intake:detail", intake_id=suggestion.intake_id)


@shows_person(RecordType.PERSON)
def person_erase_view(request: HttpRequest, person_id: UUID) -> HttpResponse:
    """A coordinator erases one person's records on their request (a §2.26-style request):
    confirmed twice (a box and a typed word), logged in the access log, shown by the accounting."""
    person = selectors.person_get_for_coordinator(user=request.user, person_id=person_id)
    record_shown(request, person)
    form = PersonEraseForm(request.POST if request.method == "POST" else None)
    refused = ""
    if request.method == "POST" and form.is_valid():
        try:
            person_erase(person=person, actor=request.user)
        except ErasureRefused as error:
            refused = str(error)
        else:
            messages.success(request, "The person's records were erased. The accounting below records it.")
            return redirect("intake:person_accounting", person_id=person.pk)
    status = 409 if refused else (400 if request.method == "POST" else 200)
    context = {"person": person, "form": form, "refused": refused}
    return render(request, "intake/person_erase.html", context, status=status)


@shows_person(RecordType.DELIVERY_LOG)
@require_GET
def intake_log(request: HttpRequest, intake_id: UUID) -> HttpResponse:
    """What was sent to whom about one walk-in: a coordinator's tool (desk officers get 403)."""
    intake = selectors.intake_get_for_user(user=request.user, intake_id=intake_id)
    if not selectors.intake_coordinated_by(user=request.user, intake=intake):
        raise PermissionDenied
    record_shown(request, intake)
    context = {"intake": intake, "notifications": list(notifications_for_intake(intake_id=intake.pk))}
    if request.htmx:
        return render(request, "notifications/_intake_log_table.html", context)
    return render(request, "notifications/intake_log.html", context)
