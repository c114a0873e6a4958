"""The facility search for a walk-in: each filter narrows, the intake fills it in, the freshest
counts come first, and the query count does not grow with the directory."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from referrals.directory.selectors import FacilityFilters, facilities_search
from referrals.models import GenderServed, LevelOfCare, Medication, Payment
from tests.conftest import client_for
from tests.factories import FacilityFactory, IntakeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def walk_in(department, officer):
    return IntakeFactory(department=department, logged_by=officer)


def _url(intake) -> str:
    return reverse("referrals:facility_search", kwargs={"intake_id": intake.pk})


def _names(**filters) -> set[str]:
    return {f.name for f in facilities_search(filters=FacilityFilters(**filters))}


@pytest.fixture
def facilities():
    """One facility that each filter keeps, and one that it drops."""
    return {
        "detox": FacilityFactory(
            name="Detox for men",
            levels_of_care=[LevelOfCare.WM_37],
            payment_accepted=[Payment.MEDICAID, Payment.PRIVATE],
            medications=[Medication.BUPRENORPHINE],
            gender_served=GenderServed.MEN,
            beds_available=2,
        ),
        "residential": FacilityFactory(
            name="Residential for women",
            levels_of_care=[LevelOfCare.CLINICALLY_MANAGED_HIGH],
            payment_accepted=[Payment.SELF_PAY, Payment.FREE],
            medications=[Medication.METHADONE],
            gender_served=GenderServed.WOMEN,
            serves_pregnant_women=True,
            beds_available=0,
        ),
        "outpatient": FacilityFactory(
            name="Outpatient for all",
            levels_of_care=[LevelOfCare.OUTPATIENT, LevelOfCare.WM_37],
            payment_accepted=[Payment.MEDICARE, Payment.MEDICAID],
            medications=[],
            gender_served=GenderServed.ALL,
            beds_available=None,
        ),
        "closed": FacilityFactory(name="Closed program", levels_of_care=[LevelOfCare.WM_37], is_active=False),
    }


ALL_ACTIVE = {"Detox for men", "Residential for women", "Outpatient for all"}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ALL_ACTIVE),
        ({"level_of_care": LevelOfCare.WM_37}, {"Detox for men", "Outpatient for all"}),
        ({"level_of_care": LevelOfCare.MEDICALLY_MANAGED}, set()),
        ({"payment": Payment.MEDICAID}, {"Detox for men", "Outpatient for all"}),
        ({"payment": Payment.SELF_PAY}, {"Residential for women"}),
        ({"gender": GenderServed.WOMEN}, {"Residential for women", "Outpatient for all"}),
        ({"gender": GenderServed.MEN}, {"Detox for men", "Outpatient for all"}),
        ({"medication": Medication.BUPRENORPHINE}, {"Detox for men"}),
        ({"beds_only": True}, {"Detox for men"}),
        ({"pregnant": True}, {"Residential for women"}),
        ({"level_of_care": LevelOfCare.WM_37, "payment": Payment.MEDICARE}, {"Outpatient for all"}),
        (
            {"include_inactive": True, "level_of_care": LevelOfCare.WM_37},
            {"Detox for men", "Outpatient for all", "Closed program"},
        ),
    ],
)
def test_each_filter_narrows_the_results(facilities, filters, expected):
    assert _names(**filters) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"level_of_care": "3.7-WM"}, {"Detox for men", "Outpatient for all"}),
        ({"payment": "self_pay"}, {"Residential for women"}),
        ({"gender": "women"}, {"Residential for women", "Outpatient for all"}),
        ({"medication": "methadone"}, {"Residential for women"}),
        ({"beds_only": "on"}, {"Detox for men"}),
        ({"pregnant": "on"}, {"Residential for women"}),
    ],
)
def test_the_search_page_applies_each_filter(coordinator_client, walk_in, facilities, query, expected):
    response = coordinator_client.post(_url(walk_in), query)

    assert response.status_code == 200
    shown = {name for name in [*ALL_ACTIVE, "Closed program"] if name in response.text}
    assert shown == expected


@pytest.mark.parametrize(
    ("insurance", "payment"),
    [
        ("medicaid", "medicaid"),
        ("medicare", "medicare"),
        ("private", "private"),
        ("none", "self_pay"),
        ("", ""),
    ],
)
def test_payment_is_filled_in_from_the_persons_insurance(coordinator_client, walk_in, insurance, payment):
    walk_in.person.insurance = insurance
    walk_in.person.save()

    response = coordinator_client.get(_url(walk_in))

    assert (response.context["form"]["payment"].value() or "") == payment


def test_the_prefilled_search_finds_what_the_person_can_use(coordinator_client, walk_in, facilities):
    person = walk_in.person
    person.insurance, person.gender = "none", "woman"
    person.save()

    response = coordinator_client.get(_url(walk_in))

    assert response.context["form"]["gender"].value() == "women"
    assert [f.name for f in response.context["facilities"]] == ["Residential for women"]


def test_a_pregnant_person_is_searched_for_facilities_serving_pregnant_women(coordinator_client, walk_in):
    walk_in.pregnancy = "yes"
    walk_in.save()

    assert coordinator_client.get(_url(walk_in)).context["form"]["pregnant"].value() is True


def test_the_coordinator_can_clear_the_prefilled_filters(coordinator_client, walk_in, facilities):
    walk_in.person.insurance = "none"
    walk_in.person.save()

    response = coordinator_client.post(_url(walk_in), {"payment": ""})

    assert {f.name for f in response.context["facilities"]} == ALL_ACTIVE


def test_the_freshest_counts_come_first_and_uncounted_last():
    now = timezone.now()
    FacilityFactory(name="B never counted")
    FacilityFactory(name="A never counted")
    FacilityFactory(name="Counted yesterday", beds_available=1, capacity_updated_at=now - timedelta(days=1))
    FacilityFactory(name="Counted now", beds_available=0, capacity_updated_at=now)
    FacilityFactory(
        name="Counted an hour ago", beds_available=5, capacity_updated_at=now - timedelta(hours=1)
    )

    assert [f.name for f in facilities_search(filters=FacilityFilters())] == [
        "Counted now",
        "Counted an hour ago",
        "Counted yesterday",
        "A never counted",
        "B never counted",
    ]


def test_results_show_stale_counts_and_link_to_recording_a_call(coordinator_client, walk_in):
    stale = FacilityFactory(
        name="Stale place", beds_available=3, capacity_updated_at=timezone.now() - timedelta(hours=30)
    )

    response = coordinator_client.get(_url(walk_in))

    assert "capacity-stale" in response.text
    attempt = reverse("referrals:attempt_create", kwargs={"intake_id": walk_in.pk})
    assert f'href="{attempt}?facility={stale.pk}"' in response.text


def test_another_departments_walk_in_is_not_found(other_coordinator, walk_in):
    assert client_for(other_coordinator).get(_url(walk_in)).status_code == 404


def test_the_search_shows_at_most_fifty(coordinator_client, walk_in):
    for _ in range(51):
        FacilityFactory()

    response = coordinator_client.get(_url(walk_in))

    assert len(response.context["facilities"]) == 50
    assert "Showing the first 50." in response.text


def test_a_tampered_search_does_not_fail(coordinator_client, walk_in, facilities):
    response = coordinator_client.post(_url(walk_in), {"level_of_care": "x" * 500, "beds_only": "maybe"})

    assert response.status_code == 200


# --- query counts (docs/design.md "Scale") ---------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def _more_facilities(count: int, coordinator) -> None:
    now = timezone.now()
    for i in range(count):
        FacilityFactory(
            beds_available=i % 4,
            capacity_updated_at=now - timedelta(hours=i),
            capacity_updated_by=coordinator,
        )


def test_search_query_count_does_not_grow_with_the_directory(coordinator_client, coordinator, walk_in):
    _more_facilities(3, coordinator)
    with_three = _queries(coordinator_client, _url(walk_in))
    _more_facilities(57, coordinator)

    assert _queries(coordinator_client, _url(walk_in)) == with_three


def test_directory_query_count_does_not_grow_with_the_directory(coordinator_client, coordinator):
    url = reverse("referrals:facility_list")
    _more_facilities(3, coordinator)
    with_three = _queries(coordinator_client, url)
    _more_facilities(57, coordinator)

    assert _queries(coordinator_client, url) == with_three
