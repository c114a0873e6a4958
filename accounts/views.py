from datetime import timedelta

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator

from .forms import LoginForm
from .models import Role
from .selectors import primary_role

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
