"""Issue 13, finding 9: no 500 from hostile input to the admin or to a page that does not exist,
and the admin refuses what the app's own forms refuse (facilities, volunteers)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import NoReverseMatch, reverse

from accounts.models import Membership, Role
from referrals.models import Facility
from tests.conftest import client_for
from tests.factories import FacilityFactory

UNKNOWN_URL = "/no-such-page/"
CSRF_TOKEN = "a" * 32


def _with_csrf_cookie() -> Client:
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = CSRF_TOKEN
    return client


def _admin_form_data(response) -> dict:
    """What the admin's change form would submit unchanged (the page's own values)."""
    form = response.context["adminform"].form
    data: dict = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        if value is None or value is False:
            continue
        if value is True:
            data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(item) for item in value]
        else:
            data[name] = str(value)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(
            {f"{formset.prefix}-{key}": value for key, value in formset.management_form.initial.items()}
        )
        for index, inline_form in enumerate(formset.initial_forms):
            data[f"{formset.prefix}-{index}-id"] = str(inline_form.instance.pk)
    return data


@pytest.fixture
def admin_client(administrator):
    return client_for(administrator)


# --- a body that cannot be read ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"garbage"),
        ("multipart/form-data; boundary=", b"garbage"),
        ("multipart/form-data; boundary=\u00e9", b"garbage"),
    ],
)
def test_a_malformed_multipart_body_to_an_unknown_page_is_a_404_not_a_500(db, content_type, body):
    response = _with_csrf_cookie().generic(
        "POST", UNKNOWN_URL, body, content_type=content_type, HTTP_X_CSRFTOKEN=CSRF_TOKEN
    )

    assert response.status_code == 404
    assert response.templates[0].name == "404.html"


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\u00e9"],
)
def test_a_malformed_multipart_body_to_a_real_page_is_a_400(db, content_type):
    response = _with_csrf_cookie().generic(
        "POST", reverse("accounts:login"), b"garbage", content_type=content_type, HTTP_X_CSRFTOKEN=CSRF_TOKEN
    )

    assert response.status_code == 400


def test_a_truncated_multipart_body_is_no_500(db):
    body = b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--xy'

    response = _with_csrf_cookie().generic(
        "POST",
        UNKNOWN_URL,
        body,
        content_type="multipart/form-data; boundary=xyz",
        HTTP_X_CSRFTOKEN=CSRF_TOKEN,
    )

    assert response.status_code == 404


def test_too_many_fields_posted_to_an_unknown_page_is_a_404(db):
    body = "&".join(f"f{n}=1" for n in range(1500))

    response = _with_csrf_cookie().generic(
        "POST",
        UNKNOWN_URL,
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_CSRFTOKEN=CSRF_TOKEN,
    )

    assert response.status_code == 404


# --- NUL bytes in the admin's filters and search --------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "q=%00",
        "q=of%00ficer",
        "is_active__exact=%00",
        "o=%00",
        "%00=1",
        "departments__id__exact=1%00",
        # These reached PostgreSQL and failed with a 500 (a field lookup, a choices filter).
        "username__exact=a%00",
        "state__exact=%00",
    ],
)
@pytest.mark.parametrize("name", ["accounts_user", "volunteers_volunteer", "referrals_facility"])
def test_a_nul_byte_in_an_admin_filter_or_search_is_a_400(admin_client, name, query):
    response = admin_client.get(f"{reverse(f'admin:{name}_changelist')}?{query}")

    assert response.status_code == 400
    assert "invalid character" in response.text


def test_an_ordinary_admin_search_still_works(admin_client, officer):
    response = admin_client.get(f"{reverse('admin:accounts_user_changelist')}?q=offi")

    assert response.status_code == 200
    assert ">officer<" in response.text


# --- array fields holding "%" ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["%(x)s", "%d", "%s", "100%"])
def test_a_percent_sign_in_a_volunteers_languages_is_a_form_error(admin_client, volunteer_user, value):
    url = reverse("admin:volunteers_volunteer_change", args=[volunteer_user.volunteer.pk])
    data = _admin_form_data(admin_client.get(url))
    data["languages"] = ["en", value]

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    volunteer_user.volunteer.refresh_from_db()
    assert value not in volunteer_user.volunteer.languages


@pytest.mark.parametrize("value", ["1,%(x)s", "%d,7", "7%"])
def test_a_percent_sign_in_a_departments_follow_up_days_is_a_form_error(admin_client, department, value):
    url = reverse("admin:accounts_department_change", args=[department.pk])
    data = _admin_form_data(admin_client.get(url))
    data["follow_up_days"] = value

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "did not validate" in response.text
    department.refresh_from_db()
    assert department.follow_up_days == [1, 7, 30, 90]


# --- a membership formset of 2,000 forms -----------------------------------------------------------


def _membership_flood(officer, department, total: int, filled: int) -> dict:
    data = {
        "username": officer.username,
        "is_active": "on",
        "memberships-TOTAL_FORMS": str(total),
        "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-id": str(Membership.objects.get(user=officer).pk),
    }
    for index in range(1, filled + 1):
        data[f"memberships-{index}-department"] = str(department.pk)
        data[f"memberships-{index}-role"] = Role.VOLUNTEER
    return data


def test_a_2000_form_membership_formset_is_refused_before_it_is_built(admin_client, officer, department):
    """6,000 fields: past DATA_UPLOAD_MAX_NUMBER_FIELDS, Django's 400 before any form."""
    url = reverse("admin:accounts_user_change", args=[officer.pk])

    response = admin_client.post(url, _membership_flood(officer, department, 2000, 1999))

    assert response.status_code == 400
    assert Membership.objects.filter(user=officer).count() == 1


def test_a_formset_claiming_2000_forms_is_a_form_error(admin_client, officer, department):
    url = reverse("admin:accounts_user_change", args=[officer.pk])

    response = admin_client.post(url, _membership_flood(officer, department, 2000, 2))

    assert response.status_code == 200
    assert "Please submit at most 20 forms." in response.text
    assert Membership.objects.filter(user=officer).count() == 1


# --- the admin validates like the app ---------------------------------------------------------------

GOOD_FACILITY = {
    "name": "Cape Ann Recovery",
    "street_address": "12 Harbor Loop",
    "town": "Gloucester",
    "state": "MA",
    "levels_of_care": ["3.7-WM"],
    "payment_accepted": ["medicaid"],
    "gender_served": "all",
    "minimum_age": "18",
}


def test_the_admin_adds_a_good_facility(admin_client):
    response = admin_client.post(reverse("admin:referrals_facility_add"), GOOD_FACILITY)

    assert response.status_code == 302
    assert Facility.objects.filter(name="Cape Ann Recovery").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Cape Ann\x1b[31m Recovery"),
        ("name", "Cape Ann\u200b Recovery"),
        ("name", "Cape Ann\nRecovery"),
        ("town", "Glou\x07cester"),
        ("hours", "9\x00-5"),
        ("hsds_service_id", "svc\x1f1"),
    ],
)
def test_the_admin_refuses_control_characters_in_a_facility(admin_client, field, value):
    response = admin_client.post(reverse("admin:referrals_facility_add"), {**GOOD_FACILITY, field: value})

    assert response.status_code == 200
    assert "control characters" in response.text or "one line" in response.text
    assert not Facility.objects.exists()


def test_the_admin_refuses_a_duplicate_facility(admin_client):
    FacilityFactory(name="Cape Ann Recovery", street_address="12 Harbor Loop", town="Gloucester")

    response = admin_client.post(reverse("admin:referrals_facility_add"), GOOD_FACILITY)

    assert response.status_code == 200
    assert Facility.objects.count() == 1


def test_the_admin_refuses_what_the_vetting_form_refuses(admin_client, volunteer_user):
    url = reverse("admin:volunteers_volunteer_change", args=[volunteer_user.volunteer.pk])
    data = _admin_form_data(admin_client.get(url))

    control = admin_client.post(url, {**data, "home_town": "Rock\x1bport"})
    future = admin_client.post(url, {**data, "training_completed_on": "2999-01-01"})

    assert "control characters" in control.text
    assert "cannot be in the future" in future.text
    volunteer_user.volunteer.refresh_from_db()
    assert volunteer_user.volunteer.home_town != "Rock\x1bport"
    assert volunteer_user.volunteer.training_completed_on is None or (
        volunteer_user.volunteer.training_completed_on.year < 2999
    )


def test_every_admin_page_opens_for_the_administrator(admin_client, volunteer_user, officer):
    FacilityFactory()
    for model, _ in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        for view in ("changelist", "add"):
            try:
                url = reverse(f"admin:{info[0]}_{info[1]}_{view}")
            except NoReverseMatch:
                continue
            response = admin_client.get(url)
            assert response.status_code in {200, 302, 403}, url
