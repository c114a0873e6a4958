"""Nobody left, nobody fits: the coordinators are paged at once, and every screen says it plainly.

Each stall is driven as it happens: the last volunteer declines from their link; a walk-in is
logged at the desk for whom nobody fits; offers run out unanswered. The coordinators' text is
handed to the SMS backend when the change that caused it commits (the on-commit send), under
the frozen clock: well within 10 seconds.
"""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from intake.models import Intake
from notifications.backends import InMemorySmsBackend
from notifications.models import Notification
from volunteers.models import OFFER_OPEN_FOR, Offer
from volunteers.paging.services import offer_decline, offers_expire, paging_advance
from volunteers.paging.tasks import sweep_paging
from volunteers.paging.tokens import offer_token

from ..conftest import client_for
from ..intake.helpers import walk_in_data
from .conftest import minutes, volunteer_on_call, waiting

pytestmark = pytest.mark.django_db

NOBODY_LEFT = (
    "Harbor: nobody can be paged at Gloucester Police Department: every volunteer asked has "
    "declined or not answered (waiting {} min). Please find a companion now."
)
NOBODY_FITS = (
    "Harbor: nobody can be paged at Gloucester Police Department: no on-call volunteer fits what "
    "the person asked for (waiting {} min). Please find a companion now."
)


@pytest.fixture
def handed_over(monkeypatch) -> list:
    """When (by the clock) each text was handed to the SMS backend."""
    at: list = []
    original = InMemorySmsBackend.send

    def send(self, **kwargs):
        at.append(timezone.now())
        return original(self, **kwargs)

    monkeypatch.setattr(InMemorySmsBackend, "send", send)
    return at


def texts_to(sms_outbox, someone) -> list[str]:
    return [sms.body for sms in sms_outbox if sms.to == str(someone.phone)]


def decline_from_link(offer: Offer):
    return client_for(offer.volunteer.user).post(
        reverse("volunteers:offer", kwargs={"token": offer_token(offer)}), {"answer": "decline"}
    )


# --- nobody left --------------------------------------------------------------------------------


def test_the_last_volunteer_declining_pages_the_coordinators_in_the_same_transaction(
    department, officer, coordinator_on_call, sms_outbox, mailoutbox, worker, handed_over
):
    walk_in = waiting(department, officer)
    ada = volunteer_on_call(department)
    with worker():
        (offer,) = paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 0))
    sms_outbox.clear()
    handed_over.clear()
    stall_at = minutes(walk_in, 7)

    with time_machine.travel(stall_at, tick=False), worker():
        response = decline_from_link(offer)

    assert response.status_code == 200
    assert texts_to(sms_outbox, coordinator_on_call) == [NOBODY_LEFT.format(7)]
    assert [m.subject for m in mailoutbox] == ["Nobody left to page at Gloucester Police Department"]
    # Written with the decline (the same clock reading, the same commit), handed over at once.
    notes = Notification.objects.filter(intake=walk_in, kind=Notification.Kind.NOBODY_LEFT)
    assert {n.created_at for n in notes} == {Offer.objects.get(pk=offer.pk).responded_at} == {stall_at}
    assert [(t - stall_at).total_seconds() for t in handed_over] == [0.0]
    assert ada.pk == offer.volunteer_id


def test_the_decline_and_the_coordinators_page_commit_or_roll_back_together(
    department, officer, coordinator_on_call, sms_outbox, worker, django_capture_on_commit_callbacks
):
    from django.db import transaction

    walk_in = waiting(department, officer)
    volunteer_on_call(department)
    (offer,) = paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 0))

    with pytest.raises(RuntimeError), transaction.atomic():
        offer_decline(offer_id=offer.pk, volunteer=offer.volunteer, now=minutes(walk_in, 2))
        assert Notification.objects.filter(kind=Notification.Kind.NOBODY_LEFT).exists()
        raise RuntimeError("the decline fails to commit")

    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.PENDING
    assert not Notification.objects.filter(kind=Notification.Kind.NOBODY_LEFT).exists()


def test_the_same_stall_pages_the_coordinators_once_and_a_new_stall_again(
    department, officer, coordinator_on_call, sms_outbox, worker
):
    walk_in = waiting(department, officer)
    volunteer_on_call(department)
    with worker():
        (first,) = paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 0))
        offer_decline(offer_id=first.pk, volunteer=first.volunteer, now=minutes(walk_in, 1))
        # The next wave timers find nobody new: the same stall, no second page.
        paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 5))
        offers_expire(now=minutes(walk_in, 6))
    assert texts_to(sms_outbox, coordinator_on_call) == [NOBODY_LEFT.format(1)]

    # A volunteer comes on shift, is paged by the next wave, and declines too: a new stall.
    volunteer_on_call(department, now=minutes(walk_in, 9))
    with worker():
        (second,) = paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 10))
        offer_decline(offer_id=second.pk, volunteer=second.volunteer, now=minutes(walk_in, 11))

    assert texts_to(sms_outbox, coordinator_on_call) == [NOBODY_LEFT.format(1), NOBODY_LEFT.format(11)]


def test_offers_running_out_unanswered_page_the_coordinators_at_once(
    department, officer, coordinator_on_call, sms_outbox, worker, handed_over
):
    walk_in = waiting(department, officer)
    volunteer_on_call(department)
    with worker():
        (offer,) = paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 0))
    sms_outbox.clear()
    handed_over.clear()
    expired_at = offer.expires_at

    with time_machine.travel(expired_at, tick=False), worker():
        sweep_paging()

    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.EXPIRED
    minutes_waited = int(OFFER_OPEN_FOR.total_seconds() // 60)
    # (After an hour the "nobody has accepted yet" escalation is due as well.)
    assert NOBODY_LEFT.format(minutes_waited) in texts_to(sms_outbox, coordinator_on_call)
    assert {(t - expired_at).total_seconds() for t in handed_over} == {0.0}


def test_a_decline_with_others_still_asked_does_not_page_the_coordinators(
    department, officer, coordinator_on_call, sms_outbox, worker
):
    walk_in = waiting(department, officer)
    volunteer_on_call(department), volunteer_on_call(department)
    with worker():
        first, _ = paging_advance(intake_id=walk_in.pk, now=minutes(walk_in, 0))
        offer_decline(offer_id=first.pk, volunteer=first.volunteer, now=minutes(walk_in, 1))

    assert texts_to(sms_outbox, coordinator_on_call) == []


# --- nobody fits --------------------------------------------------------------------------------


@pytest.fixture
def nobody_fits(
    department, officer_client, coordinator_on_call, sms_outbox, worker, handed_over, monkeypatch
):
    """Tom speaks Vietnamese but is a man; Ann is a woman who speaks only English; Cy is off call.
    A walk-in is logged at the desk asking for a Vietnamese-speaking woman."""
    tom = volunteer_on_call(department, name="tom", languages=["en", "vi"], gender="man")
    tom.user.first_name = "Tom"
    tom.user.save()
    ann = volunteer_on_call(department, name="ann", languages=["en"], gender="woman")
    ann.user.first_name = "Ann"
    ann.user.save()
    volunteer_on_call(department, name="cy", languages=["vi"], gender="woman", on_shift=False)
    monkeypatch.setattr(
        "volunteers.paging.tasks.page_intake.delay",
        lambda intake_id: paging_advance(intake_id=intake_id),
    )
    data = walk_in_data(first_name="Wren")
    data.update({"preferred_language": "vi", "companion_gender": "woman"})
    logged_at = timezone.now()
    with worker():
        response = officer_client.post(reverse("intake:create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return {"intake": Intake.objects.get(), "tom": tom, "ann": ann, "logged_at": logged_at}


def test_a_walk_in_nobody_fits_pages_the_coordinators_at_once_saying_so(
    nobody_fits, coordinator_on_call, sms_outbox, handed_over
):
    assert Offer.objects.count() == 0
    assert texts_to(sms_outbox, coordinator_on_call) == [NOBODY_FITS.format(0)]
    assert all((t - nobody_fits["logged_at"]).total_seconds() < 10 for t in handed_over)


def test_the_desk_says_nobody_can_be_paged_without_naming_volunteers(nobody_fits, officer_client):
    desk = officer_client.get(reverse("intake:desk")).content.decode()
    assert "Nobody can be paged — coordinators have been called" in desk

    detail = officer_client.get(reverse("intake:detail", kwargs={"intake_id": nobody_fits["intake"].pk}))
    assert "Nobody can be paged" in detail.content.decode()
    panel = officer_client.get(
        reverse("volunteers:paging_panel", kwargs={"intake_id": nobody_fits["intake"].pk})
    ).content.decode()
    assert "Nobody can be paged" in panel
    assert "Paging volunteers now" not in panel
    assert "Tom" not in panel and "Page Tom anyway" not in panel


def test_the_coordinator_sees_why_and_pages_the_near_fit_in_one_press(
    nobody_fits, coordinator, coordinator_client, sms_outbox, worker
):
    intake, tom = nobody_fits["intake"], nobody_fits["tom"]
    panel_url = reverse("volunteers:paging_panel", kwargs={"intake_id": intake.pk})
    panel = coordinator_client.get(panel_url).content.decode()

    assert "Nobody can be paged: 0 of 2 on-call volunteers fit" in panel
    assert "1 not on call now" in panel
    assert "1 do not speak Vietnamese" in panel
    assert "1 not a woman, as the person asked" in panel
    assert "1 (Tom) speaks Vietnamese but the person asked for a woman" in panel
    assert "Page Tom anyway" in panel
    assert "Paging volunteers now" not in panel

    with worker():
        response = coordinator_client.post(
            reverse("volunteers:paging_page_near_fit", kwargs={"intake_id": intake.pk}),
            {"volunteer": tom.pk, "rule": "gender"},
        )

    assert response.status_code == 302
    (offer,) = Offer.objects.filter(intake=intake)
    assert (offer.volunteer, offer.relaxed_rule, offer.paged_by, offer.source) == (
        tom,
        "gender",
        coordinator,
        Offer.Source.COORDINATOR,
    )
    (page,) = texts_to(sms_outbox, tom)
    assert "someone needs a companion at Gloucester Police Department" in page
    panel = coordinator_client.get(panel_url).content.decode()
    assert f"Paged anyway by {coordinator}, relaxing the gender rule" in panel
    assert "Nobody can be paged" not in panel
    assert "Nobody else can be paged" in panel


def test_a_rule_that_may_not_be_relaxed_or_did_not_exclude_them_is_refused(
    nobody_fits, coordinator_client, department
):
    intake, tom, ann = nobody_fits["intake"], nobody_fits["tom"], nobody_fits["ann"]
    url = reverse("volunteers:paging_page_near_fit", kwargs={"intake_id": intake.pk})

    for data in (
        {"volunteer": tom.pk, "rule": "language"},  # Tom speaks it: gender is what left him out
        {"volunteer": tom.pk, "rule": "vetted"},  # never relaxed
        {"volunteer": ann.pk, "rule": "on_call"},
        {"volunteer": "tom", "rule": "gender"},
    ):
        response = coordinator_client.post(url, data, follow=True)
        assert response.status_code == 200
        assert "anyway" in response.content.decode() or "Choose a near fit" in response.content.decode()
    assert not Offer.objects.filter(intake=intake).exists()


def test_the_board_shows_the_walk_in_nobody_can_be_paged_for(nobody_fits, coordinator_client):
    board = coordinator_client.get(reverse("dashboard:board")).content.decode()
    assert "Nobody can be paged" in board
    assert "coordinators called" in board


def test_the_walk_in_page_says_paging_now_only_before_the_first_wave(
    department, officer, officer_client, coordinator_on_call, worker
):
    walk_in = waiting(department, officer)
    panel_url = reverse("volunteers:paging_panel", kwargs={"intake_id": walk_in.pk})
    assert "Paging volunteers now" in officer_client.get(panel_url).content.decode()

    with worker():
        paging_advance(intake_id=walk_in.pk)

    panel = officer_client.get(panel_url).content.decode()
    assert "Paging volunteers now" not in panel
    assert "Nobody can be paged" in panel
