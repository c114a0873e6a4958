"""Issue 13, finding 7: pages that show a person are never stored by the browser (Back after
sign-out on a shared desk computer) or a proxy: every signed-in response is ``no-store``."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import client_for
from tests.factories import ConsentFactory, IntakeFactory, OfferFactory


@pytest.fixture
def walk_in(officer, department):
    return IntakeFactory(department=department, logged_by=officer)


def _assert_not_stored(response) -> None:
    cache_control = response.get("Cache-Control", "")
    assert "no-store" in cache_control, response.request["PATH_INFO"]
    assert "private" in cache_control
    assert "max-age=0" in cache_control


@pytest.mark.parametrize(
    "name",
    ["intake:detail", "intake:edit", "intake:consent", "notifications:intake_log", "referrals:placement"],
)
def test_a_coordinators_record_pages_are_not_stored(coordinator_client, walk_in, name):
    response = coordinator_client.get(reverse(name, kwargs={"intake_id": walk_in.pk}))

    assert response.status_code == 200
    _assert_not_stored(response)


def test_the_accounting_of_disclosures_and_the_lists_are_not_stored(coordinator_client, walk_in):
    ConsentFactory(intake=walk_in)
    for url in (
        reverse("intake:person_accounting", kwargs={"person_id": walk_in.person_id}),
        reverse("intake:list"),
        reverse("dashboard:board"),
    ):
        response = coordinator_client.get(url)
        assert response.status_code == 200, url
        _assert_not_stored(response)


def test_htmx_partials_of_a_record_are_not_stored(coordinator_client, walk_in):
    response = coordinator_client.get(reverse("dashboard:board"), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    _assert_not_stored(response)


def test_the_desk_officers_pages_are_not_stored(officer_client, walk_in):
    for url in (reverse("intake:desk"), reverse("intake:detail", kwargs={"intake_id": walk_in.pk})):
        response = officer_client.get(url)
        assert response.status_code == 200, url
        _assert_not_stored(response)


def test_the_companions_assignment_is_not_stored(volunteer_user, department):
    intake = IntakeFactory(department=department, status="companion_assigned", companion_needed_at=None)
    offer = OfferFactory(
        intake=intake, volunteer=volunteer_user.volunteer, status="accepted", responded_at=timezone.now()
    )

    response = client_for(volunteer_user).get(reverse("volunteers:assignment", kwargs={"offer_id": offer.pk}))

    assert response.status_code == 200
    _assert_not_stored(response)


def test_the_admin_is_not_stored(administrator):
    response = client_for(administrator).get(reverse("admin:accounts_user_changelist"))

    assert response.status_code == 200
    _assert_not_stored(response)


def test_the_public_summary_may_be_cached(department):
    response = Client().get(reverse("public:department", kwargs={"department_id": department.pk}))

    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
