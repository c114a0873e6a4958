"""The coordinator's live board and program figures, and the public summary. Thin: selector →
role → filter form → render. A filter naming a department the coordinator does not coordinate,
or impossible dates, answers 400 with the reason, and computes nothing."""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from accounts.access_log import RecordType, ShownRecord, records_shown, shows_person
from accounts.models import Role
from accounts.permissions import role_required

from . import csv as figures_csv_rows
from . import figures as program
from . import public, selectors, services
from .board import board_for_coordinator
from .forms import DepartmentFilterForm, FiguresFilterForm

# The public figures change once a month (whole months only): caches may keep them an hour.
PUBLIC_MAX_AGE = 3600


@shows_person(RecordType.INTAKE)
@require_safe
@role_required(Role.COORDINATOR)
def board(request: HttpRequest) -> HttpResponse:
    """Who is waiting, who is on the way, searches in progress and follow-ups due; htmx
    refreshes the board part every 15 seconds (each refresh is logged: it shows the people)."""
    form = DepartmentFilterForm(request.GET, departments=selectors.dashboard_departments(user=request.user))
    if not form.is_valid():
        return render(request, "dashboard/board.html", {"form": form}, status=400)
    shown_board = board_for_coordinator(departments=form.chosen_departments())
    records_shown(
        request,
        [
            ShownRecord(RecordType.INTAKE, str(intake_id), person_id, department_id)
            for intake_id, person_id, department_id in shown_board.shown
        ],
    )
    context = {"form": form, "board": shown_board}
    if request.htmx:
        return render(request, "dashboard/_board.html", context)
    return render(request, "dashboard/board.html", context)


@require_safe
@role_required(Role.COORDINATOR)
def figures(request: HttpRequest) -> HttpResponse:
    """The program's figures for a period and departments, with weekly and monthly charts. They
    come from the cache (``program_figures_cached``): the page says when they were computed, and
    when newer ones are being worked out."""
    form = FiguresFilterForm(request.GET, departments=selectors.dashboard_departments(user=request.user))
    if not form.is_valid():
        return render(request, "dashboard/figures.html", {"form": form}, status=400)
    cached = services.program_figures_cached(
        departments=form.chosen_departments(), period=form.chosen_period()
    )
    return render(
        request,
        "dashboard/figures.html",
        {
            "form": form,
            "figures": cached.figures,
            "cached": cached,
            "chart_data": program.chart_data(cached.figures),
        },
    )


@require_safe
@role_required(Role.COORDINATOR)
def figures_csv(request: HttpRequest) -> HttpResponse:
    """The same figures as CSV (aggregates only, never a person's record)."""
    form = FiguresFilterForm(request.GET, departments=selectors.dashboard_departments(user=request.user))
    if not form.is_valid():
        errors = " ".join(message for messages in form.errors.values() for message in messages)
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    figures = services.program_figures_cached(
        departments=form.chosen_departments(), period=form.chosen_period()
    ).figures
    period = figures.period
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="harbor-figures-{period.start:%Y-%m-%d}-to-{period.end:%Y-%m-%d}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["section", "name", "value"])
    writer.writerows(figures_csv_rows.figures_rows(figures))
    return response


@require_safe
@login_not_required
def public_department(request: HttpRequest, department_id: int) -> HttpResponse:
    """The department's "N people have asked us for help" page: no sign-in, counts only."""
    department = selectors.department_get_public(department_id=department_id)
    summary = public.public_summary(department=department)
    return render(request, "dashboard/public.html", {"summary": summary})


@require_safe
@login_not_required
@cache_control(public=True, max_age=PUBLIC_MAX_AGE)
def public_department_json(request: HttpRequest, department_id: int) -> JsonResponse:
    """The same figures as JSON; a suppressed count is ``{"value": null, "suppressed": true}``."""
    department = selectors.department_get_public(department_id=department_id)
    response = JsonResponse(public.public_summary(department=department).as_json())
    # Anyone may show these figures on their own site; nothing here depends on who asks.
    response["Access-Control-Allow-Origin"] = "*"
    return response
