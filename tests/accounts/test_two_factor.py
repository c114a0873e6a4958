"""Two-factor sign-in: staff enrol an authenticator app and enter its code after their password;
recovery codes work once; volunteers are invited, not forced; the admin needs it too."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.checks import two_factor_cannot_be_turned_off
from accounts.models import Role
from tests.conftest import client_for, code_from_setup_key, current_code, enrolled_totp
from tests.factories import PASSWORD, user_with_role

LOGIN_URL = reverse("accounts:login")
VERIFY_URL = reverse("accounts:two_factor_verify")
SETUP_URL = reverse("accounts:two_factor_setup")
CODES_URL = reverse("accounts:recovery_codes")
DESK_URL = reverse("intake:desk")


def _password_only(username: str, next_url: str = "") -> tuple[Client, object]:
    client = Client()
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post(LOGIN_URL, data, follow=True)
    return client, response


def _setup_key(page: str) -> str:
    return re.search(r'id="setup-key">([A-Z2-7 ]+)<', page).group(1)


def _recovery_codes(page: str) -> list[str]:
    listing = page.split('aria-label="Recovery codes"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r"<li[^>]*>([a-z2-7]{8})</li>", listing)


# --- staff enrol at their first sign-in ---------------------------------------------------------


def test_an_officer_without_an_app_is_walked_through_setup_then_lands_on_the_desk(officer):
    client, response = _password_only("officer")

    assert response.request["PATH_INFO"] == SETUP_URL
    assert "Set up two-factor sign-in" in response.text
    assert "<svg" in response.text  # the QR code, inline
    key = _setup_key(response.text)

    response = client.post(f"{SETUP_URL}?next={DESK_URL}", {"otp_token": code_from_setup_key(key)})

    assert response.status_code == 200
    assert "Two-factor sign-in is on." in response.text
    codes = _recovery_codes(response.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert f'href="{DESK_URL}"' in response.text
    assert client.get(DESK_URL).status_code == 200
    assert TOTPDevice.objects.get(user=officer).confirmed


def test_the_setup_page_keeps_its_key_on_reload(officer):
    client, response = _password_only("officer")

    assert _setup_key(client.get(SETUP_URL).text) == _setup_key(response.text)


def test_a_wrong_code_at_setup_says_so_and_enrols_nothing(officer):
    client, _ = _password_only("officer")

    response = client.post(SETUP_URL, {"otp_token": "000000"})

    assert response.status_code == 200
    assert "That code did not work" in response.text
    assert not TOTPDevice.objects.filter(user=officer, confirmed=True).exists()
    assert client.get(DESK_URL)["Location"].startswith(SETUP_URL)


@pytest.mark.parametrize("username", ["officer", "coordinator", "admin"])
def test_staff_cannot_reach_any_page_before_enrolling(request, username):
    request.getfixturevalue({"admin": "administrator"}.get(username, username))
    client, _ = _password_only(username)

    for url in [DESK_URL, reverse("dashboard:board"), reverse("intake:list"), reverse("admin:index")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(SETUP_URL)


# --- and enter a code at every later sign-in ----------------------------------------------------


def test_an_enrolled_officer_enters_the_code_after_the_password(officer):
    device = enrolled_totp(officer)
    client, response = _password_only("officer", next_url=reverse("intake:create"))

    assert response.request["PATH_INFO"] == VERIFY_URL
    assert "Enter your code" in response.text
    assert 'autocomplete="one-time-code"' in response.text
    assert client.get(DESK_URL)["Location"].startswith(VERIFY_URL)

    response = client.post(
        f"{VERIFY_URL}?{response.request['QUERY_STRING']}", {"otp_token": current_code(device)}, follow=True
    )

    assert response.request["PATH_INFO"] == reverse("intake:create")
    assert client.get(DESK_URL).status_code == 200


def test_a_wrong_code_is_refused_with_a_plain_message(officer):
    enrolled_totp(officer)
    client, _ = _password_only("officer")

    response = client.post(VERIFY_URL, {"otp_token": "123 456"})

    assert response.status_code == 200
    assert "That code did not work. Codes change every 30 seconds" in response.text
    assert client.get(DESK_URL)["Location"].startswith(VERIFY_URL)


def test_repeated_wrong_codes_pause_checking(officer):
    device = enrolled_totp(officer)
    client, _ = _password_only("officer")
    for _ in range(3):
        client.post(VERIFY_URL, {"otp_token": "000000"})

    response = client.post(VERIFY_URL, {"otp_token": current_code(device)})

    assert response.status_code == 200
    assert "Too many wrong codes" in response.text
    assert client.get(DESK_URL)["Location"].startswith(VERIFY_URL)


def test_a_code_cannot_be_used_twice(officer):
    device = enrolled_totp(officer)
    code = current_code(device)
    first, _ = _password_only("officer")
    assert first.post(VERIFY_URL, {"otp_token": code}).status_code == 302

    second, _ = _password_only("officer")
    response = second.post(VERIFY_URL, {"otp_token": code})

    assert response.status_code == 200
    assert "That code did not work" in response.text


def test_a_stale_board_refresh_is_sent_to_the_code_page_as_a_full_page(coordinator):
    enrolled_totp(coordinator)
    client, _ = _password_only("coordinator")

    response = client.get(
        reverse("dashboard:board"),
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/dashboard/?x=1"},
    )

    assert response["HX-Redirect"] == f"{VERIFY_URL}?next=%2Fdashboard%2F%3Fx%3D1"


def test_signing_out_ends_the_verification(officer):
    client = client_for(officer)
    client.post(reverse("accounts:logout"))
    client.force_login(officer)

    assert client.get(DESK_URL)["Location"].startswith(VERIFY_URL)


# --- recovery codes -----------------------------------------------------------------------------


def _enrol_through_the_pages(username: str) -> list[str]:
    client, _ = _password_only(username)
    response = client.get(SETUP_URL)
    response = client.post(SETUP_URL, {"otp_token": code_from_setup_key(_setup_key(response.text))})
    return _recovery_codes(response.text)


def test_a_recovery_code_signs_in_once(officer):
    codes = _enrol_through_the_pages("officer")

    client, _ = _password_only("officer")
    response = client.post(VERIFY_URL, {"otp_token": codes[0].upper()}, follow=True)
    assert response.request["PATH_INFO"] == DESK_URL
    assert "You used a recovery code; 9 left." in response.text

    again, _ = _password_only("officer")
    response = again.post(VERIFY_URL, {"otp_token": codes[0]})
    assert "That code did not work" in response.text


def test_new_recovery_codes_replace_the_old_ones(officer):
    old = _enrol_through_the_pages("officer")
    client = client_for(officer)
    assert "You have <strong>10</strong> unused recovery codes." in client.get(CODES_URL).text

    new = _recovery_codes(client.post(CODES_URL).text)

    assert len(new) == 10 and not set(new) & set(old)
    fresh, _ = _password_only("officer")
    assert fresh.post(VERIFY_URL, {"otp_token": new[1]}).status_code == 302
    stale, _ = _password_only("officer")
    assert "That code did not work" in stale.post(VERIFY_URL, {"otp_token": old[1]}).text


def test_a_password_alone_cannot_put_another_phone_in_place_of_the_enrolled_one(officer):
    device = enrolled_totp(officer)
    client, _ = _password_only("officer")

    page = client.get(SETUP_URL)
    posted = client.post(SETUP_URL, {"otp_token": "123456"})

    assert page.status_code == 302 and page["Location"].startswith(VERIFY_URL)
    assert posted.status_code == 302 and posted["Location"].startswith(VERIFY_URL)
    assert list(TOTPDevice.objects.filter(user=officer)) == [device]
    assert client.get(DESK_URL)["Location"].startswith(VERIFY_URL)


def test_setting_up_a_new_phone_retires_the_old_app(officer):
    old_device = enrolled_totp(officer)
    client = client_for(officer)

    response = client.get(SETUP_URL)
    client.post(SETUP_URL, {"otp_token": code_from_setup_key(_setup_key(response.text))})

    assert not TOTPDevice.objects.filter(pk=old_device.pk).exists()
    assert TOTPDevice.objects.filter(user=officer, confirmed=True).count() == 1


# --- volunteers are invited, not forced -----------------------------------------------------


def test_a_volunteer_is_invited_to_enrol_but_not_forced(volunteer_user):
    client, response = _password_only("volunteer")

    assert response.request["PATH_INFO"] == reverse("volunteers:home")
    assert "Protect your account" in response.text
    assert "Not now" in client.get(SETUP_URL).text


def test_a_volunteer_who_enrolled_is_asked_for_the_code_next_time(volunteer_user):
    _enrol_through_the_pages("volunteer")

    _, response = _password_only("volunteer")

    assert response.request["PATH_INFO"] == VERIFY_URL


def test_offer_links_need_no_code_to_read(volunteer_user):
    """The offer page is readable without signing in; a half-finished sign-in does not block it."""
    from tests.factories import OfferFactory
    from volunteers.paging.tokens import offer_link

    offer = OfferFactory(volunteer=volunteer_user.volunteer)
    enrolled_totp(volunteer_user)
    client, response = _password_only("volunteer")
    assert response.request["PATH_INFO"] == VERIFY_URL

    assert client.get(offer_link(offer)).status_code == 200


# --- the admin: administrators only, after two-factor sign-in --------------------------------


def test_an_administrator_reaches_the_admin_only_after_the_code(administrator):
    device = enrolled_totp(administrator)
    client, _ = _password_only("admin")
    assert client.get(reverse("admin:index"))["Location"].startswith(VERIFY_URL)

    client.post(VERIFY_URL, {"otp_token": current_code(device)})

    assert client.get(reverse("admin:index")).status_code == 200


def test_staff_flag_without_the_administrator_role_does_not_open_the_admin(department):
    user = user_with_role(Role.COORDINATOR, department, username="flagged", is_staff=True)

    response = client_for(user).get(reverse("admin:index"), follow=True)

    assert response.status_code == 403
    assert "Administrators only" in response.text


def test_the_admin_sign_in_is_harbors_own(db):
    response = Client().get(reverse("admin:login"))

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


def test_the_admin_can_reset_a_lost_phone(administrator, officer):
    enrolled_totp(officer)
    client = client_for(administrator)

    asked = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [officer.pk]},
    )
    assert "Reason" in asked.text  # the reset asks why first (tests/accounts/test_admin.py)
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {
            "action": "reset_two_factor",
            "_selected_action": [officer.pk],
            "confirm": "yes",
            "reason": "Lost phone",
        },
        follow=True,
    )

    assert "Two-factor sign-in reset for 1 account(s)." in response.text
    assert not TOTPDevice.objects.filter(user=officer).exists()
    client, response = _password_only("officer")
    assert response.request["PATH_INFO"] == SETUP_URL


# --- no off switch; the demo works in one step ----------------------------------------------


def test_removing_the_two_factor_middleware_fails_the_system_checks(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "accounts.middleware.TwoFactorMiddleware"]

    errors = two_factor_cannot_be_turned_off(None)

    assert [error.id for error in errors] == ["harbor.E002"]


def test_the_shipped_settings_pass_the_check():
    assert two_factor_cannot_be_turned_off(None) == []


def test_the_demo_prints_each_staff_login_with_a_working_setup_key(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)

    line = next(line for line in out.getvalue().splitlines() if line.strip().startswith("Desk officer"))
    username, password, key = line.split()[-3:]
    assert (username, password) == ("officer", "harbor-demo-officer")
    client = Client()
    client.post(LOGIN_URL, {"username": username, "password": password})
    response = client.post(VERIFY_URL, {"otp_token": code_from_setup_key(key)})
    assert response.status_code == 302
    assert client.get(DESK_URL).status_code == 200


def test_demo_code_prints_a_code_that_signs_in_on_a_debug_server(settings, officer):
    enrolled_totp(officer)
    settings.DEBUG = True
    out = StringIO()

    call_command("demo_code", "officer", stdout=out, stderr=StringIO())

    client, _ = _password_only("officer")
    assert client.post(VERIFY_URL, {"otp_token": out.getvalue().strip()}).status_code == 302
    assert client.get(DESK_URL).status_code == 200


def test_demo_code_refuses_on_a_real_server(settings, officer):
    enrolled_totp(officer)
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DJANGO_DEBUG=true"):
        call_command("demo_code", "officer")


# --- issue 13, finding 11: a new session key at the second-factor step -----------------------


def test_the_session_key_changes_when_the_code_is_entered(officer):
    from django.contrib.sessions.backends.db import SessionStore

    device = enrolled_totp(officer)
    client, _ = _password_only("officer")
    after_password = client.session.session_key

    response = client.post(VERIFY_URL, {"otp_token": current_code(device)})

    assert response.status_code == 302
    assert client.session.session_key != after_password
    assert not SessionStore().exists(after_password)
    assert client.get(DESK_URL).status_code == 200


def test_the_session_key_changes_when_an_app_is_enrolled(officer):
    client, page = _password_only("officer")
    assert page.request["PATH_INFO"] == SETUP_URL
    after_password = client.session.session_key

    response = client.post(SETUP_URL, {"otp_token": code_from_setup_key(_setup_key(page.text))})

    assert response.status_code == 200  # the recovery codes, shown once
    assert client.session.session_key != after_password
    assert client.get(DESK_URL).status_code == 200


def test_a_session_key_seen_before_the_code_is_worthless_after_it(officer):
    device = enrolled_totp(officer)
    client, _ = _password_only("officer")
    stolen = Client()
    stolen.cookies["sessionid"] = client.cookies["sessionid"].value

    client.post(VERIFY_URL, {"otp_token": current_code(device)})

    assert stolen.get(DESK_URL)["Location"].startswith(LOGIN_URL)
