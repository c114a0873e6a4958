"""The companion sees and corrects only the minimum necessary, and only while the assignment is open.

42 CFR Part 2's minimum necessary: a companion needs the person's first name, language, needs and
status, and what the placement needs. The full record (last name, date of birth, member id,
medical notes, emergency contact) is for coordinators and the logging officer's window. Once the
walk-in closes or the person is admitted, the assignment page says only that it ended, for
``ASSIGNMENT_ENDED_NOTICE``; then it is gone.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from intake.models import Intake
from referrals.models import LevelOfCare
from referrals.placement.services import placement_admission_confirm, placement_record
from volunteers.paging.selectors import ASSIGNMENT_ENDED_NOTICE
from volunteers.paging.services import walk_in_close

from ..conftest import client_for
from ..factories import FacilityFactory, IntakeFactory, OfferFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def assignment(department, officer, volunteer_user):
    person = PersonFactory(
        department=department,
        first_name="Marisol",
        last_name="Quennell-Abernathy",
        insurance="medicaid",
        insurance_member_id="MH-99887766",
        emergency_contact_name="Ottoline Brandywine",
    )
    intake = IntakeFactory(
        department=department,
        person=person,
        logged_by=officer,
        status=Intake.Status.COMPANION_ARRIVED,
        companion_needed_at=None,
        companion_language="es",
        needs="Would like to talk about housing",
        medical_concerns="Zanthoxylum allergy",
    )
    return OfferFactory(
        intake=intake, volunteer=volunteer_user.volunteer, status="accepted", responded_at=timezone.now()
    )


def test_the_companion_cannot_open_the_full_record(assignment, volunteer_user):
    client = client_for(volunteer_user)
    response = client.get(reverse("intake:edit", kwargs={"intake_id": assignment.intake_id}))
    assert response.status_code == 404


def test_the_assignment_offers_only_the_minimum_to_correct(assignment, volunteer_user):
    client = client_for(volunteer_user)
    page = client.get(reverse("volunteers:assignment", kwargs={"offer_id": assignment.pk})).text
    details_url = reverse("volunteers:assignment_details", kwargs={"offer_id": assignment.pk})
    assert details_url in page
    assert reverse("intake:edit", kwargs={"intake_id": assignment.intake_id}) not in page

    form = client.get(details_url).text
    assert 'name="first_name"' in form and 'name="needs"' in form and 'name="companion_language"' in form
    for hidden in ("Quennell-Abernathy", "MH-99887766", "Ottoline", "Zanthoxylum", "1990", "date_of_birth"):
        assert hidden not in form


def test_the_companion_corrects_the_first_name_language_and_needs(assignment, volunteer_user):
    client = client_for(volunteer_user)
    url = reverse("volunteers:assignment_details", kwargs={"offer_id": assignment.pk})
    response = client.post(
        url,
        {
            "first_name": "Mari",
            "companion_language": "pt",
            "needs": "Housing, and a ride",
            # Fields the companion may not change are ignored, not saved.
            "last_name": "Changed",
            "medical_concerns": "changed",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("volunteers:assignment", kwargs={"offer_id": assignment.pk})
    intake = Intake.objects.select_related("person").get(pk=assignment.intake_id)
    assert (intake.person.first_name, intake.companion_language, intake.needs) == (
        "Mari",
        "pt",
        "Housing, and a ride",
    )
    assert intake.person.last_name == "Quennell-Abernathy"
    assert intake.medical_concerns == "Zanthoxylum allergy"


def test_a_blank_first_name_is_refused_with_a_message(assignment, volunteer_user):
    client = client_for(volunteer_user)
    url = reverse("volunteers:assignment_details", kwargs={"offer_id": assignment.pk})
    response = client.post(url, {"first_name": "", "companion_language": "es", "needs": ""})
    assert response.status_code == 200
    assert "This field is required" in response.text
    assert Intake.objects.get(pk=assignment.intake_id).person.first_name == "Marisol"


def test_after_the_walk_in_closes_the_page_says_only_that_it_ended(assignment, volunteer_user, coordinator):
    client = client_for(volunteer_user)
    url = reverse("volunteers:assignment", kwargs={"offer_id": assignment.pk})
    walk_in_close(intake=assignment.intake, actor=coordinator, reason=Intake.CloseReason.DECLINED_TREATMENT)

    response = client.get(url)
    assert response.status_code == 200
    assert "This assignment has ended" in response.text
    assert "Marisol" not in response.text and "housing" not in response.text
    details = reverse("volunteers:assignment_details", kwargs={"offer_id": assignment.pk})
    assert client.get(details).status_code == 404

    with time_machine.travel(timezone.now() + ASSIGNMENT_ENDED_NOTICE + timedelta(minutes=1)):
        assert client_for(volunteer_user).get(url).status_code == 404


def test_the_ride_stays_open_until_the_admission_then_it_ended(assignment, volunteer_user, coordinator):
    client = client_for(volunteer_user)
    url = reverse("volunteers:assignment", kwargs={"offer_id": assignment.pk})
    facility = FacilityFactory()
    placement = placement_record(
        intake=assignment.intake, actor=coordinator, facility=facility, level_of_care=LevelOfCare.WM_37
    )
    placed_page = client.get(url)
    assert placed_page.status_code == 200 and "Marisol" in placed_page.text
    assert "The ride" in placed_page.text

    placement_admission_confirm(placement=placement, actor=coordinator)
    ended = client.get(url)
    assert ended.status_code == 200
    assert "This assignment has ended" in ended.text and "Marisol" not in ended.text
    transport = reverse("referrals:transport_update", kwargs={"intake_id": assignment.intake_id})
    assert client.get(transport).status_code == 404
