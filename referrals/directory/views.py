"""The treatment directory's pages, for coordinators. Thin: selector (404) → role (403) → form →
service → redirect.

The directory is shared by every department, so any coordinator may read and keep it. The
facility search for a walk-in is reached through the walk-in (404 for another department's).
Placement pages live in ``placement_views``.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.access_log import RecordType, record_shown, shows_person
from accounts.models import Role
from accounts.permissions import role_required
from intake.selectors import intake_get_for_user

from . import hsds, selectors, services
from .forms import BedsForm, DirectoryFilterForm, FacilityForm, FacilitySearchForm, HsdsUploadForm
from .models import Facility

PAGE_SIZE = 50
# Multipart framing around the files (boundaries, headers, the CSRF token and the checkbox).
UPLOAD_OVERHEAD = 64 * 1024


@role_required(Role.COORDINATOR)
@require_safe
def facility_list(request: HttpRequest) -> HttpResponse:
    """The shared directory: filters, the bed counts (stale ones marked) and a quick bed update."""
    form = DirectoryFilterForm(request.GET or None)
    page = Paginator(selectors.facilities_search(filters=form.filters()), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "referrals/directory.html",
        {"form": form, "page": page, "query": query.urlencode(), "now": timezone.now()},
    )


@role_required(Role.COORDINATOR)
def facility_create(request: HttpRequest) -> HttpResponse:
    form = FacilityForm(request.POST or None, adding=True)
    if request.method == "POST" and form.is_valid():
        try:
            facility = services.facility_create(data=form.cleaned_data, actor=request.user)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, f"{facility.name} added to the directory.")
            return redirect("referrals:facility_detail", facility_id=facility.pk)
    return render(request, "referrals/facility_form.html", {"form": form, "facility": None})


@role_required(Role.COORDINATOR)
@require_safe
def facility_detail(request: HttpRequest, facility_id: int) -> HttpResponse:
    facility = selectors.facility_get(facility_id=facility_id)
    return render(
        request,
        "referrals/facility_detail.html",
        {"facility": facility, "beds_form": BedsForm(facility=facility), "now": timezone.now()},
    )


@role_required(Role.COORDINATOR)
def facility_edit(request: HttpRequest, facility_id: int) -> HttpResponse:
    facility = selectors.facility_get(facility_id=facility_id)
    stored_name = facility.name  # the form writes its input onto the instance while validating
    form = FacilityForm(request.POST or None, instance=facility)
    if request.method == "POST" and form.is_valid():
        try:
            services.facility_update(facility=facility, data=form.cleaned_data, actor=request.user)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, "Saved.")
            return redirect("referrals:facility_detail", facility_id=facility.pk)
    return render(
        request,
        "referrals/facility_form.html",
        {"form": form, "facility": facility, "stored_name": stored_name},
    )


@role_required(Role.COORDINATOR)
@require_POST
def facility_beds(request: HttpRequest, facility_id: int) -> HttpResponse:
    """Record the beds free now. With htmx, answers the beds cell in place; without, redirects
    back to the page the form was on."""
    facility = selectors.facility_get(facility_id=facility_id)
    form = BedsForm(request.POST, facility=facility)
    if form.is_valid():
        services.facility_capacity_update(
            facility=facility, beds_available=form.cleaned_data["beds_available"], actor=request.user
        )
        if not request.htmx:
            messages.success(request, f"{facility.name}: {facility.beds_available} beds free, counted now.")
    elif not request.htmx:
        messages.error(request, f"{facility.name}: " + " ".join(form.errors["beds_available"]))
    if request.htmx:
        context = {"facility": facility, "beds_form": form, "with_form": True, "now": timezone.now()}
        return render(request, "referrals/_beds.html", context)  # htmx swaps 2xx answers only
    return redirect(_safe_next(request, facility))


def _safe_next(request: HttpRequest, facility: Facility) -> str:
    target = request.POST.get("next", "")
    # A path on this site only: redirect() would take a bare word ("0") for a URL name and fail.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("referrals:facility_detail", kwargs={"facility_id": facility.pk})


@shows_person(RecordType.PLACEMENT)
@role_required(Role.COORDINATOR)
@require_http_methods(["GET", "HEAD", "POST"])
def facility_search(request: HttpRequest, intake_id: UUID) -> HttpResponse:
    """Facilities for one walk-in, prefilled from what the intake says (insurance, gender,
    pregnancy); the freshest bed counts first.

    The filters are POSTed, never put in the URL: built from the person's record, they would
    end up in browser history, proxy logs and the access log. A GET (and a query string, which
    is ignored) shows the search prefilled from the record again.
    """
    intake = intake_get_for_user(user=request.user, intake_id=intake_id)
    record_shown(request, intake)
    form = FacilitySearchForm(
        request.POST if request.method == "POST" else selectors.search_prefill_for(intake=intake)
    )
    facilities = list(selectors.facilities_search(filters=form.filters())[: PAGE_SIZE + 1])
    try:
        attempt_url = reverse("referrals:attempt_create", kwargs={"intake_id": intake.pk})
    except NoReverseMatch:  # placements not installed: the results are still worth reading
        attempt_url = ""
    return render(
        request,
        "referrals/search.html",
        {
            "intake": intake,
            "form": form,
            "facilities": facilities[:PAGE_SIZE],
            "more": len(facilities) > PAGE_SIZE,
            "attempt_url": attempt_url,
            "now": timezone.now(),
        },
    )


# --- HSDS import and export -------------------------------------------------------------------


@role_required(Role.COORDINATOR)
@csrf_exempt  # checked by _hsds_import_page, after the size check: an oversized body is never read
def hsds_import_page(request: HttpRequest) -> HttpResponse:
    """Upload HSDS files; the report lists every refused row, or what was created and updated.

    The report is shown in the answer to the upload (importing the same files again changes
    nothing, so a resubmitted form is harmless).
    """
    if request.method == "POST":
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > hsds.MAX_UPLOAD_BYTES + UPLOAD_OVERHEAD:
            return render(
                request,
                "referrals/hsds_import.html",
                {"form": HsdsUploadForm(), "too_large": True, "max_mb": hsds.MAX_UPLOAD_BYTES // 2**20},
                status=413,
            )
    return _hsds_import_page(request)


@csrf_protect
def _hsds_import_page(request: HttpRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = HsdsUploadForm(request.POST if posted else None, request.FILES if posted else None)
    report = None
    status = 200
    if posted and form.is_valid():
        try:
            files = form.read_files()
        except hsds.HsdsFilesError as error:
            form.add_error("files", str(error))
        else:
            report = hsds.hsds_import(files=files, dry_run=form.cleaned_data["dry_run"])
            status = 200 if report.ok else 422
    if posted and form.errors:
        status = 400
    return render(
        request,
        "referrals/hsds_import.html",
        {"form": form, "report": report, "max_mb": hsds.MAX_UPLOAD_BYTES // 2**20},
        status=status,
    )


@role_required(Role.COORDINATOR)
@require_safe
def hsds_export(request: HttpRequest) -> HttpResponse:
    """The whole directory as a zip of HSDS 3 CSV files."""
    response = HttpResponse(hsds.hsds_export_zip(), content_type="application/zip")
    stamp = timezone.localtime().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="harbor-directory-hsds-{stamp}.zip"'
    return response
