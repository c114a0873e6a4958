"""The benchmarks' instruments (``HARBOR_BENCHMARK``): off by default, exact when on."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, clear_url_caches, reverse

import config.urls

from .conftest import client_for

COUNTER = "config.middleware.QueryCountMiddleware"


@pytest.fixture
def benchmarking(settings):
    """HARBOR_BENCHMARK on, as settings.py would set it up: the counter first, the trivial URL."""
    settings.HARBOR_BENCHMARK = True
    settings.MIDDLEWARE = [COUNTER, *settings.MIDDLEWARE]
    importlib.reload(config.urls)
    clear_url_caches()
    yield
    settings.HARBOR_BENCHMARK = False
    importlib.reload(config.urls)
    clear_url_caches()


def test_counter_and_trivial_page_are_off_by_default(settings, coordinator_client):
    assert settings.HARBOR_BENCHMARK is False
    assert COUNTER not in settings.MIDDLEWARE
    response = coordinator_client.get(reverse("dashboard:board"))
    assert response.status_code == 200
    assert "X-Harbor-Queries" not in response.headers
    with pytest.raises(NoReverseMatch):
        reverse("bench_trivial")
    assert coordinator_client.get("/bench/trivial").status_code == 404


def test_counter_listed_with_the_setting_off_steps_aside(settings, coordinator_client):
    settings.MIDDLEWARE = [COUNTER, *settings.MIDDLEWARE]
    response = coordinator_client.get(reverse("dashboard:board"))
    assert response.status_code == 200
    assert "X-Harbor-Queries" not in response.headers


@pytest.mark.usefixtures("benchmarking")
def test_counter_reports_every_query_of_the_request(coordinator_client):
    with CaptureQueriesContext(connection) as captured:
        response = coordinator_client.get(reverse("dashboard:board"))
    assert response.status_code == 200
    assert int(response.headers["X-Harbor-Queries"]) == len(captured) > 0
    assert float(response.headers["X-Harbor-Query-Ms"]) >= 0


@pytest.mark.usefixtures("benchmarking")
def test_trivial_page_is_signed_in_and_runs_only_the_session_queries(coordinator, client):
    anonymous = client.get(reverse("bench_trivial"))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))

    signed_in = client_for(coordinator)
    response = signed_in.get(reverse("bench_trivial"))
    assert response.status_code == 200
    assert response.content == b"ok"
    # The session and its user (and the session policy's role lookup): nothing of its own.
    assert int(response.headers["X-Harbor-Queries"]) <= 4
