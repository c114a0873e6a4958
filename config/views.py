"""Operational endpoints that are not part of any one domain."""

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app

logger = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("health check: database unreachable")
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        logger.exception("health check: broker unreachable")
        return False


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and compose: 200 when the database and broker answer."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )


@never_cache
@require_GET
def bench_trivial(request: HttpRequest) -> HttpResponse:
    """Benchmarks only (URL served when ``HARBOR_BENCHMARK`` is on): a signed-in page that does
    nothing, the yardstick the key pages are measured against in the same run. It goes through
    every middleware (session, sign-in, session policy) like any page, and runs no query of its own.
    """
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form refused for its security token, explained kindly (403).

    The reason Django gives is for developers and is not shown. The way back is the page the
    form was on, when the browser says it was one of ours.
    """
    referer = request.headers.get("Referer", "")
    back_url = (
        referer
        if referer
        and url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        else ""
    )
    return render(request, "403_csrf.html", {"back_url": back_url}, status=403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: Django's 404 page (templates/404.html), without ever reading the body.

    Django's own handler checks the CSRF token, which parses a POST body: a malformed multipart
    body (or too many fields) posted to a page that does not exist then failed with a 500 from
    inside the error handler. A page that does not exist has no use for the body: it is
    replaced by an empty form before the check. (For pages that exist, Django answers such a
    body with 400.)
    """
    if request.method == "POST":
        request.POST = QueryDict()
    return defaults.page_not_found(request, exception)
