"""Response headers Django's SecurityMiddleware does not set, and the benchmarks' query counter."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class PermissionsPolicyMiddleware:
    """Adds ``Permissions-Policy`` (settings.PERMISSIONS_POLICY) to every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy:
            response.headers.setdefault("Permissions-Policy", policy)
        return response


class NoStoreWhenSignedInMiddleware:
    """``Cache-Control: no-store`` (Django's ``never_cache`` headers) on every response to a
    signed-in user: the one policy for every login-required page, so a record is never kept by
    the browser for Back on a shared desk computer after sign-out, nor by a proxy. Listed after
    the authentication middleware; a response that signs the user out (the session policy's
    redirect) counts as signed-in, since it was asked for while signed in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        signed_in = request.user.is_authenticated
        response = self.get_response(request)
        if signed_in or request.user.is_authenticated:
            add_never_cache_headers(response)
        return response


class QueryCountMiddleware:
    """Benchmarks only (``settings.HARBOR_BENCHMARK``): counts the SQL statements a request runs.

    Adds ``X-Harbor-Queries`` (statements on the default database, from the first middleware to
    the session save) and ``X-Harbor-Query-Ms`` (their time) to every response, so a load test
    records them per page. Settings list it first, only when benchmarking; it also steps aside by
    itself (``MiddlewareNotUsed``) if it is listed while the setting is off.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not getattr(settings, "HARBOR_BENCHMARK", False):
            raise MiddlewareNotUsed("HARBOR_BENCHMARK is off")
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        counter = _QueryCounter()
        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        response.headers["X-Harbor-Queries"] = str(counter.count)
        response.headers["X-Harbor-Query-Ms"] = f"{counter.seconds * 1000:.1f}"
        return response


class _QueryCounter:
    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
