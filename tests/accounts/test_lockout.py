"""Lockout after repeated failed sign-ins (django-axes), and coordinators unlocking accounts."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from tests.conftest import client_for
from tests.factories import PASSWORD

LOGIN_URL = reverse("accounts:login")
LOCKED_MESSAGE = (
    "Too many attempts. Your account is locked for 30 minutes, or ask your coordinator to unlock it."
)


def _attempt(client: Client, username: str, password: str):
    return client.post(LOGIN_URL, {"username": username, "password": password})


def _fail(client: Client, username: str, times: int) -> None:
    for attempt in range(1, times + 1):
        # The attempt that reaches the limit is answered with the lockout page.
        expected = 429 if attempt == 5 else 200
        assert _attempt(client, username, "not-the-password").status_code == expected


def test_five_wrong_passwords_lock_the_account_even_for_the_right_password(officer):
    client = Client()
    _fail(client, "officer", 4)

    fifth = _attempt(client, "officer", "not-the-password")
    sixth = _attempt(client, "officer", PASSWORD)

    assert fifth.status_code == 429
    assert sixth.status_code == 429
    assert LOCKED_MESSAGE in sixth.text
    assert "_auth_user_id" not in client.session


def test_the_lockout_follows_the_username_across_addresses(officer):
    _fail(Client(REMOTE_ADDR="10.0.0.1"), "officer", 3)
    _fail(Client(REMOTE_ADDR="10.0.0.2"), "officer", 1)
    assert _attempt(Client(REMOTE_ADDR="10.0.0.2"), "officer", "not-the-password").status_code == 429

    response = _attempt(Client(REMOTE_ADDR="10.0.0.3"), "officer", PASSWORD)

    assert response.status_code == 429


def test_a_locked_account_does_not_lock_out_colleagues(officer, second_officer):
    client = Client()
    _fail(client, "officer", 5)

    response = _attempt(client, "officer2", PASSWORD)

    assert response.status_code == 302


def test_a_successful_sign_in_before_the_limit_resets_the_count(officer):
    _fail(Client(), "officer", 4)
    assert _attempt(Client(), "officer", PASSWORD).status_code == 302

    _fail(Client(), "officer", 4)

    assert _attempt(Client(), "officer", PASSWORD).status_code == 302


def test_failed_attempts_are_recorded_without_the_password(officer):
    _fail(Client(), "officer", 1)

    attempt = AccessAttempt.objects.get(username="officer")
    assert "not-the-password" not in attempt.post_data


def test_coordinator_sees_the_locked_account_and_unlocks_it(officer, coordinator):
    _fail(Client(), "officer", 5)
    coordinator_client = client_for(coordinator)

    listing = coordinator_client.get(reverse("accounts:locked_out_list"))
    assert listing.status_code == 200
    assert "officer" in listing.text

    response = coordinator_client.post(reverse("accounts:account_unlock", args=[officer.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:locked_out_list")
    assert _attempt(Client(), "officer", PASSWORD).status_code == 302
    listed = coordinator_client.get(reverse("accounts:locked_out_list")).context["locked_out_users"]
    assert "officer" not in [user.username for user in listed]


def test_the_list_shows_only_accounts_of_the_coordinators_departments(
    officer, other_officer, other_coordinator
):
    _fail(Client(), "officer", 5)
    _fail(Client(), "other-officer", 5)

    response = client_for(other_coordinator).get(reverse("accounts:locked_out_list"))

    assert [user.username for user in response.context["locked_out_users"]] == ["other-officer"]


def test_an_account_below_the_limit_is_not_listed(officer, coordinator):
    _fail(Client(), "officer", 4)

    response = client_for(coordinator).get(reverse("accounts:locked_out_list"))

    assert list(response.context["locked_out_users"]) == []


def test_a_coordinator_of_another_department_cannot_unlock(officer, other_coordinator):
    _fail(Client(), "officer", 5)

    response = client_for(other_coordinator).post(reverse("accounts:account_unlock", args=[officer.pk]))

    assert response.status_code == 404
    assert _attempt(Client(), "officer", PASSWORD).status_code == 429


@pytest.mark.parametrize("user", ["officer", "volunteer_user"])
def test_only_coordinators_may_unlock(request, user, second_officer):
    response = client_for(request.getfixturevalue(user)).post(
        reverse("accounts:account_unlock", args=[second_officer.pk])
    )

    assert response.status_code == 403


# --- issue 13, finding 8: only an administrator unlocks an administrator ----------------------


def test_a_coordinator_cannot_unlock_an_administrator(administrator, coordinator):
    _fail(Client(), "admin", 5)
    client = client_for(coordinator)

    listing = client.get(reverse("accounts:locked_out_list"))
    response = client.post(reverse("accounts:account_unlock", args=[administrator.pk]))

    assert "Only an administrator can unlock this account." in listing.text
    assert reverse("accounts:account_unlock", args=[administrator.pk]) not in listing.text
    assert response.status_code == 403
    assert _attempt(Client(), "admin", PASSWORD).status_code == 429


def test_an_administrator_unlocks_an_administrator(administrator, department):
    from accounts.models import Role
    from tests.factories import user_with_role

    user_with_role(Role.ADMINISTRATOR, department, username="admin2", is_staff=True)
    _fail(Client(), "admin2", 5)
    client = client_for(administrator)

    listing = client.get(reverse("accounts:locked_out_list"))
    response = client.post(
        reverse("accounts:account_unlock", args=[listing.context["locked_out_users"][0].pk])
    )

    assert response.status_code == 302
    assert _attempt(Client(), "admin2", PASSWORD).status_code == 302


def test_an_administrator_of_another_department_cannot_unlock(administrator, other_department):
    from accounts.models import Role
    from tests.factories import user_with_role

    other_admin = user_with_role(Role.ADMINISTRATOR, other_department, username="other-admin", is_staff=True)
    _fail(Client(), "admin", 5)

    response = client_for(other_admin).post(reverse("accounts:account_unlock", args=[administrator.pk]))

    assert response.status_code == 404
    assert _attempt(Client(), "admin", PASSWORD).status_code == 429


def test_the_locked_out_list_costs_the_same_queries_for_one_or_five_accounts(coordinator, department):
    """Who may be unlocked is worked out for the whole list at once, not one account at a time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Role
    from tests.factories import user_with_role

    client = client_for(coordinator)
    url = reverse("accounts:locked_out_list")

    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    user_with_role(Role.DESK_OFFICER, department, username="locked0")
    _fail(Client(), "locked0", 5)
    client.get(url)  # a session's first request does one-off work
    one = queries_for_list()
    for n in range(1, 5):
        user_with_role(Role.ADMINISTRATOR if n % 2 else Role.DESK_OFFICER, department, username=f"locked{n}")
        _fail(Client(), f"locked{n}", 5)
    assert len(client.get(url).context["locked_out_users"]) == 5
    assert queries_for_list() == one
