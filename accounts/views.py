from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from .forms import LoginForm, ReauthenticateForm, TwoFactorCodeForm
from .models import Role
from .permissions import role_required
from .selectors import (
    account_unlock_allowed,
    locked_out_users_for,
    primary_role,
    users_coordinated_by,
    users_unlockable_by,
)
from .services import account_unlock
from .two_factor import (
    enrolment_display,
    recovery_codes_left,
    recovery_codes_replace,
    totp_device_for_enrolment,
    totp_enrol,
    two_factor_enrolled,
    two_factor_required,
    two_factor_verify,
)

ROLE_HOMES = {
    Role.ADMINISTRATOR: "admin:index",
    Role.COORDINATOR: "dashboard:board",
    Role.DESK_OFFICER: "intake:desk",
    Role.VOLUNTEER: "volunteers:home",
}


# Volunteers answer pages from their phone at night: they stay signed in for 30 days there.
# Everyone else keeps the default session (SESSION_COOKIE_AGE, 12 hours).
VOLUNTEER_SESSION_AGE = timedelta(days=30)


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        if primary_role(user=form.get_user()) == Role.VOLUNTEER:
            self.request.session.set_expiry(int(VOLUNTEER_SESSION_AGE.total_seconds()))
        return response


def home(request: HttpRequest) -> HttpResponse:
    """Send each user to the home page of their role."""
    role = primary_role(user=request.user)
    if role is None:
        return render(request, "accounts/no_role.html", status=403)
    return redirect(ROLE_HOMES[role])


def _safe_next(request: HttpRequest) -> str:
    """The ``next`` parameter if it is a path on this site, else the user's home."""
    next_url = request.POST.get("next") or request.GET.get("next", "")
    # A path on this site only: redirect() would take a bare word ("0") for a URL name and fail.
    if not next_url.startswith("/") or not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = resolve_url(settings.LOGIN_REDIRECT_URL)
    return next_url


def reauthenticate(request: HttpRequest) -> HttpResponse:
    """ "Confirm it's you": a volunteer re-enters their password to see case details again."""
    next_url = _safe_next(request)
    form = ReauthenticateForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        # A new session key after a fresh password entry; user_logged_in restarts the clock.
        login(request, form.user_cache)
        return redirect(next_url)
    return render(request, "accounts/reauthenticate.html", {"form": form, "next": next_url})


@role_required(Role.COORDINATOR, Role.ADMINISTRATOR)
def locked_out_list(request: HttpRequest) -> HttpResponse:
    """Accounts of the coordinator's (or administrator's) departments locked after repeated
    failed sign-ins; an administrator's account can be unlocked by an administrator only."""
    users = list(locked_out_users_for(coordinator=request.user))
    unlockable_ids = users_unlockable_by(actor=request.user, users=users)
    context = {"locked_out_users": users, "unlockable_ids": unlockable_ids}
    return render(request, "accounts/locked_out_list.html", context)


@require_POST
@role_required(Role.COORDINATOR, Role.ADMINISTRATOR)
def account_unlock_view(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(users_coordinated_by(coordinator=request.user), pk=user_id)
    if not account_unlock_allowed(actor=request.user, user=user):
        raise PermissionDenied("Only an administrator can unlock an administrator's account.")
    account_unlock(coordinator=request.user, user=user)
    messages.success(request, f"{user} can sign in again.")
    return redirect("accounts:locked_out_list")


@require_http_methods(["GET", "POST"])
def two_factor_verify_view(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the authenticator app or a recovery code."""
    next_url = _safe_next(request)
    if request.user.is_verified():
        return redirect(next_url)
    if not two_factor_enrolled(user=request.user):
        return redirect(f"{reverse('accounts:two_factor_setup')}?{urlencode({'next': next_url})}")
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        verification = two_factor_verify(request=request, token=form.cleaned_data["otp_token"])
        if verification.device is not None:
            if isinstance(verification.device, StaticDevice):
                left = recovery_codes_left(user=request.user)
                messages.warning(
                    request,
                    f"You used a recovery code; {left} left. Each works once — "
                    "make new ones from your account menu when you run low.",
                )
            return redirect(next_url)
        if verification.throttled:
            form.add_error("otp_token", "Too many wrong codes. Please wait a minute, then try again.")
        else:
            form.add_error(
                "otp_token",
                "That code did not work. Codes change every 30 seconds: enter the one your app "
                "shows now, and check that your phone's clock is right.",
            )
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": next_url})


@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the QR code (or type the key), then enter its code.

    Someone already enrolled must verify first (a password alone must not let anyone put their
    own phone in place of the owner's); enrolling again then replaces their app, for a new phone.
    """
    next_url = _safe_next(request)
    if not request.user.is_verified() and two_factor_enrolled(user=request.user):
        return redirect(f"{reverse('accounts:two_factor_verify')}?{urlencode({'next': next_url})}")
    device = totp_device_for_enrolment(user=request.user)
    form = TwoFactorCodeForm(request.POST or None, numeric=True)
    if request.method == "POST" and form.is_valid():
        codes = totp_enrol(request=request, device=device, token=form.cleaned_data["otp_token"])
        if codes is not None:
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": codes, "next": next_url, "just_enrolled": True},
            )
        form.add_error(
            "otp_token",
            "That code did not work. Enter the 6-digit code your app shows now for Harbor "
            "(it changes every 30 seconds), and check that your phone's clock is right.",
        )
    context = {
        "form": form,
        "next": next_url,
        "display": enrolment_display(device=device),
        "required": two_factor_required(user=request.user),
    }
    return render(request, "accounts/two_factor_setup.html", context)


@require_http_methods(["GET", "POST"])
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """How many recovery codes are left; a new set (shown once) replaces the old on request."""
    if not two_factor_enrolled(user=request.user):
        return redirect("accounts:two_factor_setup")
    if request.method == "POST":
        codes = recovery_codes_replace(user=request.user)
        return render(
            request, "accounts/recovery_codes.html", {"codes": codes, "next": reverse("accounts:home")}
        )
    return render(request, "accounts/recovery_codes.html", {"left": recovery_codes_left(user=request.user)})
