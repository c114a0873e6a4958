"""Security headers on every page, no inline script in templates, and the deploy checks.

The Content Security Policy forbids inline <script> and inline event handlers, so a template
that adds one would break in the browser: the template scan catches it before that.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings
from django.urls import reverse

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"

_SCRIPT_TAG = re.compile(r"<script\b(?P<attrs>[^>]*)>", re.IGNORECASE)
_JSON_TYPE = re.compile(r"""\btype\s*=\s*["']?application/json""", re.IGNORECASE)
# onclick=, onload=, ... as an attribute (after whitespace), not hx-on:: or data-online.
_EVENT_HANDLER = re.compile(r"""\son[a-z]+\s*=""", re.IGNORECASE)


def _directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def _assert_security_headers(response) -> None:
    csp = _directives(response.headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["style-src"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["base-uri"] == ["'self'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = response.headers["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment"):
        assert f"{feature}=()" in policy


def test_login_page_carries_the_security_headers(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    _assert_security_headers(response)


@pytest.mark.parametrize("name", ["intake:create", "dashboard:board", "dashboard:figures", "intake:list"])
def test_coordinator_pages_carry_the_security_headers(coordinator_client, name):
    response = coordinator_client.get(reverse(name))
    assert response.status_code == 200
    _assert_security_headers(response)


def test_htmx_partials_carry_the_security_headers(coordinator_client):
    response = coordinator_client.get(reverse("dashboard:board"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    _assert_security_headers(response)


def test_refusals_carry_the_security_headers(client):
    response = client.get(reverse("dashboard:board"))
    assert response.status_code == 302
    _assert_security_headers(response)


# --- Templates: nothing the policy would block ---------------------------------------------------


def _templates() -> list[Path]:
    found = sorted(TEMPLATES.rglob("*.html"))
    assert found, f"no templates under {TEMPLATES}"
    return found


def _inline_scripts(text: str) -> list[str]:
    """<script> tags with code in them: neither a file (src=) nor json_script data."""
    return [
        match.group(0)
        for match in _SCRIPT_TAG.finditer(text)
        if "src=" not in match["attrs"] and not _JSON_TYPE.search(match["attrs"])
    ]


def _event_handlers(text: str) -> list[str]:
    return [match.group(0) for match in _EVENT_HANDLER.finditer(text)]


def test_no_inline_script_in_templates():
    inline = [
        f"{path.relative_to(TEMPLATES)}: {tag}"
        for path in _templates()
        for tag in _inline_scripts(path.read_text(encoding="utf-8"))
    ]
    assert not inline, f"the CSP blocks inline <script>; put the code in static/js/: {inline}"


def test_no_inline_event_handlers_in_templates():
    handlers = [
        f"{path.relative_to(TEMPLATES)}: {handler}"
        for path in _templates()
        for handler in _event_handlers(path.read_text(encoding="utf-8"))
    ]
    assert not handlers, f"the CSP blocks inline event handlers; use addEventListener: {handlers}"


@pytest.mark.parametrize(
    "snippet",
    ["<script>alert(1)</script>", '<SCRIPT type="module">x()</SCRIPT>', "<script\n>x()</script>"],
)
def test_the_scan_catches_an_inline_script(snippet):
    assert _inline_scripts(snippet)


@pytest.mark.parametrize(
    "snippet", ['<a href="#" onclick="x()">', "<body onload='x()'>", '<img src="x" ONERROR = "x()">']
)
def test_the_scan_catches_an_inline_event_handler(snippet):
    assert _event_handlers(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="/static/js/walk_in_form.js" defer></script>',
        '<script id="figures-data" type="application/json">{"a": 1}</script>',
        '<div hx-get="/x" hx-trigger="load" data-online="yes">',
    ],
)
def test_the_scan_allows_files_json_and_htmx(snippet):
    assert not _inline_scripts(snippet)
    assert not _event_handlers(snippet)


# --- manage.py check --deploy ----------------------------------------------------------------------

PRODUCTION = {
    "DEBUG": False,
    "SECRET_KEY": "k7Vq2-mXw9_Lr4Tz8Np1Hs6Jd3Fb0Gc5Ye7Ua2Oi9Ke4Wn6Qx1Zv8Mt3Rl5Sy0Pj",
    "ALLOWED_HOSTS": ["harbor.example.org"],
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "EMBEDDED_POSTGRES": False,
    "HARBOR_FIELD_ENCRYPTION_KEYS": ["Xx0ziy3EEuYSvyCK_Gn7vtkZ4oLjpDP4hYjBS9ms-BQ="],
}


def _check_deploy() -> None:
    call_command("check", "--deploy", "--fail-level", "WARNING")


# The deploy checks read the database (harbor.W006: no superuser in a department).
reads_the_database = pytest.mark.django_db


@reads_the_database
def test_deploy_checks_pass_with_production_settings():
    with override_settings(**PRODUCTION):
        _check_deploy()


@pytest.mark.parametrize(
    ("setting", "insecure", "check_id"),
    [
        ("DEBUG", True, "security.W018"),
        ("SECRET_KEY", "django-insecure-harbor-development-key-do-not-use-in-production", "security.W009"),
        ("SESSION_COOKIE_SECURE", False, "security.W012"),
        ("CSRF_COOKIE_SECURE", False, "security.W016"),
        ("SECURE_SSL_REDIRECT", False, "security.W008"),
        ("SECURE_HSTS_SECONDS", 0, "security.W004"),
        ("EMBEDDED_POSTGRES", True, "harbor.E001"),
        ("HARBOR_FIELD_ENCRYPTION_KEYS", ["aGFyYm9yLWRldi1maWVsZC1rZXktTk9ULVNFQ1JFVCE="], "harbor.E003"),
        # Issue 13, finding 10: lockout off, benchmark instruments on.
        ("AXES_ENABLED", False, "harbor.E004"),
        ("HARBOR_BENCHMARK", True, "harbor.E005"),
    ],
)
@reads_the_database
def test_deploy_checks_refuse_each_insecure_value(setting, insecure, check_id):
    with (
        override_settings(**{**PRODUCTION, setting: insecure}),
        pytest.raises(SystemCheckError, match=re.escape(check_id)),
    ):
        _check_deploy()


@reads_the_database
def test_hsts_preload_is_a_recommendation_not_a_failure(capsys):
    with override_settings(**{**PRODUCTION, "SECURE_HSTS_PRELOAD": False}):
        _check_deploy()  # passes at --fail-level WARNING

        call_command("check", "--deploy")

    captured = capsys.readouterr()
    assert "harbor.I001" in captured.out + captured.err


@reads_the_database
def test_a_superuser_with_a_department_membership_is_a_deploy_warning(administrator):
    administrator.is_superuser = True
    administrator.save(update_fields=["is_superuser"])

    with override_settings(**PRODUCTION), pytest.raises(SystemCheckError, match=r"harbor\.W006.*"):
        _check_deploy()


@reads_the_database
def test_the_operators_superuser_outside_any_department_passes(administrator):
    from accounts.services import operator_create

    operator_create(username="operator", email="", password="a long operator passphrase")

    with override_settings(**PRODUCTION):
        _check_deploy()


@reads_the_database
def test_deploy_checks_refuse_the_development_defaults():
    with override_settings(EMBEDDED_POSTGRES=False), pytest.raises(SystemCheckError):
        _check_deploy()
