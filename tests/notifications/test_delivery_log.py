"""The delivery log of a walk-in: what was sent to whom, for the coordinator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Notification

from ..conftest import client_for
from ..factories import IntakeFactory, UserFactory


@pytest.fixture
def walk_in(department, officer):
    return IntakeFactory(department=department, logged_by=officer, person__first_name="Zebulon")


def _notifications(intake, count: int, **fields) -> list[Notification]:
    return [
        Notification.objects.create(
            **{
                "department": intake.department,
                "intake": intake,
                "recipient": UserFactory(display_name=f"Volunteer {n}"),
                "channel": Notification.Channel.SMS,
                "kind": Notification.Kind.OFFER,
                "to": "+19785550100",
                "body": f"Harbor: someone needs a companion. Open: https://harbor.example.org/secret-{n}/",
                "idempotency_key": f"test:{intake.pk}:{n}",
                **fields,
            }
        )
        for n in range(count)
    ]


def _url(intake) -> str:
    return reverse("notifications:intake_log", kwargs={"intake_id": intake.pk})


def test_the_coordinator_sees_what_went_to_whom(coordinator_client, walk_in):
    sent_at = datetime(2026, 1, 15, 3, 4, 5, tzinfo=UTC)  # 10:04:05 PM the day before
    _notifications(
        walk_in,
        1,
        status=Notification.Status.SENT,
        provider_message_id="SM1",
        sent_at=sent_at,
        created_at=sent_at - timedelta(seconds=1),
        attempts=1,
    )
    _notifications(
        walk_in,
        1,
        status=Notification.Status.FAILED,
        attempts=5,
        last_error="TransientSendError: Twilio 503",
        kind=Notification.Kind.NOBODY_ACCEPTED,
        channel=Notification.Channel.EMAIL,
        idempotency_key="test:failed",
    )

    response = coordinator_client.get(_url(walk_in))

    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" in page
    assert "Volunteer 0" in page
    assert "Companion needed" in page
    assert "Coordinator: nobody accepted" in page
    assert "Text message" in page and "Email" in page
    assert "Jan 14, 10:04:04 PM" in page  # written, in the department's time zone
    assert "10:04:05 PM" in page  # sent
    assert "Failed" in page and "TransientSendError: Twilio 503" in page
    # Never what a message said, nor where it went.
    assert "secret-" not in page
    assert "+19785550100" not in page


def test_an_htmx_request_gets_the_table_alone(coordinator_client, walk_in):
    _notifications(walk_in, 1)

    response = coordinator_client.get(_url(walk_in), HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert "<html" not in page
    assert 'id="delivery-log"' in page
    assert "Waiting to send" in page


def test_a_walk_in_with_no_messages_says_so(coordinator_client, walk_in):
    assert "No messages have been sent" in coordinator_client.get(_url(walk_in)).content.decode()


def test_the_desk_officer_who_logged_it_may_not_read_the_log(officer_client, walk_in):
    _notifications(walk_in, 1)
    assert officer_client.get(_url(walk_in)).status_code == 403


def test_another_departments_coordinator_is_told_nothing_exists(other_coordinator, walk_in):
    _notifications(walk_in, 1)
    assert client_for(other_coordinator).get(_url(walk_in)).status_code == 404


def test_an_unknown_walk_in_is_not_found(coordinator_client):
    url = reverse("notifications:intake_log", kwargs={"intake_id": "00000000-0000-0000-0000-000000000000"})
    assert coordinator_client.get(url).status_code == 404


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_messages(coordinator, department, officer):
    client = client_for(coordinator)
    one = IntakeFactory(department=department, logged_by=officer)
    thirty = IntakeFactory(department=department, logged_by=officer)
    _notifications(one, 1)
    _notifications(thirty, 30)
    _queries(client, _url(one))  # warm the session and the user's role cache

    assert _queries(client, _url(one)) == _queries(client, _url(thirty))
