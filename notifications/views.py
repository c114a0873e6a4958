"""The delivery log coordinators read: what was sent to whom about one walk-in."""

from __future__ import annotations

import logging
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.access_log import RecordType, record_shown, shows_person
from accounts.selectors import coordinator_department_ids
from intake.selectors import intake_get_for_user

from . import selectors

logger = logging.getLogger(__name__)


@shows_person(RecordType.DELIVERY_LOG)
@require_GET
def intake_log(request: HttpRequest, intake_id: UUID) -> HttpResponse:
    """What was sent to whom about one walk-in: a coordinator's tool (desk officers get 403)."""
    intake = intake_get_for_user(user=request.user, intake_id=intake_id)
    if intake.department_id not in coordinator_department_ids(user=request.user):
        raise PermissionDenied
    record_shown(request, intake)
    context = {"intake": intake, "notifications": list(selectors.notifications_for_intake(intake=intake))}
    if request.htmx:
        return render(request, "notifications/_intake_log_table.html", context)
    return render(request, "notifications/intake_log.html", context)
