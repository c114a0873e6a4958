"""The "Companion" panel on the intake page, and the companion's own assignment page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from intake.models import Intake
from volunteers.models import Offer, Volunteer
from volunteers.paging.services import companion_mark_arrived, offer_accept, offer_decline, paging_advance

from ..conftest import client_for
from ..factories import IntakeFactory, OfferFactory, PersonFactory, VolunteerFactory, user_with_role
from .conftest import volunteer_on_call

pytestmark = pytest.mark.django_db

# 9:05 AM in Gloucester (America/New_York, standard time).
WALK_IN = datetime(2026, 3, 4, 14, 5, tzinfo=UTC)


def angel(department, first_name: str, **fields) -> Volunteer:
    volunteer = volunteer_on_call(department, **fields)
    volunteer.user.first_name, volunteer.user.last_name = first_name, "Angel"
    volunteer.user.save()
    return volunteer


@pytest.fixture
def walk_in(department, officer):
    person = PersonFactory(department=department, first_name="Wren", last_name="Zabriskie")
    return IntakeFactory(
        department=department,
        person=person,
        logged_by=officer,
        arrived_at=WALK_IN,
        companion_needed_at=WALK_IN,
    )


@pytest.fixture
def paging_under_way(department, walk_in):
    """Ada, Ben and Cy are paged at 9:05; Ben declines at 9:07 (Dee is paged in his place) and
    Ada accepts at 9:08, expected by 9:38. Eve is on call but was never paged."""
    department.expected_arrival_minutes = 30
    department.save()
    names = ["Ada", "Ben", "Cy", "Dee", "Eve"]
    volunteers = {name: angel(department, name, on_shift=False, call_any_time=True) for name in names}
    paging_advance(intake_id=walk_in.pk, now=WALK_IN)
    offers = {o.volunteer.user.first_name: o for o in Offer.objects.filter(intake=walk_in)}
    offer_decline(offer_id=offers["Ben"].pk, volunteer=volunteers["Ben"], now=WALK_IN + timedelta(minutes=2))
    offer_accept(offer_id=offers["Ada"].pk, volunteer=volunteers["Ada"], now=WALK_IN + timedelta(minutes=3))
    return volunteers


def panel(client, intake):
    return client.get(reverse("volunteers:paging_panel", kwargs={"intake_id": intake.pk}))


def rows(text: str) -> list[str]:
    """The panel's table rows as plain text, one per volunteer paged."""
    body = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in body.split("<tr>")[1:]]


def test_the_desk_sees_who_was_paged_when_who_declined_and_who_is_on_the_way(
    officer_client, walk_in, paging_under_way
):
    response = panel(officer_client, walk_in)

    assert response.status_code == 200
    assert rows(response.content.decode()) == [
        "Ada Angel 9:05 AM wave 1 Accepted 9:08 AM · expected by 9:38 AM",
        "Ben Angel 9:05 AM wave 1 Declined 9:07 AM",
        "Cy Angel 9:05 AM wave 1 Withdrawn 9:08 AM",
        "Dee Angel 9:07 AM wave 1 Withdrawn 9:08 AM",
    ]


def test_the_desk_sees_pages_still_waiting_for_an_answer(officer_client, department, walk_in):
    angel(department, "Ada", on_shift=False, call_any_time=True)
    paging_advance(intake_id=walk_in.pk, now=WALK_IN)

    assert rows(panel(officer_client, walk_in).content.decode()) == [
        "Ada Angel 9:05 AM wave 1 Waiting for an answer"
    ]


def test_the_panel_shows_when_the_companion_arrived(officer_client, walk_in, paging_under_way):
    ada = paging_under_way["Ada"]
    companion_mark_arrived(
        offer_id=Offer.objects.get(volunteer=ada).pk, volunteer=ada, now=WALK_IN + timedelta(minutes=31)
    )

    assert rows(panel(officer_client, walk_in).content.decode())[0] == (
        "Ada Angel 9:05 AM wave 1 Accepted 9:08 AM · arrived 9:36 AM"
    )


def test_the_desk_does_not_see_the_ranking_or_the_paging_controls(officer_client, department, walk_in):
    angel(department, "Ada", on_shift=False, call_any_time=True)

    text = panel(officer_client, walk_in).content.decode()

    assert "Paging volunteers now" in text
    for coordinator_only in ("Why these volunteers", "Page now", "Stop paging", "score", "Ada"):
        assert coordinator_only not in text


def test_a_coordinator_sees_why_these_volunteers_with_reasons_and_the_controls(
    coordinator_client, department, walk_in
):
    angel(
        department, "Ada", on_shift=False, call_any_time=True, lived_experience=True, home_town="Gloucester"
    )
    angel(department, "Ben", on_shift=False)

    text = panel(coordinator_client, walk_in).content.decode()

    assert "Why these volunteers" in text
    assert 'Ada Angel</strong> <span class="badge text-bg-secondary">score 5</span>' in text
    assert "speaks English; on call any time; lived experience of recovery; lives in Gloucester" in text
    assert 'Ben Angel</strong> <span class="badge text-bg-secondary">score 0</span>' in text
    assert "speaks English; off shift; 0 assignments in 30 days" in text
    assert text.count("Page now") == 2
    assert "Stop paging" in text
    assert text.index("Ada Angel") < text.index("Ben Angel")


def test_a_coordinator_sees_resume_once_paging_was_stopped(coordinator_client, walk_in):
    Intake.objects.filter(pk=walk_in.pk).update(companion_needed_at=None)

    text = panel(coordinator_client, walk_in).content.decode()

    assert "Paging is stopped" in text
    assert "Resume paging" in text
    assert "Stop paging" not in text


def test_once_a_companion_accepted_the_coordinator_has_nothing_left_to_page(
    coordinator_client, walk_in, paging_under_way
):
    text = panel(coordinator_client, walk_in).content.decode()

    assert "Accepted 9:08 AM" in text
    for control in ("Why these volunteers", "Page now", "Stop paging", "Resume paging"):
        assert control not in text


def test_paging_by_hand_pages_the_volunteer_and_says_so(
    coordinator_client, department, walk_in, sms_outbox, worker
):
    ben = angel(department, "Ben", on_shift=False)

    with worker():
        response = coordinator_client.post(
            reverse("volunteers:paging_page", kwargs={"intake_id": walk_in.pk}),
            {"volunteer": ben.pk},
            follow=True,
        )

    assert response.redirect_chain == [(reverse("intake:detail", kwargs={"intake_id": walk_in.pk}), 302)]
    assert "Ben Angel has been paged." in response.content.decode()
    offer = Offer.objects.get(intake=walk_in, volunteer=ben)
    assert offer.source == Offer.Source.COORDINATOR
    assert [sms.to for sms in sms_outbox] == [str(ben.phone)]
    assert "by hand" in panel(coordinator_client, walk_in).content.decode()


@pytest.mark.parametrize("volunteer_field", ["not-a-number", "999999", ""])
def test_paging_by_hand_someone_who_is_not_a_volunteer_here_says_so(
    coordinator_client, walk_in, volunteer_field
):
    response = coordinator_client.post(
        reverse("volunteers:paging_page", kwargs={"intake_id": walk_in.pk}),
        {"volunteer": volunteer_field},
        follow=True,
    )

    assert response.status_code == 200
    assert "Choose a volunteer of this department to page." in response.content.decode()
    assert not Offer.objects.filter(intake=walk_in).exists()


def test_paging_by_hand_a_volunteer_of_another_department_is_refused(
    coordinator_client, other_department, walk_in
):
    theirs = angel(other_department, "Zed", on_shift=False, call_any_time=True)

    response = coordinator_client.post(
        reverse("volunteers:paging_page", kwargs={"intake_id": walk_in.pk}),
        {"volunteer": theirs.pk},
        follow=True,
    )

    assert "Choose a volunteer of this department to page." in response.content.decode()
    assert not Offer.objects.filter(intake=walk_in).exists()


def test_paging_by_hand_someone_already_paged_explains_why_not(coordinator_client, department, walk_in):
    ada = angel(department, "Ada", on_shift=False, call_any_time=True)
    paging_advance(intake_id=walk_in.pk, now=WALK_IN)

    response = coordinator_client.post(
        reverse("volunteers:paging_page", kwargs={"intake_id": walk_in.pk}),
        {"volunteer": ada.pk},
        follow=True,
    )

    assert "cannot be paged for this walk-in" in response.content.decode()
    assert Offer.objects.filter(intake=walk_in, volunteer=ada).count() == 1


def test_stop_and_resume_from_the_panel(coordinator_client, department, walk_in):
    angel(department, "Ada", on_shift=False, call_any_time=True)
    paging_advance(intake_id=walk_in.pk, now=WALK_IN)

    stopped = coordinator_client.post(
        reverse("volunteers:paging_stop", kwargs={"intake_id": walk_in.pk}), follow=True
    )
    assert "Paging stopped; 1 open request withdrawn." in stopped.content.decode()
    walk_in.refresh_from_db()
    assert walk_in.companion_needed_at is None

    resumed = coordinator_client.post(
        reverse("volunteers:paging_resume", kwargs={"intake_id": walk_in.pk}), follow=True
    )
    assert "Paging resumed" in resumed.content.decode()
    walk_in.refresh_from_db()
    assert walk_in.companion_needed_at is not None


def test_a_desk_officer_cannot_page_by_hand_or_stop_paging(officer_client, department, walk_in):
    ben = angel(department, "Ben", on_shift=False)
    urls = {
        "volunteers:paging_page": {"volunteer": ben.pk},
        "volunteers:paging_stop": {},
        "volunteers:paging_resume": {},
    }

    for name, data in urls.items():
        assert officer_client.post(reverse(name, kwargs={"intake_id": walk_in.pk}), data).status_code == 403

    assert not Offer.objects.filter(intake=walk_in).exists()
    walk_in.refresh_from_db()
    assert walk_in.companion_needed_at == WALK_IN


def test_a_volunteer_cannot_see_the_panel(walk_in, paging_under_way):
    ada = client_for(paging_under_way["Ada"].user)

    assert panel(ada, walk_in).status_code == 404


def test_a_coordinator_of_another_department_cannot_see_the_panel(other_coordinator, walk_in):
    assert panel(client_for(other_coordinator), walk_in).status_code == 404


def _queries(client, intake) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = panel(client, intake)
    assert response.status_code == 200
    return len(captured)


def _page_many(department, intake, count: int) -> None:
    for n in range(count):
        volunteer = VolunteerFactory(call_any_time=True)
        volunteer.departments.add(department)
        status = [Offer.Status.PENDING, Offer.Status.DECLINED, Offer.Status.EXPIRED][n % 3]
        OfferFactory(
            intake=intake,
            volunteer=volunteer,
            status=status,
            responded_at=None if status == Offer.Status.PENDING else WALK_IN + timedelta(minutes=1),
        )


@pytest.mark.parametrize("client_name", ["officer_client", "coordinator_client"])
def test_the_panel_query_count_does_not_grow_with_the_volunteers_paged(
    request, department, officer, client_name
):
    client = request.getfixturevalue(client_name)
    few = IntakeFactory(department=department, logged_by=officer, arrived_at=WALK_IN)
    many = IntakeFactory(department=department, logged_by=officer, arrived_at=WALK_IN)
    for _ in range(12):  # candidates for the coordinator's ranking, beyond the ten shown
        volunteer_on_call(department, on_shift=False, call_any_time=True)
    _page_many(department, few, 3)
    _page_many(department, many, 30)

    assert _queries(client, few) == _queries(client, many)


# --- the assignment page --------------------------------------------------------------------------


@pytest.fixture
def assignment(department, officer):
    person = PersonFactory(
        department=department, first_name="Wren", last_name="Zabriskie", date_of_birth=date(1987, 11, 23)
    )
    intake = IntakeFactory(
        department=department,
        person=person,
        logged_by=officer,
        companion_language="es",
        needs="Quiet room; afraid of dogs",
        substances=["opioids", "benzodiazepines"],
        notes="Sister waiting in the lobby",
        medical_concerns="Asthma",
    )
    volunteer = volunteer_on_call(department, languages=["en", "es"])
    offer = OfferFactory(intake=intake, volunteer=volunteer)
    return offer_accept(offer_id=offer.pk, volunteer=volunteer)


def assignment_page(offer):
    return client_for(offer.volunteer.user).get(
        reverse("volunteers:assignment", kwargs={"offer_id": offer.pk})
    )


def test_the_assignment_shows_the_first_name_language_and_needs_only(assignment):
    response = assignment_page(assignment)

    assert response.status_code == 200
    text = response.content.decode()
    for needed in ("Wren", "Spanish", "Quiet room; afraid of dogs", "I've arrived"):
        assert needed in text
    for private in ("Zabriskie", "1987", "Nov", "pioid", "enzodiazepine", "Sister", "lobby", "Asthma"):
        assert private not in text


def test_an_unvetted_volunteer_cannot_open_their_assignment(assignment):
    Volunteer.objects.filter(pk=assignment.volunteer_id).update(training_completed_on=None)

    response = assignment_page(assignment)

    # Not the companion any more (``intake.selectors.companion_intake_ids``): the page is not theirs.
    assert response.status_code == 404
    assert "Wren" not in response.content.decode()


def test_a_deactivated_volunteer_cannot_open_their_assignment(assignment):
    Volunteer.objects.filter(pk=assignment.volunteer_id).update(is_active=False)

    assert assignment_page(assignment).status_code == 404


def test_another_volunteer_cannot_open_the_assignment(department, assignment):
    other = user_with_role(Role.VOLUNTEER, department, username="nosy")
    VolunteerFactory(user=other).departments.add(department)

    response = client_for(other).get(reverse("volunteers:assignment", kwargs={"offer_id": assignment.pk}))

    assert response.status_code == 404


def test_the_companion_marks_arrival_from_the_assignment_page(assignment):
    phone = client_for(assignment.volunteer.user)

    response = phone.post(
        reverse("volunteers:assignment_arrived", kwargs={"offer_id": assignment.pk}), follow=True
    )

    assert "The desk knows you are here." in response.content.decode()
    assert "You arrived at" in response.content.decode()
    assert Intake.objects.get(pk=assignment.intake_id).status == Intake.Status.COMPANION_ARRIVED
