"""Signing in and out, each role's home page, the login wall, and the health endpoint."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.conftest import client_for, current_code, enrolled_totp
from tests.factories import PASSWORD, IntakeFactory

LOGIN_URL = reverse("accounts:login")
VERIFY_URL = reverse("accounts:two_factor_verify")


def _sign_in(client: Client, username: str, password: str = PASSWORD):
    """Password, then (for staff, who are enrolled here) the code their app shows."""
    response = client.post(LOGIN_URL, {"username": username, "password": password}, follow=True)
    if response.request["PATH_INFO"] == VERIFY_URL:
        device = enrolled_totp(User.objects.get(username=username))
        response = client.post(
            response.request["PATH_INFO"] + "?" + response.request["QUERY_STRING"],
            {"otp_token": current_code(device)},
            follow=True,
        )
    return response


def test_login_page_is_shown_to_anyone(db):
    response = Client().get(LOGIN_URL)

    assert response.status_code == 200
    assert "Sign in to Harbor" in response.text
    assert 'name="password"' in response.text


def test_wrong_password_shows_an_error_on_the_login_page(officer):
    client = Client()

    response = client.post(LOGIN_URL, {"username": "officer", "password": "not-the-password"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text
    assert "_auth_user_id" not in client.session


def test_unknown_username_shows_the_same_error_as_a_wrong_password(db):
    response = Client().post(LOGIN_URL, {"username": "nobody", "password": PASSWORD})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text


def test_empty_login_form_shows_field_errors(db):
    response = Client().post(LOGIN_URL, {})

    assert response.status_code == 200
    assert "This field is required." in response.text


@pytest.mark.parametrize(
    ("user", "home", "heading"),
    [
        ("officer", "/intake/desk/", "Front desk"),
        ("coordinator", "/dashboard/", "Live board"),
        ("volunteer_user", "/volunteers/", "My upcoming on-call shifts"),
        ("administrator", "/admin/", "Departments, accounts and facilities"),
    ],
)
def test_each_role_lands_on_its_own_home_after_signing_in(request, user, home, heading):
    account = request.getfixturevalue(user)
    if user != "volunteer_user":
        enrolled_totp(account)

    response = _sign_in(Client(), account.username)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == home
    assert response.request["PATH_INFO"] == home
    assert heading in response.text


def test_signing_in_honours_the_page_the_user_was_sent_from(officer):
    client = Client()
    next_url = reverse("intake:create")

    response = client.post(
        f"{LOGIN_URL}?next={next_url}",
        {"username": "officer", "password": PASSWORD, "next": next_url},
    )

    assert response.status_code == 302
    assert response["Location"] == next_url


def test_user_without_a_role_is_told_they_have_none_yet(outsider):
    response = _sign_in(Client(), outsider.username)

    assert response.status_code == 403
    assert "Your account has no role yet" in response.text


def test_signed_in_user_visiting_the_login_page_goes_home(officer_client):
    response = officer_client.get(LOGIN_URL)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:home")


@pytest.fixture
def walk_in(officer, department):
    return IntakeFactory(department=department, logged_by=officer)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/intake/",
        "/intake/desk/",
        "/intake/new/",
        "/volunteers/",
        "/intake/{intake_id}/",
        "/intake/{intake_id}/edit/",
        "/intake/{intake_id}/consent/",
    ],
)
def test_anonymous_visitor_is_sent_to_the_login_page(walk_in, path):
    path = path.format(intake_id=walk_in.pk)

    response = Client().get(path)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)
    assert f"next={path}" in response["Location"]


def test_anonymous_visitor_to_the_admin_is_sent_to_its_own_login(db):
    response = Client().get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"


def test_anonymous_post_to_an_intake_is_sent_to_login_and_changes_nothing(walk_in):
    response = Client().post(reverse("intake:close", args=[walk_in.pk]), {"reason": "duplicate"})

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)
    walk_in.refresh_from_db()
    assert walk_in.status == "waiting_for_companion"


def test_signing_out_ends_the_session(officer):
    client = client_for(officer)
    assert client.get(reverse("intake:desk")).status_code == 200

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert response["Location"] == LOGIN_URL
    after = client.get(reverse("intake:desk"))
    assert after.status_code == 302
    assert after["Location"].startswith(LOGIN_URL)


def test_signing_out_by_get_is_refused(officer_client):
    response = officer_client.get(reverse("accounts:logout"))

    assert response.status_code == 405
    assert officer_client.get(reverse("intake:desk")).status_code == 200


def test_health_check_answers_without_login_and_reports_database_and_broker(db):
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": True, "broker": True}}
    assert "no-cache" in response["Cache-Control"]


def test_health_check_reports_503_when_the_database_is_down(db, monkeypatch):
    monkeypatch.setattr("config.views._database_ok", lambda: False)

    response = Client().get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": False, "broker": True}}


def test_health_check_reports_503_when_the_broker_is_down(db, monkeypatch):
    monkeypatch.setattr("config.views._broker_ok", lambda: False)

    response = Client().get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "broker": False}
