"""The companion's pages (phone first) and the coordinator's roster pages (desktop).

Thin: fetch through a roster selector (404) → role (403) → form → roster service → redirect.
Offers and assignments live in ``offer_views``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST, require_safe

from accounts.models import Role
from accounts.permissions import role_required
from accounts.selectors import coordinator_department_ids
from notifications.forms import ContactCodeForm, ContactCodeSendForm
from notifications.selectors import contact_methods, recent_test_pages
from notifications.verification import CHANGED_MEANWHILE, VerificationRefused
from volunteers.roster.models import Volunteer

from . import selectors as roster_selectors
from . import services as roster_services
from .forms import AssignShiftForm, CoverageForm, PreferencesForm, ShiftForm, VettingForm, WeeklyShiftForm

# How many rows the phone pages list; the rest are a tap away on "My shifts".
MY_SHIFTS = 60
ROSTER_SHIFTS = 60


# --- the volunteer's own shifts ---------------------------------------------------------------


def _own_volunteer(request: HttpRequest) -> Volunteer:
    volunteer = roster_selectors.volunteer_get_for_user(user=request.user)
    if volunteer is None:
        raise Http404("No volunteer profile")
    return volunteer


def _calendar_urls(volunteer: Volunteer) -> dict:
    url = settings.HARBOR_SITE_URL.rstrip("/") + reverse(
        "volunteers:calendar_feed", kwargs={"token": volunteer.calendar_token}
    )
    return {"calendar_url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]}


def _my_shifts_page(
    request: HttpRequest,
    volunteer: Volunteer,
    departments: list,
    *,
    once_form: ShiftForm | None = None,
    weekly_form: WeeklyShiftForm | None = None,
) -> HttpResponse:
    now = timezone.now()
    shifts = list(roster_selectors.upcoming_shifts(volunteer=volunteer, now=now)[: MY_SHIFTS + 1])
    tz = roster_selectors.volunteer_time_zone(departments=departments)
    context = {
        "volunteer": volunteer,
        "departments": departments,
        "shifts": shifts[:MY_SHIFTS],
        "more_shifts": len(shifts) > MY_SHIFTS,
        "series": list(roster_selectors.active_series(volunteer=volunteer, now=now)),
        "may_sign_up": bool(departments)
        and roster_selectors.may_be_on_call(volunteer=volunteer, on=timezone.localdate(now, tz)),
        "missing": roster_selectors.vetting_missing(volunteer=volunteer, on=timezone.localdate(now, tz)),
        "once_form": once_form or ShiftForm(departments=departments, prefix="once"),
        "weekly_form": weekly_form or WeeklyShiftForm(departments=departments, prefix="weekly"),
        "now": now,
        **_calendar_urls(volunteer),
    }
    return render(request, "volunteers/my_shifts.html", context)


@role_required(Role.VOLUNTEER)
def my_shifts(request: HttpRequest) -> HttpResponse:
    volunteer = _own_volunteer(request)
    return _my_shifts_page(request, volunteer, roster_selectors.volunteer_departments(volunteer=volunteer))


@role_required(Role.VOLUNTEER)
@require_POST
def shift_add(request: HttpRequest) -> HttpResponse:
    """The volunteer signs up for one shift."""
    volunteer = _own_volunteer(request)
    departments = roster_selectors.volunteer_departments(volunteer=volunteer)
    form = ShiftForm(request.POST, departments=departments, prefix="once")
    if departments and form.is_valid():
        data = form.cleaned_data
        try:
            roster_services.shift_create(
                volunteer=volunteer,
                department=data["department"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                created_by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Thank you — you are on call for that shift.")
            return redirect("volunteers:my_shifts")
    return _my_shifts_page(request, volunteer, departments, once_form=form)


@role_required(Role.VOLUNTEER)
@require_POST
def series_add(request: HttpRequest) -> HttpResponse:
    """The volunteer signs up for the same shift every week."""
    volunteer = _own_volunteer(request)
    departments = roster_selectors.volunteer_departments(volunteer=volunteer)
    form = WeeklyShiftForm(request.POST, departments=departments, prefix="weekly")
    if departments and form.is_valid():
        data = form.cleaned_data
        try:
            _, extension = roster_services.shift_series_create(
                volunteer=volunteer,
                department=data["department"],
                weekday=data["weekday"],
                start_time=data["start"],
                duration=data["duration"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                created_by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _series_message(extension, "your"))
            return redirect("volunteers:my_shifts")
    return _my_shifts_page(request, volunteer, departments, weekly_form=form)


def _series_message(extension: roster_services.Extension, whose: str) -> str:
    created = extension.created
    text = f"Weekly shift added: {created} shift{'s' if created != 1 else ''} on the roster so far."
    if extension.skipped:
        text += (
            f" {extension.skipped} week{'s were' if extension.skipped != 1 else ' was'} skipped: "
            f"{'it overlaps' if extension.skipped == 1 else 'they overlap'} {whose} other shifts."
        )
    return text


@role_required(Role.VOLUNTEER)
@require_POST
def calendar_rotate(request: HttpRequest) -> HttpResponse:
    volunteer = _own_volunteer(request)
    roster_services.calendar_token_rotate(volunteer=volunteer)
    messages.success(
        request,
        "Your calendar has a new secret link. The old one no longer works: subscribe again with this one.",
    )
    return redirect("volunteers:my_shifts")


@login_not_required
@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The volunteer's private iCalendar feed. The secret in the URL is the only key: no sign-in
    (calendar apps cannot sign in), 404 for anything unknown."""
    volunteer = roster_selectors.calendar_volunteer_for_token(token=token)
    if volunteer is None:
        raise Http404
    response = HttpResponse(
        roster_selectors.calendar_feed_ics(volunteer=volunteer), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="harbor-shifts.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- dropping shifts: the volunteer their own, a coordinator anyone's in their departments ----


def _back_to_schedule(request: HttpRequest, volunteer_id: int, volunteer_user_id: int):
    if volunteer_user_id == request.user.pk:
        return redirect("volunteers:my_shifts")
    return redirect("volunteers:roster_volunteer", volunteer_id=volunteer_id)


@role_required(Role.VOLUNTEER, Role.COORDINATOR)
@require_POST
def shift_drop(request: HttpRequest, shift_id: int) -> HttpResponse:
    shift = roster_selectors.shift_get_for_user(user=request.user, shift_id=shift_id)
    try:
        outcome = roster_services.shift_drop(shift=shift, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            "Shift dropped." if outcome == "dropped" else "Shift ended now; the hours so far stay on record.",
        )
    return _back_to_schedule(request, shift.volunteer_id, shift.volunteer.user_id)


@role_required(Role.VOLUNTEER, Role.COORDINATOR)
@require_POST
def series_end(request: HttpRequest, series_id: int) -> HttpResponse:
    series = roster_selectors.series_get_for_user(user=request.user, series_id=series_id)
    try:
        deleted = roster_services.shift_series_end(series=series, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"Weekly shift stopped; {deleted} upcoming shift{'s' if deleted != 1 else ''} removed."
        )
    return _back_to_schedule(request, series.volunteer_id, series.volunteer.user_id)


# --- coordinators -----------------------------------------------------------------------------


@role_required(Role.COORDINATOR)
def coverage(request: HttpRequest) -> HttpResponse:
    """Fourteen days × 24 hours of one department: how many volunteers are on call, gaps in red."""
    departments = roster_selectors.coordinator_departments(user=request.user)
    form = CoverageForm(request.GET or None, departments=departments)
    department, start = form.chosen()
    return render(
        request,
        "volunteers/coverage.html",
        {
            "form": form,
            "departments": departments,
            "department": department,
            "coverage": roster_selectors.department_coverage(department=department, start=start),
            "hours": range(24),
        },
    )


@role_required(Role.COORDINATOR)
def roster_list(request: HttpRequest) -> HttpResponse:
    """A department's volunteers: vetted or what is missing, active, next shift."""
    departments = roster_selectors.coordinator_departments(user=request.user)
    form = CoverageForm(request.GET or None, departments=departments)
    department, _ = form.chosen()
    today = timezone.localdate(timezone=department.tzinfo)
    volunteers = [
        {
            "volunteer": volunteer,
            "missing": roster_selectors.vetting_missing(volunteer=volunteer, on=today, for_coordinator=True),
        }
        for volunteer in roster_selectors.roster_volunteers(department=department)
    ]
    return render(
        request,
        "volunteers/roster.html",
        {
            "form": form,
            "departments": departments,
            "department": department,
            "volunteers": volunteers,
            "now": timezone.now(),
        },
    )


@role_required(Role.COORDINATOR)
def roster_volunteer(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    """One volunteer's upcoming shifts in the coordinator's departments, to drop or add to."""
    volunteer = roster_selectors.volunteer_get_for_coordinator(user=request.user, volunteer_id=volunteer_id)
    department_ids = coordinator_department_ids(user=request.user)
    now = timezone.now()
    shifts = list(
        roster_selectors.upcoming_shifts(volunteer=volunteer, now=now).filter(
            department_id__in=department_ids
        )[: ROSTER_SHIFTS + 1]
    )
    return render(
        request,
        "volunteers/roster_volunteer.html",
        {
            "volunteer": volunteer,
            "missing": roster_selectors.vetting_missing(
                volunteer=volunteer, on=timezone.localdate(now), for_coordinator=True
            ),
            "shifts": shifts[:ROSTER_SHIFTS],
            "more_shifts": len(shifts) > ROSTER_SHIFTS,
            "series": list(
                roster_selectors.active_series(volunteer=volunteer, now=now).filter(
                    department_id__in=department_ids
                )
            ),
            "now": now,
        },
    )


ASSIGN_PREFILL = ("department", "volunteer", "day", "start", "end")


@role_required(Role.COORDINATOR)
def assign(request: HttpRequest) -> HttpResponse:
    """Put a volunteer of the coordinator's departments on call, once or every week. The
    coverage grid links here with the day and hour of a gap filled in."""
    departments = roster_selectors.coordinator_departments(user=request.user)
    initial = {key: request.GET[key] for key in ASSIGN_PREFILL if request.GET.get(key)}
    form = AssignShiftForm(
        request.POST or None,
        departments=departments,
        volunteers=roster_selectors.volunteers_visible_to_coordinator(user=request.user),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["repeat"] == AssignShiftForm.WEEKLY:
                _, extension = roster_services.shift_series_create(
                    volunteer=data["volunteer"],
                    department=data["department"],
                    weekday=data["day"].weekday(),
                    start_time=data["start"],
                    duration=data["duration"],
                    starts_on=data["day"],
                    ends_on=data["until"],
                    created_by=request.user,
                )
                messages.success(request, f"{data['volunteer']}: " + _series_message(extension, "their"))
            else:
                roster_services.shift_create(
                    volunteer=data["volunteer"],
                    department=data["department"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    created_by=request.user,
                )
                messages.success(request, f"{data['volunteer']} is on call for that shift.")
        except ValidationError as error:
            form.add_error(None, error)
        else:
            query = {"department": data["department"].pk}
            today = timezone.localdate(timezone=data["department"].tzinfo)
            if (data["day"] - today).days >= roster_selectors.COVERAGE_DAYS:  # beyond the default fortnight
                query["start"] = data["day"].isoformat()
            return redirect(f"{reverse('volunteers:coverage')}?{urlencode(query)}")
    return render(request, "volunteers/assign.html", {"form": form, "departments": departments})


def _preferences_page(
    request: HttpRequest, volunteer: Volunteer, *, form=None, code_form=None, status: int = 200
) -> HttpResponse:
    test_pages = recent_test_pages(user=volunteer.user)
    context = {
        "form": form or PreferencesForm(instance=volunteer),
        "volunteer": volunteer,
        "contacts": contact_methods(
            user=volunteer.user,
            phone=str(volunteer.phone) if volunteer.phone else "",
            phone_verified=bool(volunteer.phone_verified_at),
            code_form=code_form,
        ),
        "send_url": reverse("volunteers:contact_code_send"),
        "verify_url": reverse("volunteers:contact_verify"),
        "test_pages": test_pages,
        "test_pages_on_their_way": any(page.status in ("pending", "sending") for page in test_pages),
        "can_test": bool(volunteer.verified_phone or volunteer.user.verified_email),
    }
    if request.htmx and request.htmx.target == "test-pages":
        return render(request, "volunteers/_test_pages.html", context, status=status)
    return render(request, "volunteers/preferences.html", context, status=status)


@role_required(Role.VOLUNTEER)
def preferences(request: HttpRequest) -> HttpResponse:
    """The volunteer's own page settings: phone, channels, quiet hours, languages… and which of
    their phone and e-mail are verified (pages go only there), with a test page."""
    volunteer = _own_volunteer(request)
    form = PreferencesForm(request.POST or None, instance=volunteer)
    if request.method == "POST" and form.is_valid():
        updated = roster_services.volunteer_update_preferences(
            volunteer=volunteer,
            data={name: form.cleaned_data[name] for name in roster_services.PREFERENCE_FIELDS},
        )
        if updated.phone_unverified:
            messages.warning(
                request, "Saved. Verify your phone number below: no texts go to it until you do."
            )
        else:
            messages.success(request, "Saved. Thank you.")
        return redirect("volunteers:preferences")
    return _preferences_page(request, volunteer, form=form if request.method == "POST" else None)


@role_required(Role.VOLUNTEER)
@require_POST
def contact_code_send(request: HttpRequest) -> HttpResponse:
    """Text (or e-mail) the volunteer a code for the phone number (or address) on record."""
    volunteer = _own_volunteer(request)
    form = ContactCodeSendForm(request.POST)
    if not form.is_valid():  # not posted by the page's buttons
        messages.error(request, "Choose the phone or the e-mail address to verify.")
        return redirect("volunteers:preferences")
    try:
        sent_to = roster_services.volunteer_contact_code_send(
            volunteer=volunteer, channel=form.cleaned_data["channel"]
        )
    except VerificationRefused as refused:
        messages.error(request, refused.message)
        return _preferences_page(request, volunteer, status=429 if refused.throttled else 400)
    messages.success(request, f"We sent a code to {sent_to}. Enter it below.")
    return redirect(f"{reverse('volunteers:preferences')}#contact-methods")


@role_required(Role.VOLUNTEER)
@require_POST
def contact_verify(request: HttpRequest) -> HttpResponse:
    """The volunteer enters the code we sent: right, and pages may go there."""
    volunteer = _own_volunteer(request)
    form = ContactCodeForm(request.POST)
    if "channel" in form.errors:  # not posted by the page's form
        messages.error(request, "Choose the phone or the e-mail address to verify.")
        return redirect("volunteers:preferences")
    if not form.is_valid():
        return _preferences_page(request, volunteer, code_form=form, status=400)
    channel = form.cleaned_data["channel"]
    try:
        recorded = roster_services.volunteer_contact_confirm(
            volunteer=volunteer, channel=channel, code=form.cleaned_data["code"]
        )
    except VerificationRefused as refused:
        form.add_error("code", refused.message)
        return _preferences_page(request, volunteer, code_form=form, status=400)
    if not recorded:
        messages.error(request, CHANGED_MEANWHILE)
        return redirect(f"{reverse('volunteers:preferences')}#contact-methods")
    messages.success(
        request,
        f"{'Phone number' if channel == 'sms' else 'E-mail address'} verified: pages can reach you there.",
    )
    return redirect(f"{reverse('volunteers:preferences')}#contact-methods")


@role_required(Role.VOLUNTEER)
@require_POST
def test_page(request: HttpRequest) -> HttpResponse:
    """ "Send me a test page": a message by each verified channel; its delivery shows on the page."""
    volunteer = _own_volunteer(request)
    try:
        roster_services.volunteer_test_page_send(volunteer=volunteer)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _preferences_page(request, volunteer, status=409)
    messages.success(request, "Test page sent. Its delivery shows below.")
    return redirect(f"{reverse('volunteers:preferences')}#test-pages")


@role_required(Role.COORDINATOR)
def vetting(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    """A coordinator records a volunteer's vetting, or pauses them."""
    volunteer = roster_selectors.volunteer_get_for_coordinator(user=request.user, volunteer_id=volunteer_id)
    form = VettingForm(request.POST or None, instance=volunteer)
    if request.method == "POST" and form.is_valid():
        roster_services.volunteer_update_vetting(
            volunteer=volunteer,
            coordinator=request.user,
            data={name: form.cleaned_data[name] for name in roster_services.VETTING_FIELDS},
        )
        messages.success(request, f"Vetting record of {volunteer} saved.")
        return redirect("volunteers:roster_volunteer", volunteer_id=volunteer.pk)
    return render(request, "volunteers/vetting.html", {"form": form, "volunteer": volunteer})
