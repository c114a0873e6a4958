"""Session policy: staff idle and absolute timeouts, volunteers re-confirming their password
for case details, and disabled accounts losing their sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import user_deactivate
from accounts.two_factor import two_factor_required
from tests.conftest import client_for, current_code, enrolled_totp
from tests.factories import PASSWORD, IntakeFactory, OfferFactory

LOGIN_URL = reverse("accounts:login")
DESK_URL = reverse("intake:desk")


def _signed_in(username: str) -> Client:
    """Signed in through the login page, then past two-factor sign-in as its app would."""
    client = Client()
    response = client.post(LOGIN_URL, {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(username=username)
    if two_factor_required(user=user):
        response = client.post(
            reverse("accounts:two_factor_verify"), {"otp_token": current_code(enrolled_totp(user))}
        )
        assert response.status_code == 302
    return client


@pytest.fixture
def traveller():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def test_staff_idle_for_16_minutes_are_signed_out_with_a_message(officer, traveller):
    client = _signed_in("officer")
    assert client.get(DESK_URL).status_code == 200

    traveller.shift(timedelta(minutes=16))
    response = client.get(DESK_URL, follow=True)

    assert response.redirect_chain[0][0] == f"{LOGIN_URL}?next={DESK_URL.replace('/', '%2F')}"
    assert response.request["PATH_INFO"] == LOGIN_URL
    assert "You were signed out after 15 minutes without activity" in response.text
    assert "_auth_user_id" not in client.session


def test_staff_idle_for_14_minutes_stay_signed_in(officer, traveller):
    client = _signed_in("officer")
    assert client.get(DESK_URL).status_code == 200

    traveller.shift(timedelta(minutes=14))

    assert client.get(DESK_URL).status_code == 200


def test_activity_keeps_staff_signed_in_past_15_minutes(officer, traveller):
    client = _signed_in("officer")
    for _ in range(4):
        traveller.shift(timedelta(minutes=10))
        assert client.get(DESK_URL).status_code == 200


def test_staff_are_signed_out_12_hours_after_signing_in_even_when_active(officer, traveller):
    client = _signed_in("officer")
    for _ in range(51):  # 11 h 54 min of steady use
        traveller.shift(timedelta(minutes=14))
        assert client.get(DESK_URL).status_code == 200

    traveller.shift(timedelta(minutes=7))
    response = client.get(DESK_URL, follow=True)

    assert response.request["PATH_INFO"] == LOGIN_URL
    assert "12 hours after signing in" in response.text


def test_force_login_sessions_get_the_policy_from_their_first_request(officer, traveller):
    client = client_for(officer)
    assert client.get(DESK_URL).status_code == 200

    traveller.shift(timedelta(minutes=16))

    assert client.get(DESK_URL)["Location"].startswith(LOGIN_URL)


@pytest.fixture
def assignment_url(volunteer_user, department):
    intake = IntakeFactory(department=department, status="companion_assigned", companion_needed_at=None)
    offer = OfferFactory(
        intake=intake, volunteer=volunteer_user.volunteer, status="accepted", responded_at=timezone.now()
    )
    return reverse("volunteers:assignment", kwargs={"offer_id": offer.pk})


def test_volunteers_are_not_signed_out_when_idle(volunteer_user, assignment_url, traveller):
    client = _signed_in("volunteer")

    traveller.shift(timedelta(hours=11))

    assert client.get(reverse("volunteers:home")).status_code == 200
    assert client.get(assignment_url).status_code == 200


def test_volunteer_confirms_the_password_for_case_details_after_13_hours(
    volunteer_user, assignment_url, traveller
):
    client = _signed_in("volunteer")
    traveller.shift(timedelta(hours=13))

    assert client.get(reverse("volunteers:home")).status_code == 200
    asked = client.get(assignment_url)
    assert asked.status_code == 302
    confirm_url = asked["Location"]
    assert confirm_url.startswith(reverse("accounts:reauthenticate"))
    page = client.get(confirm_url)
    assert "Confirm it's you" in page.text

    confirmed = client.post(confirm_url, {"password": PASSWORD, "next": assignment_url})

    assert confirmed.status_code == 302
    assert confirmed["Location"] == assignment_url
    assert client.get(assignment_url).status_code == 200


def test_the_placement_page_also_asks_the_companion_to_confirm_after_13_hours(
    volunteer_user, assignment_url, traveller
):
    client = _signed_in("volunteer")
    intake_id = client.get(assignment_url).context["intake"].pk
    placement_url = reverse("referrals:placement", kwargs={"intake_id": intake_id})
    assert client.get(placement_url).status_code == 200
    traveller.shift(timedelta(hours=13))

    asked = client.get(placement_url)

    assert asked.status_code == 302
    assert asked["Location"].startswith(reverse("accounts:reauthenticate"))


def test_a_wrong_password_on_the_confirm_page_is_refused(volunteer_user, assignment_url, traveller):
    client = _signed_in("volunteer")
    traveller.shift(timedelta(hours=13))

    response = client.post(reverse("accounts:reauthenticate"), {"password": "nope", "next": assignment_url})

    assert response.status_code == 200
    assert "That is not your password" in response.text
    assert client.get(assignment_url).status_code == 302


def test_the_confirm_page_does_not_send_anyone_off_site(volunteer_user):
    client = _signed_in("volunteer")

    response = client.post(
        reverse("accounts:reauthenticate"), {"password": PASSWORD, "next": "https://evil.example/"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:home")


def test_a_deactivated_users_next_request_goes_to_the_login_page(officer, administrator):
    client = client_for(officer)
    assert client.get(DESK_URL).status_code == 200

    user_deactivate(user=officer, actor=administrator)
    response = client.get(DESK_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)
    assert _attempt_sign_in("officer").status_code == 200


def _attempt_sign_in(username: str):
    return Client().post(LOGIN_URL, {"username": username, "password": PASSWORD})


def test_the_desk_refreshing_itself_does_not_count_as_activity(officer, traveller):
    client = _signed_in("officer")
    assert client.get(DESK_URL).status_code == 200
    htmx = {"HX-Request": "true", "HX-Current-URL": f"http://testserver{DESK_URL}"}
    for _ in range(3):
        traveller.shift(timedelta(minutes=5))
        assert client.get(DESK_URL, headers=htmx).status_code == 200

    traveller.shift(timedelta(minutes=1))
    response = client.get(DESK_URL, headers=htmx)

    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{LOGIN_URL}?next=%2Fintake%2Fdesk%2F"
    assert "_auth_user_id" not in client.session


def test_entering_the_password_again_does_not_renew_the_12_hour_limit(officer, traveller):
    """Issue 13, finding 5: after 12 hours staff give their second factor again, whatever
    passwords they entered in between (the confirm page used to restart the clock)."""
    client = _signed_in("officer")
    for step in range(51):  # 11 h 54 min of steady use, the password entered again at 10 h 30
        traveller.shift(timedelta(minutes=14))
        assert client.get(DESK_URL).status_code == 200
        if step == 45:
            confirmed = client.post(reverse("accounts:reauthenticate"), {"password": PASSWORD})
            assert confirmed.status_code == 302

    traveller.shift(timedelta(minutes=7))
    response = client.get(DESK_URL, follow=True)

    assert response.request["PATH_INFO"] == LOGIN_URL
    assert "12 hours after signing in" in response.text
    again = client.post(LOGIN_URL, {"username": "officer", "password": PASSWORD}, follow=True)
    assert again.request["PATH_INFO"] == reverse("accounts:two_factor_verify")
    assert client.get(DESK_URL)["Location"].startswith(reverse("accounts:two_factor_verify"))
