from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .forms import LoginForm, ReauthenticateForm
from .models import Role
from .permissions import role_required
from .selectors import locked_out_users_for, primary_role, users_coordinated_by
from .services import account_unlock

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


def reauthenticate(request: HttpRequest) -> HttpResponse:
    """ "Confirm it's you": a volunteer re-enters their password to see case details again."""
    next_url = request.POST.get("next") or request.GET.get("next", "")
    # A path on this site only: redirect() would take a bare word ("0") for a URL name and fail.
    if not next_url.startswith("/") or not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = resolve_url(settings.LOGIN_REDIRECT_URL)
    form = ReauthenticateForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        # A new session key after a fresh password entry; user_logged_in restarts the clock.
        login(request, form.user_cache)
        return redirect(next_url)
    return render(request, "accounts/reauthenticate.html", {"form": form, "next": next_url})


@role_required(Role.COORDINATOR)
def locked_out_list(request: HttpRequest) -> HttpResponse:
    """Accounts of the coordinator's departments locked after repeated failed sign-ins."""
    users = locked_out_users_for(coordinator=request.user)
    return render(request, "accounts/locked_out_list.html", {"locked_out_users": users})


@require_POST
@role_required(Role.COORDINATOR)
def account_unlock_view(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(users_coordinated_by(coordinator=request.user), pk=user_id)
    account_unlock(coordinator=request.user, user=user)
    messages.success(request, f"{user} can sign in again.")
    return redirect("accounts:locked_out_list")
