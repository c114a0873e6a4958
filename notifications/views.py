"""A coordinator's own contact settings: the phone number they are paged on, and proving it and
their e-mail address with a code (``verification``). The settings page lives here, not in
accounts, because it sends codes through the outbox and accounts may not import notifications.
(The delivery log of one walk-in is intake's page, ``intake.views.intake_log``.)"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required
from accounts.selectors import departments_for_role
from accounts.services import user_contact_mark_verified, user_update_phone

from . import selectors, verification
from .forms import ContactCodeForm, ContactCodeSendForm, StaffPhoneForm

logger = logging.getLogger(__name__)


# --- a coordinator's own contact settings ---------------------------------------------------


def _staff_contact_page(request: HttpRequest, *, phone_form=None, code_form=None, status: int = 200):
    user = request.user
    context = {
        "phone_form": phone_form or StaffPhoneForm(initial={"phone": user.phone}),
        "contacts": selectors.contact_methods(
            user=user,
            phone=str(user.phone) if user.phone else "",
            phone_verified=bool(user.phone_verified_at),
            code_form=code_form,
        ),
        "send_url": reverse("notifications:contact_code_send"),
        "verify_url": reverse("notifications:contact_verify"),
    }
    return render(request, "notifications/contact.html", context, status=status)


@role_required(Role.COORDINATOR)
def contact(request: HttpRequest) -> HttpResponse:
    """Where the coordinator is paged when nobody accepts: their phone and e-mail, verified."""
    if request.method != "POST":
        return _staff_contact_page(request)
    form = StaffPhoneForm(request.POST)
    if not form.is_valid():
        return _staff_contact_page(request, phone_form=form, status=400)
    user_update_phone(user=request.user, phone=form.cleaned_data["phone"] or "")
    messages.success(
        request,
        "Saved. Confirm the number with the code we send you." if form.cleaned_data["phone"] else "Saved.",
    )
    return redirect("notifications:contact")


@role_required(Role.COORDINATOR)
@require_POST
def contact_code_send(request: HttpRequest) -> HttpResponse:
    """Text (or e-mail) the coordinator a code for their phone number (or address) on record."""
    form = ContactCodeSendForm(request.POST)
    if not form.is_valid():  # not posted by the page's buttons
        messages.error(request, "Choose the phone or the e-mail address to verify.")
        return redirect("notifications:contact")
    user = request.user
    channel = form.cleaned_data["channel"]
    value = (str(user.phone) if user.phone else "") if channel == "sms" else user.email
    department = departments_for_role(user=user, role=Role.COORDINATOR).order_by("pk").first()
    try:
        verification.contact_code_send(user=user, department=department, channel=channel, value=value)
    except verification.VerificationRefused as refused:
        messages.error(request, refused.message)
        return _staff_contact_page(request, status=429 if refused.throttled else 400)
    messages.success(request, f"We sent a code to {value}. Enter it below.")
    return redirect("notifications:contact")


@role_required(Role.COORDINATOR)
@require_POST
def contact_verify(request: HttpRequest) -> HttpResponse:
    """The coordinator enters the code: the number or address is verified if it is right."""
    user = request.user
    form = ContactCodeForm(request.POST)
    if "channel" in form.errors:  # not posted by the page's form
        messages.error(request, "Choose the phone or the e-mail address to verify.")
        return redirect("notifications:contact")
    if not form.is_valid():
        return _staff_contact_page(request, code_form=form, status=400)
    channel = form.cleaned_data["channel"]
    value = (str(user.phone) if user.phone else "") if channel == "sms" else user.email
    try:
        proof = verification.contact_code_check(
            user=user, channel=channel, value=value, code=form.cleaned_data["code"]
        )
    except verification.VerificationRefused as refused:
        form.add_error("code", refused.message)
        return _staff_contact_page(request, code_form=form, status=400)
    if not user_contact_mark_verified(user=user, channel=channel, value=value, at=proof.used_at):
        messages.error(request, verification.CHANGED_MEANWHILE)
        return redirect("notifications:contact")
    messages.success(request, f"{'Phone number' if channel == 'sms' else 'E-mail address'} verified.")
    return redirect("notifications:contact")
