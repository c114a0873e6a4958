"""Coordinators keep the shared treatment directory: add, edit, update beds; stale counts show."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from referrals.directory.services import facility_capacity_update
from referrals.models import Facility, GenderServed, LevelOfCare, Medication, Payment
from tests.conftest import client_for
from tests.factories import FacilityFactory

pytestmark = pytest.mark.django_db
LIST = reverse("referrals:facility_list")
CREATE = reverse("referrals:facility_create")


def _detail(facility) -> str:
    return reverse("referrals:facility_detail", kwargs={"facility_id": facility.pk})


def _edit(facility) -> str:
    return reverse("referrals:facility_edit", kwargs={"facility_id": facility.pk})


def _beds(facility) -> str:
    return reverse("referrals:facility_beds", kwargs={"facility_id": facility.pk})


def facility_data(**overrides) -> dict:
    data = {
        "name": "Lighthouse Residential Program",
        "organization_name": "Lighthouse Inc.",
        "description": "Residential program.",
        "street_address": "5 Rogers Street",
        "town": "Gloucester",
        "state": "MA",
        "postal_code": "01930",
        "phone": "+1 978 555 0123",
        "email": "beds@lighthouse.example.org",
        "website": "https://lighthouse.example.org",
        "contact_name": "Admissions",
        "hours": "24/7",
        "levels_of_care": [LevelOfCare.CLINICALLY_MANAGED_HIGH, LevelOfCare.WM_32],
        "medications": [Medication.BUPRENORPHINE],
        "payment_accepted": [Payment.MEDICAID, Payment.SELF_PAY],
        "gender_served": GenderServed.WOMEN,
        "minimum_age": "18",
        "maximum_age": "",
        "serves_pregnant_women": "on",
        "beds_maximum": "30",
        "is_active": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- create, read, update ---------------------------------------------------------------------


def test_a_coordinator_adds_a_facility_with_a_first_count(coordinator_client, coordinator):
    response = coordinator_client.post(CREATE, facility_data(beds_available="4"))

    facility = Facility.objects.get()
    assert response.status_code == 302 and response["Location"] == _detail(facility)
    assert facility.levels_of_care == [LevelOfCare.CLINICALLY_MANAGED_HIGH, LevelOfCare.WM_32]
    assert facility.payment_accepted == [Payment.MEDICAID, Payment.SELF_PAY]
    assert facility.medications == [Medication.BUPRENORPHINE]
    assert facility.gender_served == GenderServed.WOMEN and facility.serves_pregnant_women
    assert facility.phone.as_e164 == "+19785550123"
    assert (facility.beds_available, facility.beds_maximum) == (4, 30)
    assert facility.capacity_updated_by == coordinator
    assert timezone.now() - facility.capacity_updated_at < timedelta(minutes=1)


def test_a_facility_added_without_a_count_has_none(coordinator_client):
    coordinator_client.post(CREATE, facility_data())

    facility = Facility.objects.get()
    assert facility.beds_available is None and facility.capacity_updated_at is None


def test_the_detail_page_shows_everything(coordinator_client):
    coordinator_client.post(CREATE, facility_data(beds_available="4"))
    facility = Facility.objects.get()

    response = coordinator_client.get(_detail(facility))

    assert response.status_code == 200
    for text in (
        "Lighthouse Inc.",
        "3.5, 3.2-WM",
        "Buprenorphine",
        "MassHealth / Medicaid, Self-pay",
        "24/7",
    ):
        assert text in response.text
    assert "<strong>4</strong> free of 30" in response.text
    assert "capacity-stale" not in response.text


REFUSED = {
    "no-level-of-care": ({"levels_of_care": None}, "This field is required."),
    "no-payment": ({"payment_accepted": None}, "This field is required."),
    "unknown-level": (
        {"levels_of_care": ["9"]},
        "Select a valid choice. 9 is not one of the available choices.",
    ),
    "no-address": ({"street_address": ""}, "This field is required."),
    "bad-state": ({"state": "ZZ"}, "Select a valid choice."),
    "bad-phone": ({"phone": "call us"}, "Enter a valid phone number"),
    "ages-upside-down": (
        {"minimum_age": "40", "maximum_age": "30"},
        "The maximum age is below the minimum age.",
    ),
    "age-999": ({"minimum_age": "999"}, "less than or equal to 130"),
    "negative-beds": ({"beds_available": "-1"}, "greater than or equal to 0"),
    "more-beds-than-in-all": ({"beds_available": "31"}, "More beds free than the 30 beds in all."),
    "control-characters": ({"name": "Light\x1bhouse"}, "Please remove the invisible control characters"),
    "newline-in-name": ({"name": "Light\nhouse"}, "Please keep this to one line."),
    "name-too-long": ({"name": "L" * 201}, "at most 200 characters"),
}


@pytest.mark.parametrize(("overrides", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_bad_input_is_refused_with_a_clear_message(coordinator_client, overrides, message):
    response = coordinator_client.post(CREATE, facility_data(**overrides))

    assert response.status_code == 200
    assert message in response.text
    assert not Facility.objects.exists()


def test_a_second_facility_at_the_same_address_is_refused(coordinator_client):
    FacilityFactory(
        name="Lighthouse Residential Program", street_address="5 Rogers Street", town="Gloucester"
    )

    response = coordinator_client.post(CREATE, facility_data())

    assert response.status_code == 200
    assert "already exists" in response.text
    assert Facility.objects.count() == 1


def test_a_coordinator_edits_a_facility_but_not_its_count(coordinator_client, coordinator):
    facility = FacilityFactory(
        beds_available=2, capacity_updated_at=timezone.now(), capacity_updated_by=coordinator
    )
    stamped = facility.capacity_updated_at

    response = coordinator_client.post(_edit(facility), facility_data(name="Renamed", beds_available="9"))

    assert response.status_code == 302
    facility.refresh_from_db()
    assert facility.name == "Renamed" and facility.town == "Gloucester"
    assert (facility.beds_available, facility.capacity_updated_at) == (2, stamped)


def test_an_invalid_edit_changes_nothing_and_keeps_the_heading(coordinator_client):
    facility = FacilityFactory(name="Original Name")

    response = coordinator_client.post(_edit(facility), facility_data(name="New", levels_of_care=None))

    assert response.status_code == 200
    assert "Edit Original Name" in response.text
    facility.refresh_from_db()
    assert facility.name == "Original Name"


def test_a_facility_is_retired_by_making_it_inactive(coordinator_client):
    facility = FacilityFactory()

    coordinator_client.post(_edit(facility), facility_data(is_active=None))

    facility.refresh_from_db()
    assert not facility.is_active
    assert facility.name not in coordinator_client.get(LIST).text
    assert facility.name in coordinator_client.get(LIST, {"include_inactive": "on"}).text


def test_the_directory_is_shared_by_every_department(other_coordinator):
    facility = FacilityFactory(name="Shared Place")
    client = client_for(other_coordinator)

    assert "Shared Place" in client.get(LIST).text
    response = client.post(_edit(facility), facility_data(name="Shared Place, renamed"))
    assert response.status_code == 302


def test_an_unknown_facility_is_404(coordinator_client):
    assert (
        coordinator_client.get(
            reverse("referrals:facility_detail", kwargs={"facility_id": 999999})
        ).status_code
        == 404
    )


# --- beds -------------------------------------------------------------------------------------


def test_updating_beds_records_who_and_when(coordinator_client, coordinator):
    facility = FacilityFactory(beds_available=1)
    moment = timezone.now().replace(microsecond=0)

    with time_machine.travel(moment, tick=False):
        response = coordinator_client.post(_beds(facility), {"beds_available": "5", "next": LIST})

    assert response.status_code == 302 and response["Location"] == LIST
    facility.refresh_from_db()
    assert (facility.beds_available, facility.capacity_updated_at, facility.capacity_updated_by) == (
        5,
        moment,
        coordinator,
    )


def test_the_beds_form_answers_htmx_with_the_cell(coordinator_client):
    facility = FacilityFactory()

    response = coordinator_client.post(
        _beds(facility), {"beds_available": "3"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<div id="beds-{facility.pk}"')
    assert "<strong>3</strong> free" in response.text
    assert "<html" not in response.text


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-2", "Ensure this value is greater than or equal to 0."),
        ("many", "Enter a whole number."),
        ("", "This field is required."),
        ("10001", "Ensure this value is less than or equal to 10000."),
        ("31", "has 30 beds in all. If it has more now, edit the facility first."),
    ],
)
def test_a_bad_bed_count_is_refused(coordinator_client, value, message):
    facility = FacilityFactory(beds_available=2, beds_maximum=30)

    htmx = coordinator_client.post(_beds(facility), {"beds_available": value}, headers={"HX-Request": "true"})
    plain = coordinator_client.post(_beds(facility), {"beds_available": value}, follow=True)

    assert htmx.status_code == 200 and message in htmx.text and "is-invalid" in htmx.text
    assert plain.status_code == 200 and message in plain.text
    facility.refresh_from_db()
    assert facility.beds_available == 2 and facility.capacity_updated_at is None


def test_the_beds_form_does_not_redirect_elsewhere(coordinator_client):
    facility = FacilityFactory()

    response = coordinator_client.post(
        _beds(facility), {"beds_available": "1", "next": "https://evil.example.com/"}
    )

    assert response["Location"] == _detail(facility)


def test_the_beds_form_only_posts(coordinator_client):
    assert coordinator_client.get(_beds(FacilityFactory())).status_code == 405


# --- staleness --------------------------------------------------------------------------------


@pytest.mark.parametrize(("hours", "stale"), [(0, False), (23, False), (24.01, True), (25, True)])
def test_a_count_older_than_24_hours_is_stale(coordinator, hours, stale):
    facility = FacilityFactory()
    counted = timezone.now()
    facility_capacity_update(facility=facility, beds_available=3, actor=coordinator, now=counted)

    with time_machine.travel(counted + timedelta(hours=hours), tick=False):
        assert facility.capacity_is_stale is stale


@pytest.mark.parametrize(("hours", "stale"), [(23, False), (25, True)])
def test_the_stale_badge_shows_on_the_list_and_the_facility(coordinator_client, coordinator, hours, stale):
    # The count is made in the past (travelling forward would outlive the 12-hour session).
    facility = FacilityFactory(name="Cape Ann Detox")
    facility_capacity_update(
        facility=facility, beds_available=3, actor=coordinator, now=timezone.now() - timedelta(hours=hours)
    )

    listed = coordinator_client.get(LIST)
    detail = coordinator_client.get(_detail(facility))

    assert listed.status_code == detail.status_code == 200
    assert ("capacity-stale" in listed.text) is stale
    assert ("capacity-stale" in detail.text) is stale
    age = "1\xa0day, 1\xa0hour" if stale else "23\xa0hours"
    assert f"counted {age} ago by {coordinator}" in listed.text


def test_a_facility_never_counted_says_so(coordinator_client):
    FacilityFactory()

    assert "No count" in coordinator_client.get(LIST).text


# --- the list ---------------------------------------------------------------------------------


def test_the_list_filters_by_name_or_town(coordinator_client):
    FacilityFactory(name="Cape Ann Detox", town="Gloucester")
    FacilityFactory(name="Beverly House", town="Beverly")

    response = coordinator_client.get(LIST, {"text": "bever"})

    assert "Beverly House" in response.text and "Cape Ann Detox" not in response.text


def test_the_list_pages_keep_the_filters(coordinator_client):
    for _ in range(51):
        FacilityFactory(town="Salem")

    response = coordinator_client.get(LIST, {"text": "salem"})

    assert "Page 1 of 2" in response.text
    assert "?text=salem&amp;page=2" in response.text


def test_a_tampered_filter_shows_everything_rather_than_failing(coordinator_client):
    FacilityFactory(name="Cape Ann Detox")

    response = coordinator_client.get(LIST, {"level_of_care": "'; DROP TABLE", "page": "999"})

    assert response.status_code == 200
    assert "Cape Ann Detox" in response.text
