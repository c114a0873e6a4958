from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.models import Role
from accounts.permissions import role_required

from . import selectors


@role_required(Role.VOLUNTEER)
def home(request: HttpRequest) -> HttpResponse:
    """The companion's phone-first home: offers arrive with the paging issue; shifts are here."""
    volunteer = selectors.volunteer_for_user(user=request.user)
    shifts = list(selectors.upcoming_shifts(volunteer=volunteer)) if volunteer else []
    return render(
        request, "volunteers/home.html", {"volunteer": volunteer, "shifts": shifts, "now": timezone.now()}
    )
