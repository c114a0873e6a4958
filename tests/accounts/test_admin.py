"""Issue 13, finding 1: a department's administrator in the admin is not a superuser.

They see and change the accounts, roles and settings of their own departments only; granting or
revoking a role goes through the services and is kept in the change history with who and when,
shown on the account's page; no TOTP key or recovery code is ever shown; resetting a second
factor asks for a reason and is recorded. Superuser is for the operator's own account.
"""

from __future__ import annotations

from base64 import b32encode
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership, MembershipHistory, Role, User, UserAccountEvent
from accounts.services import membership_grant
from accounts.two_factor import recovery_codes_replace
from tests.conftest import client_for, enrolled_totp
from tests.factories import user_with_role

USERS_URL = reverse("admin:accounts_user_changelist")


def _user_url(user) -> str:
    return reverse("admin:accounts_user_change", args=[user.pk])


def _management(total: int, initial: int = 0, prefix: str = "memberships") -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def _change_data(user, **extra) -> dict:
    """The account's change form as the admin page submits it, without any new role."""
    memberships = list(Membership.objects.filter(user=user).order_by("pk"))
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "display_name": user.display_name,
        "email": user.email,
        "phone": "",
        "is_active": "on",
        **_management(len(memberships) + 1, len(memberships)),
    }
    for index, membership in enumerate(memberships):
        data[f"memberships-{index}-id"] = str(membership.pk)
        data[f"memberships-{index}-user"] = str(user.pk)
    data.update(extra)
    return data


@pytest.fixture
def admin_client(administrator):
    return client_for(administrator)


def test_the_administrator_is_not_a_superuser_yet_reaches_the_admin(administrator, admin_client):
    assert not administrator.is_superuser

    response = admin_client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert "Users" in response.text


def test_the_user_list_shows_only_the_administrators_departments(
    admin_client, officer, other_officer, other_coordinator
):
    response = admin_client.get(USERS_URL)

    assert response.status_code == 200
    assert "officer" in response.text
    assert "other-officer" not in response.text
    assert "other-coordinator" not in response.text


def test_another_departments_account_cannot_be_opened(admin_client, other_officer):
    response = admin_client.get(_user_url(other_officer))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert other_officer.last_name not in admin_client.get(response["Location"]).text


def test_another_departments_password_cannot_be_set(admin_client, other_officer):
    url = reverse("admin:auth_user_password_change", args=[other_officer.pk])
    response = admin_client.post(
        url, {"password1": "a brand new passphrase", "password2": "a brand new passphrase"}
    )

    assert response.status_code in {302, 403, 404}
    other_officer.refresh_from_db()
    assert other_officer.check_password("correct-horse-battery-staple")


def test_the_department_list_shows_only_the_administrators_departments(
    admin_client, department, other_department
):
    response = admin_client.get(reverse("admin:accounts_department_changelist"))

    assert department.name in response.text
    assert other_department.name not in response.text
    other = admin_client.get(reverse("admin:accounts_department_change", args=[other_department.pk]))
    assert other.status_code == 302  # "does not exist", back to the admin's index


def test_the_administrator_cannot_grant_themselves_a_role_in_another_department(
    administrator, admin_client, other_department
):
    data = _change_data(
        administrator,
        **{
            "memberships-1-department": str(other_department.pk),
            "memberships-1-role": Role.COORDINATOR,
            "memberships-1-user": str(administrator.pk),
        },
    )

    response = admin_client.post(_user_url(administrator), data)

    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert not Membership.objects.filter(user=administrator, department=other_department).exists()


def test_a_role_granted_in_the_admin_is_in_the_history_with_who_and_when(
    administrator, admin_client, officer, department
):
    data = _change_data(
        officer,
        **{
            "memberships-1-department": str(department.pk),
            "memberships-1-role": Role.COORDINATOR,
            "memberships-1-user": str(officer.pk),
        },
    )

    response = admin_client.post(_user_url(officer), data)

    assert response.status_code == 302
    assert Membership.objects.filter(user=officer, role=Role.COORDINATOR).exists()
    event = MembershipHistory.objects.get(user_id=officer.pk, role=Role.COORDINATOR)
    assert event.pgh_label == "insert"
    assert event.pgh_context.metadata["user"] == administrator.pk
    page = admin_client.get(_user_url(officer)).text
    assert "Role granted" in page
    assert "Coordinator, Gloucester Police Department" in page
    assert str(administrator) in page.split('id="account-history"')[1]


def test_a_role_revoked_in_the_admin_is_in_the_history(administrator, admin_client, officer):
    membership = Membership.objects.get(user=officer)
    data = _change_data(officer, **{"memberships-0-DELETE": "on"})

    response = admin_client.post(_user_url(officer), data)

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    event = MembershipHistory.objects.get(pgh_obj_id=membership.pk, pgh_label="delete")
    assert event.pgh_context.metadata["user"] == administrator.pk
    # The account has no role in the administrator's department any more: it is out of sight.
    assert admin_client.get(_user_url(officer)).status_code == 302


def test_an_existing_role_cannot_be_edited_into_another(admin_client, officer, department):
    membership = Membership.objects.get(user=officer)
    data = _change_data(officer, **{"memberships-0-role": Role.ADMINISTRATOR})

    admin_client.post(_user_url(officer), data)

    membership.refresh_from_db()
    assert membership.role == Role.DESK_OFFICER


def test_the_administrator_cannot_make_anyone_a_superuser(admin_client, officer):
    response = admin_client.post(
        _user_url(officer), _change_data(officer, is_superuser="on", is_staff="on", user_permissions="1")
    )

    assert response.status_code == 302
    officer.refresh_from_db()
    assert not officer.is_superuser
    assert not officer.is_staff
    assert "is_superuser" not in admin_client.get(_user_url(officer)).text


def test_a_new_account_gets_its_first_role_in_the_administrators_department(
    administrator, admin_client, department, other_department
):
    data = {
        "username": "newcomer",
        "usable_password": "true",
        "password1": "a long enough passphrase",
        "password2": "a long enough passphrase",
        "role": Role.DESK_OFFICER,
    }

    refused = admin_client.post(
        reverse("admin:accounts_user_add"), {**data, "department": other_department.pk}
    )
    assert refused.status_code == 200
    assert not User.objects.filter(username="newcomer").exists()

    response = admin_client.post(reverse("admin:accounts_user_add"), {**data, "department": department.pk})

    assert response.status_code == 302
    newcomer = User.objects.get(username="newcomer")
    assert newcomer.memberships.get().department == department
    assert MembershipHistory.objects.get(user_id=newcomer.pk).pgh_context.metadata["user"] == administrator.pk


def test_an_account_shared_with_another_department_is_view_only(
    admin_client, officer, other_department, other_coordinator
):
    membership_grant(
        user=officer, department=other_department, role=Role.VOLUNTEER, granted_by=other_coordinator
    )

    response = admin_client.post(_user_url(officer), _change_data(officer, first_name="Changed"))

    assert response.status_code == 403
    officer.refresh_from_db()
    assert officer.first_name != "Changed"


def test_the_admin_never_shows_a_totp_key_or_a_recovery_code(admin_client, officer):
    device = enrolled_totp(officer)
    codes = recovery_codes_replace(user=officer)
    key = b32encode(device.bin_key).decode().rstrip("=")

    pages = [admin_client.get(reverse("admin:index")).text, admin_client.get(_user_url(officer)).text]
    for name in ("totpdevice", "staticdevice"):
        app = "otp_totp" if name == "totpdevice" else "otp_static"
        for url in (f"/admin/{app}/{name}/", f"/admin/{app}/{name}/{device.pk}/change/"):
            response = admin_client.get(url)
            assert response.status_code in {302, 404}, url
            pages.append(response.text)

    for page in pages:
        assert key not in page
        assert device.key not in page
        assert not any(code in page for code in codes)
        assert "TOTP device" not in page


def test_resetting_a_second_factor_asks_for_a_reason(admin_client, officer):
    enrolled_totp(officer)
    recovery_codes_replace(user=officer)
    action = {"action": "reset_two_factor", "_selected_action": [officer.pk]}

    asked = admin_client.post(USERS_URL, action)
    blank = admin_client.post(USERS_URL, {**action, "confirm": "yes", "reason": "   "})

    assert asked.status_code == 200
    assert "Reason" in asked.text
    assert blank.status_code == 200
    assert "This field is required." in blank.text
    assert TOTPDevice.objects.filter(user=officer).exists()
    assert StaticToken.objects.filter(device__user=officer).exists()


def test_a_reset_second_factor_is_recorded_with_who_when_and_why(administrator, admin_client, officer):
    enrolled_totp(officer)
    recovery_codes_replace(user=officer)

    response = admin_client.post(
        USERS_URL,
        {
            "action": "reset_two_factor",
            "_selected_action": [officer.pk],
            "confirm": "yes",
            "reason": "Lost phone; identity checked at the front desk",
        },
        follow=True,
    )

    assert "Two-factor sign-in reset for 1 account(s)." in response.text
    assert not TOTPDevice.objects.filter(user=officer).exists()
    assert not StaticDevice.objects.filter(user=officer).exists()
    event = UserAccountEvent.objects.get(pgh_obj=officer)
    assert event.pgh_label == "two_factor.reset"
    assert event.pgh_context.metadata["user"] == administrator.pk
    page = admin_client.get(_user_url(officer)).text
    assert "Second factor reset" in page
    assert "Lost phone; identity checked at the front desk" in page


def test_the_operator_is_created_by_a_command_and_belongs_to_no_department(db, monkeypatch):
    monkeypatch.setenv("HARBOR_OPERATOR_PASSWORD", "an operator's long passphrase")
    out = StringIO()

    call_command("create_operator", "operator", "--email", "ops@example.org", stdout=out)

    operator = User.objects.get(username="operator")
    assert operator.is_superuser
    assert operator.is_staff
    assert not operator.memberships.exists()
    assert UserAccountEvent.objects.get(pgh_obj=operator).pgh_label == "operator.created"
    assert "Operator account operator created" in out.getvalue()


def test_the_operator_sees_every_department(db, department, other_department, officer, other_officer):
    operator = User.objects.create(username="operator", is_staff=True, is_superuser=True)

    response = client_for(operator).get(USERS_URL)

    assert "other-officer" in response.text
    assert "officer" in response.text


def test_the_demo_administrator_is_not_a_superuser(db):
    call_command("seed_demo", stdout=StringIO())

    admin = User.objects.get(username="admin")
    assert admin.memberships.filter(role=Role.ADMINISTRATOR).exists()
    assert admin.is_staff
    assert not admin.is_superuser
    assert not User.objects.filter(is_superuser=True).exists()


def test_a_role_granted_by_the_service_gives_the_admin_to_a_new_administrator(
    administrator, department, officer
):
    membership_grant(user=officer, department=department, role=Role.ADMINISTRATOR, granted_by=administrator)

    response = client_for(User.objects.get(pk=officer.pk)).get(reverse("admin:index"))

    assert response.status_code == 200


def test_an_administrator_of_another_department_sees_nothing_of_this_one(
    department, other_department, officer, walk_in_department_volunteer
):
    other_admin = user_with_role(Role.ADMINISTRATOR, other_department, username="other-admin", is_staff=True)
    client = client_for(other_admin)

    for url in (
        USERS_URL,
        reverse("admin:accounts_department_changelist"),
        reverse("admin:volunteers_volunteer_changelist"),
    ):
        page = client.get(url).text
        assert f">{officer.username}<" not in page
        assert department.name not in page
        assert f">{walk_in_department_volunteer.user}<" not in page
        assert f">{walk_in_department_volunteer.user.username}<" not in page


@pytest.fixture
def walk_in_department_volunteer(volunteer_user):
    return volunteer_user.volunteer
