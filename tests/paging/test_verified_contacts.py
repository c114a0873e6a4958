"""Pages go only to verified contacts; a texted answer counts only from the volunteer's own
verified number; coordinators see on-call volunteers' verified numbers on the paging panel."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from accounts.models import Role, User
from intake.models import Intake
from volunteers.models import Offer, Volunteer
from volunteers.paging.services import paging_advance

from ..conftest import client_for
from ..factories import user_with_role
from .conftest import volunteer_on_call, waiting

TOKEN = "test-twilio-auth-token"
SITE = "https://harbor.example.org"
SMS_URL = "/volunteers/twilio/sms/"
NEUTRAL = "<Message>Harbor: we couldn't find an open request for you.</Message>"


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.HARBOR_SITE_URL = SITE


def unverified(volunteer: Volunteer, *, phone: bool = True, email: bool = True) -> Volunteer:
    if phone:
        Volunteer.objects.filter(pk=volunteer.pk).update(phone_verified_at=None)
    if email:
        User.objects.filter(pk=volunteer.user_id).update(email_verified_at=None)
    volunteer.refresh_from_db()
    volunteer.user.refresh_from_db()
    return volunteer


def text(body: str, from_: str):
    """A text message as Twilio posts it, signed with the account's token."""
    params = {
        "MessageSid": "SM0123456789abcdef0123456789abcdef",
        "AccountSid": "AC0123456789abcdef0123456789abcdef",
        "From": from_,
        "To": "+19785550000",
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(TOKEN).compute_signature(SITE + SMS_URL, params)
    response = client_for(None).post(SMS_URL, params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 200
    return response.content.decode()


# --- who is paged, and where ------------------------------------------------------------------


def test_a_volunteer_with_no_verified_contact_is_not_paged(
    department, officer, sms_outbox, mailoutbox, worker
):
    stranger_risk = unverified(volunteer_on_call(department))
    proved = volunteer_on_call(department)
    walk_in = waiting(department, officer)

    with worker():
        paging_advance(intake_id=walk_in.pk)

    assert list(Offer.objects.filter(intake=walk_in).values_list("volunteer", flat=True)) == [proved.pk]
    assert str(stranger_risk.phone) not in {sms.to for sms in sms_outbox}
    assert stranger_risk.user.email not in {to for message in mailoutbox for to in message.to}


def test_an_unverified_number_gets_no_text_but_a_verified_address_gets_the_page(
    department, officer, sms_outbox, mailoutbox, worker
):
    volunteer = unverified(volunteer_on_call(department), email=False)  # chose texts; phone unproved
    walk_in = waiting(department, officer)

    with worker():
        paging_advance(intake_id=walk_in.pk)

    assert Offer.objects.filter(intake=walk_in, volunteer=volunteer).exists()
    assert sms_outbox == []
    assert [message.to for message in mailoutbox] == [[volunteer.user.email]]


def test_an_unverified_address_gets_no_email(department, officer, sms_outbox, mailoutbox, worker):
    volunteer = unverified(volunteer_on_call(department, channels=Volunteer.Channels.BOTH), phone=False)
    walk_in = waiting(department, officer)

    with worker():
        paging_advance(intake_id=walk_in.pk)

    assert [sms.to for sms in sms_outbox] == [str(volunteer.phone)]
    assert mailoutbox == []


def test_coordinators_are_texted_and_emailed_only_where_verified(
    department, officer, coordinator, sms_outbox, mailoutbox, worker
):
    coordinator.phone, coordinator.phone_verified_at = "+19785559000", timezone.now()
    coordinator.save()
    unproved = user_with_role(Role.COORDINATOR, department, username="unproved", phone="+19785559001")
    User.objects.filter(pk=unproved.pk).update(phone_verified_at=None, email_verified_at=None)
    walk_in = waiting(department, officer)  # nobody on call: the coordinators are paged at once

    with worker():
        paging_advance(intake_id=walk_in.pk)

    assert [sms.to for sms in sms_outbox] == ["+19785559000"]
    assert [message.to for message in mailoutbox] == [[coordinator.email]]


# --- texted answers ---------------------------------------------------------------------------


@pytest.fixture
def paged(department, officer, worker):
    """Ada has been paged for a walk-in (her number verified)."""
    ada = volunteer_on_call(department, name="ada")
    walk_in = waiting(department, officer)
    with worker():
        paging_advance(intake_id=walk_in.pk)
    return walk_in, Offer.objects.get(intake=walk_in, volunteer=ada)


def test_yes_from_the_volunteers_verified_number_accepts(paged):
    _walk_in, offer = paged

    reply = text("YES", str(offer.volunteer.phone))

    assert "on your way" in reply
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.ACCEPTED


def test_the_stranger_behind_a_mistyped_number_cannot_accept(paged):
    """Ada corrects her number to one she mistyped; its owner, a stranger, answers YES."""
    walk_in, offer = paged
    Volunteer.objects.filter(pk=offer.volunteer_id).update(phone="+19785550999", phone_verified_at=None)

    reply = text("YES", "+19785550999")

    assert NEUTRAL in reply
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.PENDING
    walk_in.refresh_from_db()
    assert walk_in.status == Intake.Status.WAITING_FOR_COMPANION


def test_no_from_an_unverified_number_changes_nothing(paged):
    _walk_in, offer = paged
    Volunteer.objects.filter(pk=offer.volunteer_id).update(phone_verified_at=None)

    reply = text("NO", str(offer.volunteer.phone))

    assert NEUTRAL in reply
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.PENDING


def test_a_number_another_volunteer_also_claims_answers_nothing(department, paged):
    """Two volunteers with the same verified number (a shared phone): whose answer it is cannot
    be told, so it counts for neither."""
    _walk_in, offer = paged
    ben = volunteer_on_call(department, name="ben")
    Volunteer.objects.filter(pk=ben.pk).update(phone=offer.volunteer.phone)  # and verified

    reply = text("YES", str(offer.volunteer.phone))

    assert NEUTRAL in reply
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.PENDING


def test_a_verified_volunteer_cannot_answer_someone_elses_offer(department, paged):
    _walk_in, offer = paged
    ben = volunteer_on_call(department, name="ben")  # verified, on call, but not paged

    reply = text("YES", str(ben.phone))

    assert NEUTRAL in reply
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.PENDING
    assert not Offer.objects.filter(volunteer=ben).exists()


# --- the coordinator's numbers to call --------------------------------------------------------


def panel(user, intake) -> str:
    response = client_for(user).get(reverse("volunteers:paging_panel", kwargs={"intake_id": intake.pk}))
    assert response.status_code == 200
    return response.content.decode()


def test_coordinators_see_verified_numbers_with_a_tap_to_call_link(department, officer, coordinator, paged):
    walk_in, offer = paged
    cy = unverified(volunteer_on_call(department, name="cy"), email=False)

    page = panel(coordinator, walk_in)

    assert f'href="tel:{offer.volunteer.phone}"' in page
    assert "(978) 555-" in page
    assert f'href="tel:{cy.phone}"' not in page
    assert "phone not verified" in page
    assert 'id="on-call-phones"' in page


def test_desk_officers_see_no_volunteer_numbers(officer, paged):
    walk_in, offer = paged

    page = panel(officer, walk_in)

    assert offer.volunteer.user.get_full_name() in page or str(offer.volunteer) in page
    assert "tel:" not in page
    assert str(offer.volunteer.phone) not in page
    assert "(978) 555-" not in page


def test_a_coordinator_of_another_department_cannot_open_the_panel(other_coordinator, paged):
    walk_in, _offer = paged

    response = client_for(other_coordinator).get(
        reverse("volunteers:paging_panel", kwargs={"intake_id": walk_in.pk})
    )

    assert response.status_code == 404


# --- the roster says who is unverified ----------------------------------------------------------


def named(volunteer: Volunteer, name: str) -> Volunteer:
    User.objects.filter(pk=volunteer.user_id).update(display_name=name)
    return volunteer


def test_the_roster_says_whose_contacts_are_not_verified(department, coordinator):
    named(volunteer_on_call(department), "Proved Angel")
    unverified(named(volunteer_on_call(department), "Newbie Angel"))

    page = client_for(coordinator).get(reverse("volunteers:roster")).content.decode()

    rows = page.split("<tr>")
    newbie = next(row for row in rows if "Newbie Angel" in row)
    proved = next(row for row in rows if "Proved Angel" in row)
    assert "phone not verified" in newbie
    assert "e-mail not verified" in newbie
    assert "not paged: no verified phone or e-mail" in newbie
    assert "not verified" not in proved


def test_the_volunteers_page_says_whose_contacts_are_not_verified(department, coordinator):
    newbie = unverified(volunteer_on_call(department, name="newbie"), email=False)

    page = (
        client_for(coordinator)
        .get(reverse("volunteers:roster_volunteer", kwargs={"volunteer_id": newbie.pk}))
        .content.decode()
    )

    assert "phone not verified" in page
    assert "e-mail not verified" not in page
    assert "not paged" not in page  # the e-mail is verified: pages go there
