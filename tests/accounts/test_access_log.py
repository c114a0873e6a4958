"""The access log of personal records: written on every view, and append-only in the database."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.access_log import access_log_write, shown
from accounts.models import AccessLogEntry, Role

from ..conftest import client_for
from ..factories import DisclosureFactory, IntakeFactory, user_with_role


@pytest.fixture
def walk_in(officer, department):
    return IntakeFactory(department=department, logged_by=officer)


def _accounting_url(person) -> str:
    return reverse("intake:person_accounting", kwargs={"person_id": person.pk})


def test_viewing_an_intake_writes_one_entry(coordinator_client, coordinator, walk_in):
    url = reverse("intake:detail", kwargs={"intake_id": walk_in.pk})
    response = coordinator_client.get(
        url + "?tab=1", REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Firefox/" + "x" * 300
    )
    assert response.status_code == 200
    entry = AccessLogEntry.objects.get()
    assert entry.user == coordinator
    assert entry.department_id == walk_in.department_id
    assert entry.person_id == walk_in.person_id
    assert (entry.action, entry.record_type, entry.record_id) == ("view", "intake", str(walk_in.pk))
    assert entry.path == url  # no query string
    assert entry.ip_address == "203.0.113.7"
    assert len(entry.user_agent) == 200


def test_the_htmx_status_refresh_is_logged_too(coordinator_client, walk_in):
    """It shows the person's status: an access like any other (issue 13, finding 3)."""
    url = reverse("intake:detail", kwargs={"intake_id": walk_in.pk})
    assert coordinator_client.get(url, HTTP_HX_REQUEST="true").status_code == 200
    entry = AccessLogEntry.objects.get()
    assert (entry.action, entry.record_type, entry.person_id) == ("view", "intake", walk_in.person_id)


def test_a_refused_view_writes_nothing(walk_in, other_coordinator):
    url = reverse("intake:detail", kwargs={"intake_id": walk_in.pk})
    assert client_for(other_coordinator).get(url).status_code == 404
    assert not AccessLogEntry.objects.exists()


def test_forwarded_address_is_used_only_behind_a_proxy(coordinator_client, walk_in, settings):
    url = reverse("intake:detail", kwargs={"intake_id": walk_in.pk})
    forwarded = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.4, 10.0.0.1"}
    settings.SECURE_PROXY_SSL_HEADER = None
    coordinator_client.get(url, **forwarded)
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    coordinator_client.get(url, **forwarded)
    assert list(AccessLogEntry.objects.order_by("id").values_list("ip_address", flat=True)) == [
        "10.0.0.2",
        "198.51.100.4",
    ]


@pytest.mark.parametrize(
    ("name", "record_type"),
    [("intake:edit", "intake"), ("intake:consent", "consent"), ("notifications:intake_log", "delivery_log")],
)
def test_other_pages_of_a_walk_in_are_logged(coordinator_client, walk_in, name, record_type):
    assert coordinator_client.get(reverse(name, kwargs={"intake_id": walk_in.pk})).status_code == 200
    entry = AccessLogEntry.objects.get()
    assert (entry.record_type, entry.person_id) == (record_type, walk_in.person_id)


def test_the_disclosure_sheet_is_logged(coordinator_client, coordinator, walk_in):
    disclosure = DisclosureFactory(intake=walk_in, disclosed_by=coordinator)
    url = reverse("referrals:disclosure_detail", kwargs={"disclosure_id": disclosure.pk})
    assert coordinator_client.get(url).status_code == 200
    entry = AccessLogEntry.objects.get()
    assert (entry.record_type, entry.record_id, entry.person_id) == (
        "disclosure",
        str(disclosure.pk),
        walk_in.person_id,
    )


@pytest.fixture
def entry(rf, coordinator, walk_in):
    request = rf.get("/intake/")
    request.user = coordinator
    access_log_write(request=request, records=[shown(walk_in, record_type="intake")])
    return AccessLogEntry.objects.get(record_id=str(walk_in.pk))


def _refused(action) -> str:
    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        action()
    return str(refused.value)


def test_the_database_refuses_to_update_an_entry(entry):
    assert "append-only" in _refused(lambda: AccessLogEntry.objects.filter(pk=entry.pk).update(path="/x/"))
    entry.refresh_from_db()
    assert entry.path == "/intake/"


def test_the_database_refuses_to_delete_an_entry(entry):
    assert "append-only" in _refused(lambda: AccessLogEntry.objects.filter(pk=entry.pk).delete())
    assert AccessLogEntry.objects.filter(pk=entry.pk).exists()


def test_the_database_refuses_raw_sql_too(entry):
    def raw(sql):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(sql, [entry.pk])

        return run

    table = AccessLogEntry._meta.db_table
    assert "append-only" in _refused(raw(f"UPDATE {table} SET user_agent = 'x' WHERE id = %s"))  # noqa: S608
    assert "append-only" in _refused(raw(f"DELETE FROM {table} WHERE id = %s"))  # noqa: S608
    assert AccessLogEntry.objects.filter(pk=entry.pk, user_agent="").exists()


# --- the accounting page -----------------------------------------------------------------------


def test_accounting_shows_disclosures_and_accesses(coordinator_client, coordinator, walk_in):
    DisclosureFactory(intake=walk_in, disclosed_by=coordinator, recipient="Beverly Detox")
    coordinator_client.get(
        reverse("intake:detail", kwargs={"intake_id": walk_in.pk}), REMOTE_ADDR="192.0.2.9"
    )
    response = coordinator_client.get(_accounting_url(walk_in.person))
    assert response.status_code == 200
    page = response.content.decode()
    assert walk_in.person.last_name in page
    assert "Beverly Detox" in page
    assert "192.0.2.9" in page
    assert "data-print-page" in page
    # Viewing the accounting is itself an access, and listed.
    assert list(AccessLogEntry.objects.values_list("record_type", flat=True)) == ["accounting", "intake"]
    assert "Accounting of disclosures" in page


def test_the_intake_page_links_coordinators_to_the_accounting(coordinator_client, officer_client, walk_in):
    url = reverse("intake:detail", kwargs={"intake_id": walk_in.pk})
    accounting = _accounting_url(walk_in.person)
    assert accounting in coordinator_client.get(url).content.decode()
    assert accounting not in officer_client.get(url).content.decode()


@pytest.mark.parametrize("user", ["other_coordinator", "officer", "volunteer_user", "outsider"])
def test_accounting_is_for_coordinators_of_the_department_only(request, walk_in, user):
    response = client_for(request.getfixturevalue(user)).get(_accounting_url(walk_in.person))
    assert response.status_code == 404
    assert not AccessLogEntry.objects.exists()


def test_a_coordinator_of_both_departments_sees_it(walk_in, other_coordinator):
    user_with_role(Role.COORDINATOR, walk_in.department, username="both").delete()
    other_coordinator.memberships.create(department=walk_in.department, role=Role.COORDINATOR)
    assert client_for(other_coordinator).get(_accounting_url(walk_in.person)).status_code == 200


def test_accounting_query_count_does_not_grow(coordinator_client, coordinator, walk_in, rf):
    DisclosureFactory(intake=walk_in, disclosed_by=coordinator)
    url = _accounting_url(walk_in.person)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert coordinator_client.get(url).status_code == 200
        return len(captured)

    queries()  # the first request of a session does some one-off work (session, sign-in records)
    with_one = queries()
    for _ in range(24):
        DisclosureFactory(intake=walk_in, disclosed_by=coordinator)
    request = rf.get("/")
    request.user = user_with_role(Role.COORDINATOR, walk_in.department, username="another")
    for _ in range(48):
        access_log_write(request=request, records=[shown(walk_in, record_type="intake")])
    assert AccessLogEntry.objects.filter(person=walk_in.person).count() == 50
    assert queries() == with_one


# --- one mechanism for every page, partial and action (issue 13, findings 3 and 15) ------------


def test_a_list_page_logs_one_row_per_person_listed(coordinator_client, coordinator, department, officer):
    walk_ins = [IntakeFactory(department=department, logged_by=officer) for _ in range(3)]

    insert = f'INSERT INTO "{AccessLogEntry._meta.db_table}"'
    for url in (reverse("intake:list"), reverse("dashboard:board")):
        with CaptureQueriesContext(connection) as queries:
            response = coordinator_client.get(url, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        for walk_in in walk_ins:
            assert walk_in.person.first_name in response.text
        # One INSERT for the page, however many people it lists.
        assert sum(insert in q["sql"] for q in queries.captured_queries) == 1, [
            q["sql"][:80] for q in queries.captured_queries if "accesslog" in q["sql"]
        ]

    rows = AccessLogEntry.objects.filter(user=coordinator)
    assert set(rows.values_list("path", flat=True)) == {reverse("intake:list"), reverse("dashboard:board")}
    for walk_in in walk_ins:
        assert rows.filter(person=walk_in.person, record_id=str(walk_in.pk)).count() == 2


def test_an_action_post_is_logged_as_an_edit(coordinator_client, coordinator, walk_in):
    url = reverse("intake:close", kwargs={"intake_id": walk_in.pk})

    response = coordinator_client.post(url, {"reason": "declined_treatment"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 302
    entry = AccessLogEntry.objects.get()
    assert (entry.user, entry.action, entry.person_id, entry.path) == (
        coordinator,
        "edit",
        walk_in.person_id,
        url,
    )


def test_a_record_view_that_forgets_to_declare_fails_closed(rf, coordinator):
    from django.core.exceptions import ImproperlyConfigured
    from django.http import HttpResponse

    from accounts.access_log import shows_person

    @shows_person("intake")
    def forgetful(request):
        return HttpResponse("a person's details")

    request = rf.get("/somewhere/")
    request.user = coordinator
    with pytest.raises(ImproperlyConfigured, match="without declaring"):
        forgetful(request)
    assert not AccessLogEntry.objects.exists()
