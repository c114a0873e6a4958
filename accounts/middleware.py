"""Session policy: idle and absolute timeouts for staff, re-authentication for volunteers,
and two-factor sign-in before anything else.

Staff (anyone whose primary role is not volunteer) are signed out after
``HARBOR_STAFF_IDLE_TIMEOUT`` without a request and ``HARBOR_STAFF_SESSION_MAX_AGE`` after
signing in — counted from the earlier of their last password and their last second factor, so
entering the password again (the confirm page) never extends it: after 12 hours they sign in
again with both. Volunteers keep a 30-day session on their phone, but a page showing case details
asks for their password again once ``HARBOR_VOLUNTEER_REAUTH_AFTER`` has passed since they last
entered it.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.deprecation import MiddlewareMixin
from django_htmx.http import HttpResponseClientRedirect

from .models import Role
from .selectors import primary_role
from .two_factor import VERIFIED_AT, two_factor_enrolled, two_factor_required

# Session keys, as Unix timestamps (JSON-serialisable).
LOGIN_AT = "harbor_login_at"  # when the user last entered their password
LAST_SEEN = "harbor_last_seen"

# The last-seen stamp is rewritten at most once a minute, so a burst of requests (the board's
# htmx polling) does not rewrite the session row every time; idle time is measured to within
# this much, always on the strict side.
LAST_SEEN_RESOLUTION = 60

# Pages that show a volunteer case details: behind a recent password.
# Pages that show a person's case to their companion: after 12 hours, confirm the password first.
REAUTH_URL_NAMES = frozenset(
    {
        "volunteers:assignment",
        "intake:edit",
        "referrals:placement",
        "referrals:attempt_create",
        "referrals:placement_create",
        "referrals:transport_update",
        "referrals:admission_confirm",
    }
)

IDLE_MESSAGE = "You were signed out after 15 minutes without activity. Please sign in again."
EXPIRED_MESSAGE = "You were signed out 12 hours after signing in. Please sign in again."


def session_mark_login(request: HttpRequest) -> None:
    """Record in the session that the user has just entered their password (or signed in)."""
    now = time.time()
    request.session[LOGIN_AT] = now
    request.session[LAST_SEEN] = now


def mark_login_on_sign_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """``user_logged_in`` receiver: the user has just proven who they are."""
    if request is not None and hasattr(request, "session"):
        session_mark_login(request)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A full-page redirect, also from an htmx swap (which would otherwise follow a 302 and
    put the login page inside the board)."""
    return HttpResponseClientRedirect(url) if _is_htmx(request) else redirect(url)


def _next_path(request: HttpRequest) -> str:
    """Where to come back to: for an htmx swap, the page the swap was on, not the fragment."""
    if _is_htmx(request):
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        return f"{current.path}?{current.query}" if current.query else current.path
    return request.get_full_path()


def _to_login(request: HttpRequest, message: str) -> HttpResponse:
    next_path = _next_path(request)
    logout(request)
    messages.info(request, message)
    query = f"?{urlencode({'next': next_path})}" if next_path else ""
    return _redirect(request, f"{reverse(settings.LOGIN_URL)}{query}")


class SessionPolicyMiddleware(MiddlewareMixin):
    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated:
            # A disabled user is already anonymous here: ModelBackend.get_user refuses inactive
            # users, so their sessions end on their next request.
            return None
        session = request.session
        now = time.time()
        if LOGIN_AT not in session:
            # A session from before this policy (or a login that bypassed the signal): start now.
            session_mark_login(request)
        login_at = session[LOGIN_AT]
        last_seen = session.get(LAST_SEEN, login_at)

        if primary_role(user=user) == Role.VOLUNTEER:
            url_name = request.resolver_match.view_name if request.resolver_match else ""
            if (
                url_name in REAUTH_URL_NAMES
                and now - login_at > settings.HARBOR_VOLUNTEER_REAUTH_AFTER.total_seconds()
            ):
                query = urlencode({"next": request.get_full_path()})
                return _redirect(request, f"{reverse('accounts:reauthenticate')}?{query}")
        else:
            if now - last_seen > settings.HARBOR_STAFF_IDLE_TIMEOUT.total_seconds():
                return _to_login(request, IDLE_MESSAGE)
            verified_at = session.get(VERIFIED_AT)
            if verified_at is None and user.is_verified():
                # Verified before this stamp existed (or by a test's shortcut): count from sign-in.
                session[VERIFIED_AT] = verified_at = login_at
            signed_in_at = min(login_at, verified_at) if verified_at is not None else login_at
            if now - signed_in_at > settings.HARBOR_STAFF_SESSION_MAX_AGE.total_seconds():
                return _to_login(request, EXPIRED_MESSAGE)

        # The desk and the board refresh themselves by htmx every 15 seconds: such requests are
        # not activity, or a screen left open would never time out.
        if now - last_seen >= LAST_SEEN_RESOLUTION and not _is_htmx(request):
            session[LAST_SEEN] = now
        return None


# Pages an account that has not completed two-factor sign-in may still reach.
TWO_FACTOR_URL_NAMES = frozenset(
    {"accounts:two_factor_verify", "accounts:two_factor_setup", "accounts:logout"}
)


class TwoFactorMiddleware(MiddlewareMixin):
    """No page for a signed-in user who has not completed two-factor sign-in where it applies.

    Staff (``accounts.two_factor.two_factor_required``) without an authenticator app are sent
    to enrol; anyone with one (volunteers who chose to enrol, too) is asked for a code. Pages
    that need no sign-in (offer links, the public summary, health checks) are left alone.
    """

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        if getattr(view_func, "login_required", True) is False:
            return None
        url_name = request.resolver_match.view_name if request.resolver_match else ""
        if url_name in TWO_FACTOR_URL_NAMES:
            return None
        if two_factor_enrolled(user=user):
            target = "accounts:two_factor_verify"
        elif two_factor_required(user=user):
            target = "accounts:two_factor_setup"
        else:
            return None
        query = urlencode({"next": _next_path(request)})
        return _redirect(request, f"{reverse(target)}?{query}")
