"""The page reaches a volunteer, who accepts from their phone and arrives."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from intake.models import Intake
from notifications.services import notification_send
from volunteers.models import Offer

from ..conftest import client_for
from ..factories import ShiftFactory, VolunteerFactory, user_with_role
from ..intake.helpers import walk_in_data


@pytest.fixture
def on_call_volunteers(department):
    volunteers = []
    for name in ("ada", "ben", "cy", "dee"):
        user = user_with_role("volunteer", department, username=name)
        volunteer = VolunteerFactory(user=user, phone=f"+1978555{len(volunteers):04d}")
        volunteer.departments.add(department)
        ShiftFactory(volunteer=volunteer, department=department)
        volunteers.append(volunteer)
    return volunteers


def _log_walk_in(client, django_capture_on_commit_callbacks, monkeypatch):
    """Post the quick form; run what is queued on commit as the worker would, synchronously."""
    monkeypatch.setattr("volunteers.paging.tasks.page_intake.delay", lambda intake_id: _page(intake_id))
    monkeypatch.setattr(
        "notifications.tasks.send_notification.delay", lambda pk: notification_send(notification_id=pk)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("intake:create"), walk_in_data(first_name="Wren"))
    assert response.status_code == 302
    return Intake.objects.get()


def _page(intake_id):
    from volunteers.paging.services import paging_advance

    paging_advance(intake_id=intake_id)


def test_first_wave_texts_three_volunteers_with_no_personal_details(
    officer_client, on_call_volunteers, sms_outbox, django_capture_on_commit_callbacks, monkeypatch
):
    intake = _log_walk_in(officer_client, django_capture_on_commit_callbacks, monkeypatch)

    assert Offer.objects.filter(intake=intake, wave=1).count() == 3
    assert len(sms_outbox) == 3
    for sms in sms_outbox:
        assert "Gloucester Police Department" in sms.body
        assert "Wren" not in sms.body
        assert "/volunteers/offers/" in sms.body


def test_volunteer_accepts_from_the_link_and_marks_arrival(
    officer_client, on_call_volunteers, sms_outbox, django_capture_on_commit_callbacks, monkeypatch
):
    intake = _log_walk_in(officer_client, django_capture_on_commit_callbacks, monkeypatch)
    first_sms = sms_outbox[0]
    link = re.search(r"https?://\S+/volunteers/offers/\S+/", first_sms.body).group(0)
    path = link.split("//", 1)[1].split("/", 1)[1]
    offer = Offer.objects.get(volunteer__phone=first_sms.to)

    anonymous = client_for(None)
    page = anonymous.get("/" + path)
    assert page.status_code == 200
    assert "Someone needs a companion" in page.content.decode()
    assert "Wren" not in page.content.decode()

    phone = client_for(offer.volunteer.user)
    with django_capture_on_commit_callbacks(execute=True):
        accepted = phone.post("/" + path, {"answer": "accept"})
    assert accepted.status_code == 302
    assignment = phone.get(accepted["Location"])
    assert "Wren" in assignment.content.decode()
    intake.refresh_from_db()
    assert intake.status == Intake.Status.COMPANION_ASSIGNED
    assert Offer.objects.filter(intake=intake, status=Offer.Status.WITHDRAWN).count() == 2
    assert sum("has been filled" in sms.body for sms in sms_outbox) == 2

    phone.post(reverse("volunteers:assignment_arrived", kwargs={"offer_id": offer.pk}))
    intake.refresh_from_db()
    assert intake.status == Intake.Status.COMPANION_ARRIVED


def _accepted_walk_in(client, volunteers, django_capture_on_commit_callbacks, monkeypatch):
    intake = _log_walk_in(client, django_capture_on_commit_callbacks, monkeypatch)
    first = Offer.objects.filter(intake=intake).order_by("pk").first()
    from volunteers.paging.services import offer_accept

    with django_capture_on_commit_callbacks(execute=True):
        offer_accept(offer_id=first.pk, volunteer=first.volunteer)
    return intake, first


def test_companion_who_cannot_come_is_released_and_someone_else_can_accept(
    officer_client, on_call_volunteers, sms_outbox, django_capture_on_commit_callbacks, monkeypatch
):
    intake, first = _accepted_walk_in(
        officer_client, on_call_volunteers, django_capture_on_commit_callbacks, monkeypatch
    )
    phone = client_for(first.volunteer.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = phone.post(
            reverse("volunteers:assignment_release", kwargs={"offer_id": first.pk}), follow=True
        )

    assert "asking someone else" in response.content.decode()
    intake.refresh_from_db()
    assert intake.status == Intake.Status.WAITING_FOR_COMPANION
    first.refresh_from_db()
    assert first.status == Offer.Status.WITHDRAWN
    # Paging resumed at once with the volunteer not yet asked, who can now accept.
    fourth = Offer.objects.get(intake=intake, status=Offer.Status.PENDING)
    from volunteers.paging.services import offer_accept

    offer_accept(offer_id=fourth.pk, volunteer=fourth.volunteer)
    intake.refresh_from_db()
    assert intake.status == Intake.Status.COMPANION_ASSIGNED


def test_closing_the_walk_in_tells_the_companion_on_the_way(
    officer_client,
    coordinator,
    on_call_volunteers,
    sms_outbox,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    intake, first = _accepted_walk_in(
        officer_client, on_call_volunteers, django_capture_on_commit_callbacks, monkeypatch
    )
    sms_outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        client_for(coordinator).post(
            reverse("intake:close", kwargs={"intake_id": intake.pk}), {"reason": "left_before_placement"}
        )

    assert [sms.to for sms in sms_outbox] == [str(first.volunteer.phone)]
    assert "no longer needed" in sms_outbox[0].body
    first.refresh_from_db()
    assert first.status == Offer.Status.ACCEPTED, "the accepted offer remains the record of who came"
    assert first.arrival_check_at is None


def test_accepting_an_expired_offer_says_it_expired(
    officer_client, on_call_volunteers, django_capture_on_commit_callbacks, monkeypatch
):
    from datetime import timedelta

    from volunteers.models import OFFER_OPEN_FOR
    from volunteers.paging.services import OfferUnavailable, offer_accept

    intake = _log_walk_in(officer_client, django_capture_on_commit_callbacks, monkeypatch)
    offer = Offer.objects.filter(intake=intake).first()

    with pytest.raises(OfferUnavailable, match="expired"):
        offer_accept(
            offer_id=offer.pk,
            volunteer=offer.volunteer,
            now=offer.created_at + OFFER_OPEN_FOR + timedelta(seconds=1),
        )


def test_a_volunteer_paused_after_the_page_cannot_accept(
    officer_client, on_call_volunteers, django_capture_on_commit_callbacks, monkeypatch
):
    from volunteers.paging.services import OfferUnavailable, offer_accept

    intake = _log_walk_in(officer_client, django_capture_on_commit_callbacks, monkeypatch)
    offer = Offer.objects.filter(intake=intake).first()
    offer.volunteer.is_active = False
    offer.volunteer.save()

    with pytest.raises(OfferUnavailable, match="needs attention"):
        offer_accept(offer_id=offer.pk, volunteer=offer.volunteer)
    intake.refresh_from_db()
    assert intake.status == Intake.Status.WAITING_FOR_COMPANION


def test_coordinator_finds_the_delivery_log_from_the_intake_page(
    coordinator_client, officer_client, officer, department
):
    from ..factories import IntakeFactory

    walk_in = IntakeFactory(department=department, logged_by=officer)
    log_url = reverse("notifications:intake_log", kwargs={"intake_id": walk_in.pk})
    detail_url = reverse("intake:detail", kwargs={"intake_id": walk_in.pk})

    assert log_url in coordinator_client.get(detail_url).content.decode()
    assert log_url not in officer_client.get(detail_url).content.decode()
