"""One place decides who may see, edit or record on a walk-in (``intake.selectors``), and every
app asks it: a coordinator of another department who is also this walk-in's desk officer sees it
as its desk officer does, and none of the coordinator's tools on it."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role
from intake.models import Intake
from intake.selectors import intake_coordinated_by, intake_recordable_by, intakes_visible_to
from tests.conftest import client_for
from tests.factories import IntakeFactory, OfferFactory, VolunteerFactory


@pytest.fixture
def desk_officer_here_coordinator_elsewhere(department, other_department, officer):
    """The desk officer who logged the walk-in here also coordinates another department."""
    Membership.objects.create(user=officer, department=other_department, role=Role.COORDINATOR)
    return officer


@pytest.fixture
def walk_in(department, officer):
    return IntakeFactory(department=department, logged_by=officer, person__first_name="Wren")


@pytest.fixture
def here_volunteer(department):
    volunteer = VolunteerFactory()
    volunteer.departments.add(department)
    return volunteer


def test_the_officer_sees_the_walk_in_but_does_not_coordinate_it(
    desk_officer_here_coordinator_elsewhere, walk_in
):
    user = desk_officer_here_coordinator_elsewhere
    assert intakes_visible_to(user=user).filter(pk=walk_in.pk).exists()
    assert not intake_coordinated_by(user=user, intake=walk_in)
    assert not intake_recordable_by(user=user, intake=walk_in)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("volunteers:paging_page", "volunteer"),
        ("volunteers:paging_page_near_fit", "near_fit"),
        ("volunteers:paging_stop", None),
        ("volunteers:paging_resume", None),
        ("volunteers:paging_release", None),
    ],
)
def test_a_coordinator_elsewhere_may_not_page_for_the_walk_in(
    desk_officer_here_coordinator_elsewhere, walk_in, here_volunteer, name, data
):
    payload = {
        "volunteer": {"volunteer": here_volunteer.pk},
        "near_fit": {"volunteer": here_volunteer.pk, "rule": "language"},
        None: {},
    }[data]
    response = client_for(desk_officer_here_coordinator_elsewhere).post(
        reverse(name, kwargs={"intake_id": walk_in.pk}), payload
    )
    assert response.status_code == 403
    assert not walk_in.offers.exists()
    walk_in.refresh_from_db()
    assert walk_in.status == Intake.Status.WAITING_FOR_COMPANION


def test_the_paging_panel_shows_the_officer_no_coordinator_tools(
    desk_officer_here_coordinator_elsewhere, walk_in, here_volunteer
):
    response = client_for(desk_officer_here_coordinator_elsewhere).get(
        reverse("volunteers:paging_panel", kwargs={"intake_id": walk_in.pk})
    )
    assert response.status_code == 200
    assert response.context["is_coordinator"] is False
    assert response.context["candidates"] == []
    assert response.context["on_call"] == []
    assert "Page anyway" not in response.text


def test_the_coordinator_of_the_department_has_the_tools(coordinator, walk_in, here_volunteer):
    response = client_for(coordinator).get(
        reverse("volunteers:paging_panel", kwargs={"intake_id": walk_in.pk})
    )
    assert response.status_code == 200
    assert response.context["is_coordinator"] is True


def test_the_delivery_log_and_placement_recording_are_refused_to_the_officer(
    desk_officer_here_coordinator_elsewhere, walk_in
):
    client = client_for(desk_officer_here_coordinator_elsewhere)
    log = client.get(reverse("notifications:intake_log", kwargs={"intake_id": walk_in.pk}))
    attempt = client.get(reverse("referrals:attempt_create", kwargs={"intake_id": walk_in.pk}))
    assert (log.status_code, attempt.status_code) == (403, 403)


def test_the_companion_sees_the_placement_but_not_the_record(department, walk_in, here_volunteer):
    OfferFactory(
        intake=walk_in,
        volunteer=here_volunteer,
        department=department,
        status="accepted",
        responded_at=timezone.now(),
    )
    Intake.objects.filter(pk=walk_in.pk).update(status=Intake.Status.COMPANION_ASSIGNED)
    user = here_volunteer.user
    assert not intakes_visible_to(user=user).filter(pk=walk_in.pk).exists()
    assert intakes_visible_to(user=user, with_companion=True).filter(pk=walk_in.pk).exists()
    assert intake_recordable_by(user=user, intake=walk_in)
    assert not intake_coordinated_by(user=user, intake=walk_in)
