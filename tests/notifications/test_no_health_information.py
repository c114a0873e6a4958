"""No message, log line or task argument says who the person is or why they came.

Every kind of message is produced through the real services, from a walk-in whose record is full
of personal health information, and every text, email and log line is searched for it.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from uuid import UUID

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from accounts.models import Role
from intake.models import Intake
from notifications.models import Notification
from notifications.services import notification_send
from referrals.placement.services import follow_up_reminders, placement_admission_confirm, placement_record
from volunteers.models import Offer, Volunteer
from volunteers.paging.services import (
    ARRIVAL_GRACE,
    arrival_checks,
    offer_accept,
    offer_decline,
    paging_advance,
    paging_stop,
    walk_in_close,
    walk_in_log,
)
from volunteers.roster.services import volunteer_contact_code_send, volunteer_test_page_send

from ..factories import FacilityFactory, user_with_role

FORBIDDEN = ["Zebulon", "Quarrington", "opioid", "methadone", "fentanyl", "overdose", "detox"]


def _walk_in(department, officer, django_capture_on_commit_callbacks, **asked_for) -> Intake:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        return walk_in_log(
            department=department,
            officer=officer,
            person_data={"first_name": "Zebulon", "last_name": "Quarrington", "approximate_age": 41},
            intake_data={
                "substances": ["opioids"],
                "needs": "methadone clinic",
                "notes": "fentanyl overdose last week",
                "warrant_check": "none",
                **asked_for,
            },
        )


@pytest.fixture
def coordinator_with_phone(department):
    user = user_with_role(Role.COORDINATOR, department, username="coord", phone="+19785550190")
    assert user.email
    return user


def _in_flight(django_capture_on_commit_callbacks, service, **kwargs):
    """Call a service as a view or the sweep would, and run what it queues on commit."""
    with django_capture_on_commit_callbacks(execute=True):
        return service(**kwargs)


def test_no_message_of_any_kind_carries_personal_health_information(
    department,
    officer,
    coordinator_with_phone,
    on_call_volunteers,
    task_calls,
    sms_outbox,
    voice_outbox,
    django_capture_on_commit_callbacks,
    caplog,
):
    caplog.set_level(logging.DEBUG)
    Volunteer.objects.filter(pk__in=[v.pk for v in on_call_volunteers[:2]]).update(
        channels=Volunteer.Channels.BOTH
    )
    run = django_capture_on_commit_callbacks

    # A walk-in: the first wave goes out on commit (offer).
    first = _walk_in(department, officer, run)
    wave = list(Offer.objects.filter(intake=first).select_related("volunteer"))
    assert len(wave) == 3

    # One declines (the next volunteer is paged), one accepts (the others: filled).
    _in_flight(run, offer_decline, offer_id=wave[0].pk, volunteer=wave[0].volunteer)
    accepted = _in_flight(run, offer_accept, offer_id=wave[1].pk, volunteer=wave[1].volunteer)

    # The companion is late: a reminder, then the coordinators are alerted.
    due = accepted.arrival_check_at + timedelta(seconds=1)
    _in_flight(run, arrival_checks, now=due)
    _in_flight(run, arrival_checks, now=due + ARRIVAL_GRACE + timedelta(seconds=1))

    # A second walk-in: nobody accepts in time, so the coordinators are paged; then the person
    # leaves, and those still paged are told it is no longer needed.
    second = _walk_in(department, officer, run)
    escalation = second.arrived_at + timedelta(minutes=department.escalate_after_minutes, seconds=1)
    _in_flight(run, paging_advance, intake_id=second.pk, now=escalation)
    _in_flight(
        run, walk_in_close, intake=second, actor=officer, reason=Intake.CloseReason.LEFT_BEFORE_PLACEMENT
    )

    # A third: a coordinator stops paging (cancelled again, by the other path).
    third = _walk_in(department, officer, run)
    _in_flight(run, paging_stop, intake=third, actor=coordinator_with_phone)

    # The first is placed and admitted; the day after, its coordinator is reminded of the
    # follow-up (the facility's name says what kind of place it is: it must not appear either).
    placement = placement_record(
        intake=first,
        actor=coordinator_with_phone,
        facility=FacilityFactory(name="Quarrington Detox Center"),
        level_of_care="3.7-WM",
    )
    placement_admission_confirm(placement=placement, actor=coordinator_with_phone)
    _in_flight(run, follow_up_reminders, now=timezone.now() + timedelta(days=1, hours=1))

    # A fourth asks for a language no volunteer speaks: nobody fits, the coordinators are paged.
    _walk_in(department, officer, run, companion_language="ar")
    # A fifth: every volunteer asked declines, one after the other: nobody left.
    fifth = _walk_in(department, officer, run)
    while pending := list(Offer.objects.filter(intake=fifth, status=Offer.Status.PENDING)):
        for offer in pending:
            _in_flight(run, offer_decline, offer_id=offer.pk, volunteer=offer.volunteer)
    assert Notification.objects.filter(intake=fifth, kind=Notification.Kind.NOBODY_LEFT).exists()

    # A volunteer verifies their phone with a code, and sends themselves a test page.
    _in_flight(run, volunteer_contact_code_send, volunteer=on_call_volunteers[0], channel="sms")
    _in_flight(run, volunteer_test_page_send, volunteer=on_call_volunteers[0])

    # A fourth walk-in, with every volunteer paged by phone call: the calls say the station only.
    Volunteer.objects.filter(pk__in=[v.pk for v in on_call_volunteers]).update(
        channels=Volunteer.Channels.VOICE
    )
    _walk_in(department, officer, run)
    assert voice_outbox

    # Anything the on-commit task did not send yet (nothing should be left).
    for pk in Notification.objects.filter(status=Notification.Status.PENDING).values_list("pk", flat=True):
        notification_send(notification_id=pk)

    produced = set(Notification.objects.values_list("kind", flat=True))
    assert produced == set(Notification.Kind.values), "add a step that produces the missing kind"
    assert set(Notification.objects.values_list("channel", flat=True)) == set(Notification.Channel.values)
    assert set(Notification.objects.values_list("status", flat=True)) == {Notification.Status.SENT}

    texts = [n.subject for n in Notification.objects.all()] + [n.body for n in Notification.objects.all()]
    texts += [sms.body for sms in sms_outbox]
    texts += [f"{call.body} {call.call_url}" for call in voice_outbox]
    texts += [m.subject for m in mail.outbox] + [m.body for m in mail.outbox]
    texts += [record.getMessage() for record in caplog.records]
    texts += [str(argument) for _, argument in task_calls]
    assert len(sms_outbox) >= 10
    assert mail.outbox
    for text in texts:
        for word in FORBIDDEN:
            assert word.lower() not in text.lower(), f"{word!r} leaked into {text!r}"

    # Tasks carry primary keys only.
    for task, argument in task_calls:
        if task == "page_intake":
            UUID(str(argument))
        else:
            assert isinstance(argument, int)


def test_a_text_message_says_where_and_links_opaquely(
    department, officer, on_call_volunteers, task_calls, sms_outbox, django_capture_on_commit_callbacks
):
    intake = _walk_in(department, officer, django_capture_on_commit_callbacks)

    sms = sms_outbox[0]
    assert department.name in sms.body
    assert re.search(r"/volunteers/offers/[^/\s]+/$", sms.body)
    assert str(intake.pk) not in sms.body
    assert sms.body.isascii()  # plain GSM-7 text: 160 characters a segment, not 70
    assert len(sms.body) <= 320
    assert timezone.now() - intake.arrived_at < timedelta(minutes=1)


# What Harbor may say by phone call: a page, and the coordinators' escalations.
VOICE_KINDS = {"offer", "nobody_accepted", "companion_late"}


@pytest.mark.parametrize("kind", Notification.Kind.values)
def test_every_kind_has_its_texts_and_they_reach_only_safe_keys(kind):
    """A template can print only what the context holds, and the context only safe keys."""
    from django.template.loader import get_template

    from notifications.services import SAFE_CONTEXT_KEYS

    names = [f"notifications/sms/{kind}.txt", f"notifications/email/{kind}.txt"]
    names.append(f"notifications/email/{kind}_subject.txt")
    if kind in VOICE_KINDS:
        names.append(f"notifications/voice/{kind}.txt")
    for name in names:
        source = get_template(name).template.source
        variables = set(re.findall(r"{{\s*([a-z_]+)", source))
        assert variables <= SAFE_CONTEXT_KEYS, name
        assert "{%" not in source.replace("{% autoescape off %}", "").replace("{% endautoescape %}", ""), name
    assert get_template(names[0]).template.source.isascii(), "text messages are plain GSM-7 text"
