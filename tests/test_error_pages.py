"""Harbor's own error pages: 404, 403, 500 and a form refused for its CSRF token.

Each says what happened in plain words and gives one way forward; none is Django's default.
"""

from __future__ import annotations

import pytest
from django.template.loader import get_template
from django.test import Client
from django.urls import reverse

from .conftest import client_for
from .factories import IntakeFactory

HOME_LINK = "Go to my Harbor home page"


def _text(response) -> str:
    return response.content.decode()


@pytest.mark.django_db
def test_a_page_that_does_not_exist_gets_harbors_404(officer_client):
    response = officer_client.get("/no-such-page/")

    assert response.status_code == 404
    assert response.templates[0].name == "404.html"
    assert "We can't find that page" in _text(response)
    assert HOME_LINK in _text(response)


@pytest.mark.django_db
def test_someone_elses_record_is_a_404_that_does_not_say_it_exists(department, officer, second_officer):
    # A name that cannot be the signed-in officer's own, shown in the navigation.
    intake = IntakeFactory(department=department, logged_by=officer, person__first_name="Zephyrine")

    response = client_for(second_officer).get(reverse("intake:detail", kwargs={"intake_id": intake.pk}))

    assert response.status_code == 404
    assert "We can't find that page" in _text(response)
    assert intake.person.first_name not in _text(response)


@pytest.mark.django_db
def test_a_page_outside_the_users_role_gets_harbors_403(officer_client):
    response = officer_client.get(reverse("dashboard:board"))

    assert response.status_code == 403
    assert response.templates[0].name == "403.html"
    assert "This page isn't part of your role" in _text(response)
    assert HOME_LINK in _text(response)


@pytest.mark.django_db
@pytest.mark.urls("tests.error_urls")
def test_an_unexpected_error_gets_harbors_500_without_touching_the_database(
    client, django_assert_num_queries
):
    client.raise_request_exception = False

    with django_assert_num_queries(0):
        response = client.get("/broken/")

    assert response.status_code == 500
    text = _text(response)
    assert "Something went wrong on our side" in text
    assert "/static/css/harbor.css" in text
    assert "RuntimeError" not in text


def test_the_500_page_renders_with_no_request_and_no_database():
    """No ``db`` fixture here: any query would fail the test (the database may be what broke)."""
    html = get_template("500.html").render()

    assert "Something went wrong on our side" in html
    assert 'href="/"' in html


@pytest.mark.django_db
def test_a_form_sent_without_its_security_token_is_refused_kindly(officer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    form_url = "http://testserver" + reverse("intake:create")

    response = client.post(reverse("intake:create"), {"first_name": "Wren"}, headers={"referer": form_url})

    assert response.status_code == 403
    text = _text(response)
    assert "This form was open too long or your session changed; go back, reload and try again." in text
    assert f'href="{form_url}"' in text
    assert "CSRF cookie" not in text  # Django's reason is for developers, not for the desk


@pytest.mark.django_db
def test_the_way_back_from_a_refused_form_is_never_another_site(officer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)

    response = client.post(
        reverse("intake:create"), {"first_name": "Wren"}, headers={"referer": "https://evil.example/"}
    )

    assert response.status_code == 403
    assert "evil.example" not in _text(response)
    assert "Go back to the form" not in _text(response)
