"""Who may reach which URL: a role × URL × expected status table covering every URL.

Adding a URL without a row here fails ``test_every_url_has_a_row``. Statuses: 200 page,
302 redirect (anonymous → login, or a role's home), 403 wrong role, 404 a record the user may
not know exists, 405 wrong method.
"""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import AccessLogEntry
from intake.models import RepeatVisitSuggestion
from volunteers.paging.tokens import offer_link, voice_token
from volunteers.roster.services import shift_series_create

from .conftest import client_for
from .factories import (
    ConsentFactory,
    DisclosureFactory,
    FacilityFactory,
    IntakeFactory,
    OfferFactory,
    PersonFactory,
    ShiftFactory,
)

USERS = [
    "anonymous",
    "outsider",
    "officer",
    "second_officer",
    "coordinator",
    "volunteer_user",
    "administrator",
    "other_officer",
    "other_coordinator",
]

# url name, method, {user: expected status}. Users not listed expect the row's default.
A, NR, OF, OF2, C, V, AD, XO, XC = USERS
TABLE: list[tuple[str, str, dict[str, int]]] = [
    ("healthz", "get", dict.fromkeys(USERS, 200)),
    ("accounts:login", "get", {A: 200, **dict.fromkeys(USERS[1:], 302)}),
    ("accounts:logout", "post", dict.fromkeys(USERS, 302)),
    ("accounts:reauthenticate", "get", {A: 302, **dict.fromkeys(USERS[1:], 200)}),
    # Two-factor sign-in. Staff here have completed it: the code page sends them on; users
    # without an authenticator app (the volunteer, the outsider) are sent to set one up.
    ("accounts:two_factor_verify", "get", dict.fromkeys(USERS, 302)),
    ("accounts:two_factor_setup", "get", {A: 302, **dict.fromkeys(USERS[1:], 200)}),
    (
        "accounts:recovery_codes",
        "get",
        {A: 302, NR: 302, V: 302, **dict.fromkeys([OF, OF2, C, AD, XO, XC], 200)},
    ),
    # Locked accounts of the coordinator's (or administrator's) departments; unlocking
    # `officer` (of `department`). Only an administrator unlocks an administrator (test_lockout).
    (
        "accounts:locked_out_list",
        "get",
        {A: 302, C: 200, XC: 200, AD: 200, **dict.fromkeys([NR, OF, OF2, V, XO], 403)},
    ),
    (
        "accounts:account_unlock",
        "post",
        {A: 302, C: 302, XC: 404, AD: 302, **dict.fromkeys([NR, OF, OF2, V, XO], 403)},
    ),
    ("accounts:home", "get", {A: 302, NR: 403, OF: 302, OF2: 302, C: 302, V: 302, AD: 302, XO: 302, XC: 302}),
    ("intake:list", "get", {A: 302, NR: 403, OF: 403, OF2: 403, C: 200, V: 403, AD: 403, XO: 403, XC: 200}),
    ("intake:desk", "get", {A: 302, NR: 403, OF: 200, OF2: 200, C: 403, V: 403, AD: 403, XO: 200, XC: 403}),
    ("intake:create", "get", {A: 302, NR: 403, OF: 200, OF2: 200, C: 200, V: 403, AD: 403, XO: 200, XC: 200}),
    # One walk-in, logged by `officer` in `department`.
    ("intake:detail", "get", {A: 302, OF: 200, C: 200, **dict.fromkeys([NR, OF2, V, AD, XO, XC], 404)}),
    ("intake:edit", "get", {A: 302, OF: 200, C: 200, **dict.fromkeys([NR, OF2, V, AD, XO, XC], 404)}),
    ("intake:close", "post", {A: 302, OF: 302, C: 302, **dict.fromkeys([NR, OF2, V, AD, XO, XC], 404)}),
    ("intake:consent", "get", {A: 302, OF: 200, C: 200, **dict.fromkeys([NR, OF2, V, AD, XO, XC], 404)}),
    (
        "intake:consent_revoke",
        "post",
        {A: 302, OF: 302, C: 302, **dict.fromkeys([NR, OF2, V, AD, XO, XC], 404)},
    ),
    # A possible repeat visit of the walk-in: decided by the department's coordinators only (an
    # empty decision comes back to the intake page with a message); nobody else learns of it.
    (
        "intake:repeat_visit_decide",
        "post",
        {A: 302, C: 302, **dict.fromkeys([NR, OF, OF2, V, AD, XO, XC], 404)},
    ),
    # The accounting of disclosures and accesses of the walk-in's person: coordinators of the
    # person's department only; everyone else is not told the person exists.
    (
        "intake:person_accounting",
        "get",
        {A: 302, C: 200, **dict.fromkeys([NR, OF, OF2, V, AD, XO, XC], 404)},
    ),
    # Erasing the person on their request: the same coordinators only (the page; the erasure
    # itself is tested in tests/intake/test_erasure.py).
    (
        "intake:person_erase",
        "get",
        {A: 302, C: 200, **dict.fromkeys([NR, OF, OF2, V, AD, XO, XC], 404)},
    ),
    ("volunteers:home", "get", {A: 302, V: 200, **dict.fromkeys([NR, OF, OF2, C, AD, XO, XC], 403)}),
    # Offers and assignments: a pending offer on the walk-in and an accepted one on another,
    # both sent to `volunteer_user`. Reading an offer link needs no sign-in; anyone else signed
    # in is told it was sent to another volunteer.
    ("volunteers:offer", "get", {A: 200, V: 200, **dict.fromkeys([NR, OF, OF2, C, AD, XO, XC], 403)}),
    ("volunteers:assignment", "get", {A: 302, V: 200, **dict.fromkeys([NR, OF, OF2, C, AD, XO, XC], 403)}),
    (
        "volunteers:assignment_details",
        "get",
        {A: 302, V: 200, **dict.fromkeys([NR, OF, OF2, C, AD, XO, XC], 403)},
    ),
    (
        "volunteers:assignment_release",
        "post",
        {A: 302, V: 302, **dict.fromkeys([NR, OF, OF2, C, AD, XO, XC], 403)},
    ),
    (
        "volunteers:assignment_arrived",
        "post",
        {A: 302, V: 302, **dict.fromkeys([NR, OF, OF2, C, AD, XO, XC], 403)},
    ),
    (
        "volunteers:paging_panel",
        "get",
        {A: 302, OF: 200, C: 200, **dict.fromkeys([NR, OF2, V, AD, XO, XC], 404)},
    ),
    (
        "volunteers:paging_page",
        "post",
        {A: 302, C: 302, XC: 404, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)},
    ),
    (
        "volunteers:paging_page_near_fit",
        "post",
        {A: 302, C: 302, XC: 404, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)},
    ),
    (
        "volunteers:paging_release",
        "post",
        {A: 302, C: 302, XC: 404, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)},
    ),
    (
        "volunteers:paging_stop",
        "post",
        {A: 302, C: 302, XC: 404, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)},
    ),
    (
        "volunteers:paging_resume",
        "post",
        {A: 302, C: 302, XC: 404, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)},
    ),
    # Twilio's webhook needs no sign-in but Twilio's signature: an unsigned post is refused.
    ("volunteers:twilio_inbound", "post", dict.fromkeys(USERS, 403)),
    # Delivery receipts, and a page by phone call (what it says, the key pressed): the same.
    ("volunteers:twilio_status", "post", dict.fromkeys(USERS, 403)),
    ("volunteers:twilio_voice", "post", dict.fromkeys(USERS, 403)),
    ("volunteers:twilio_voice_answer", "post", dict.fromkeys(USERS, 403)),
    # The delivery log of the walk-in: a coordinator's tool (its officer may see the walk-in: 403).
    (
        "notifications:intake_log",
        "get",
        {A: 302, OF: 403, C: 200, **dict.fromkeys([NR, OF2, V, AD, XO, XC], 404)},
    ),
    # A coordinator's own contact settings (the number they are paged on, verified by a code).
    (
        "notifications:contact",
        "get",
        {A: 302, C: 200, XC: 200, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)},
    ),
    (
        "notifications:contact_code_send",
        "post",
        {A: 302, C: 302, XC: 302, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)},
    ),
    (
        "notifications:contact_verify",
        "post",
        {A: 302, C: 302, XC: 302, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)},
    ),
    # The roster. `volunteer_user` has an upcoming shift and a weekly shift in `department`.
    ("volunteers:my_shifts", "get", {A: 302, V: 200, **dict.fromkeys([NR, OF, OF2, C, AD, XO, XC], 403)}),
    # An empty sign-up form comes back with its errors.
    ("volunteers:shift_add", "post", {A: 302, V: 200, **dict.fromkeys([NR, OF, OF2, C, AD, XO, XC], 403)}),
    ("volunteers:series_add", "post", {A: 302, V: 200, **dict.fromkeys([NR, OF, OF2, C, AD, XO, XC], 403)}),
    (
        "volunteers:shift_drop",
        "post",
        {A: 302, V: 302, C: 302, XC: 404, **dict.fromkeys([NR, OF, OF2, AD, XO], 403)},
    ),
    (
        "volunteers:series_end",
        "post",
        {A: 302, V: 302, C: 302, XC: 404, **dict.fromkeys([NR, OF, OF2, AD, XO], 403)},
    ),
    (
        "volunteers:calendar_rotate",
        "post",
        {A: 302, V: 302, **dict.fromkeys([NR, OF, OF2, C, AD, XO, XC], 403)},
    ),
    # The private calendar feed needs no sign-in: the secret in its URL is the key.
    ("volunteers:calendar_feed", "get", dict.fromkeys(USERS, 200)),
    ("volunteers:coverage", "get", {A: 302, C: 200, XC: 200, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)}),
    ("volunteers:roster", "get", {A: 302, C: 200, XC: 200, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)}),
    ("volunteers:assign", "get", {A: 302, C: 200, XC: 200, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)}),
    (
        "volunteers:roster_volunteer",
        "get",
        {A: 302, C: 200, XC: 404, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)},
    ),
    ("volunteers:vetting", "get", {A: 302, C: 200, XC: 404, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)}),
    ("volunteers:preferences", "get", {A: 302, V: 200, **dict.fromkeys([NR, OF, OF2, C, AD, XO, XC], 403)}),
    # Verifying the volunteer's own phone and e-mail, and their test page.
    (
        "volunteers:contact_code_send",
        "post",
        {A: 302, V: 302, **dict.fromkeys([NR, OF, OF2, C, AD, XO, XC], 403)},
    ),
    (
        "volunteers:contact_verify",
        "post",
        {A: 302, V: 302, **dict.fromkeys([NR, OF, OF2, C, AD, XO, XC], 403)},
    ),
    ("volunteers:test_page", "post", {A: 302, V: 302, **dict.fromkeys([NR, OF, OF2, C, AD, XO, XC], 403)}),
    # --- placements: an intake of `department` logged by `officer` whose companion is
    # `volunteer_user` (arrived; placed, admission not yet confirmed, for transport and admission).
    # The officer sees the placement but records nothing; sharing and follow-ups: coordinators.
    *[
        (name, "get", {A: 302, OF: 403, C: 200, V: 200, **dict.fromkeys([NR, OF2, AD, XO, XC], 404)})
        for name in (
            "referrals:attempt_create",
            "referrals:placement_create",
            "referrals:transport_update",
            "referrals:admission_confirm",
        )
    ],
    (
        "referrals:placement",
        "get",
        {A: 302, OF: 200, C: 200, V: 200, **dict.fromkeys([NR, OF2, AD, XO, XC], 404)},
    ),
    (
        "referrals:disclosure_create",
        "get",
        {A: 302, OF: 403, C: 200, V: 403, **dict.fromkeys([NR, OF2, AD, XO, XC], 404)},
    ),
    (
        "referrals:disclosure_detail",
        "get",
        {A: 302, C: 200, XC: 404, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)},
    ),
    (
        "referrals:follow_ups",
        "get",
        {A: 302, C: 200, XC: 200, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)},
    ),
    (
        "referrals:follow_up_record",
        "get",
        {A: 302, C: 200, XC: 404, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)},
    ),
    # --- the treatment directory: shared by every department, kept by coordinators. An empty
    # bed count posted comes back to the facility with its error; the search is for a walk-in
    # of the coordinator's own departments.
    *[
        (name, "get", {A: 302, C: 200, XC: 200, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)})
        for name in (
            "referrals:facility_list",
            "referrals:facility_create",
            "referrals:facility_detail",
            "referrals:facility_edit",
            "referrals:hsds_import",
            "referrals:hsds_export",
        )
    ],
    (
        "referrals:facility_beds",
        "post",
        {A: 302, C: 302, XC: 302, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)},
    ),
    (
        "referrals:facility_search",
        "get",
        {A: 302, C: 200, XC: 404, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)},
    ),
    # The coordinator's board and figures (of their own departments), and the public summary of
    # `department`, which needs no sign-in and shows aggregate counts only.
    *[
        (name, "get", {A: 302, C: 200, XC: 200, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)})
        for name in ("dashboard:board", "dashboard:figures", "dashboard:figures_csv")
    ],
    ("public:department", "get", dict.fromkeys(USERS, 200)),
    ("public:department_json", "get", dict.fromkeys(USERS, 200)),
    # The Django admin is for administrators only (is_staff is given to administrators alone).
    ("admin:index", "get", {A: 302, AD: 200, **dict.fromkeys([NR, OF, OF2, C, V, XO, XC], 302)}),
    (
        "admin:accounts_user_changelist",
        "get",
        {A: 302, AD: 200, **dict.fromkeys([NR, OF, OF2, C, V, XO, XC], 302)},
    ),
]
CASES = [(name, method, user, expected[user]) for name, method, expected in TABLE for user in USERS]


def _all_url_names(resolver=None, namespace="") -> set[str]:
    names = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _all_url_names(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def test_every_url_has_a_row():
    """The Django admin counts as one family (sampled above); every other URL needs a row."""
    covered = {name for name, _, _ in TABLE}
    missing = {name for name in _all_url_names() if not name.startswith("admin:")} - covered
    assert not missing, f"Add these URLs to the permission table: {sorted(missing)}"


def test_every_row_covers_every_user():
    for name, _, expected in TABLE:
        assert set(expected) == set(USERS), name


@pytest.fixture
def walk_in(officer, department):
    return IntakeFactory(department=department, logged_by=officer)


def _offer_urls(request, name: str, walk_in) -> str:
    volunteer = request.getfixturevalue("volunteer_user").volunteer
    if name == "volunteers:offer":
        return offer_link(OfferFactory(intake=walk_in, volunteer=volunteer))
    assigned = IntakeFactory(
        department=walk_in.department, status="companion_assigned", companion_needed_at=None
    )
    offer = OfferFactory(intake=assigned, volunteer=volunteer, status="accepted", responded_at=timezone.now())
    return reverse(name, kwargs={"offer_id": offer.pk})


ROSTER_URLS_WITH_ARGS = {
    "volunteers:shift_drop",
    "volunteers:series_end",
    "volunteers:calendar_feed",
    "volunteers:roster_volunteer",
    "volunteers:vetting",
}


def _roster_url(request, name: str) -> str:
    volunteer = request.getfixturevalue("volunteer_user").volunteer
    department = request.getfixturevalue("department")
    if name == "volunteers:shift_drop":
        starts_at = timezone.now() + timedelta(days=1)
        shift = ShiftFactory(volunteer=volunteer, department=department, starts_at=starts_at)
        return reverse(name, kwargs={"shift_id": shift.pk})
    if name == "volunteers:series_end":
        series, _ = shift_series_create(
            volunteer=volunteer,
            department=department,
            weekday=(timezone.localdate().weekday() + 2) % 7,
            start_time=time(18),
            duration=timedelta(hours=6),
            starts_on=timezone.localdate(),
            ends_on=None,
            created_by=volunteer.user,
        )
        return reverse(name, kwargs={"series_id": series.pk})
    if name == "volunteers:calendar_feed":
        return reverse(name, kwargs={"token": volunteer.calendar_token})
    return reverse(name, kwargs={"volunteer_id": volunteer.pk})


PLACEMENT_URLS = {
    "referrals:placement",
    "referrals:attempt_create",
    "referrals:placement_create",
    "referrals:transport_update",
    "referrals:admission_confirm",
    "referrals:disclosure_create",
    "referrals:disclosure_detail",
    "referrals:follow_up_record",
}


def _placement_url(request, name: str, walk_in) -> str:
    from referrals.placement.services import placement_admission_confirm, placement_record

    volunteer = request.getfixturevalue("volunteer_user").volunteer
    placed = name in {
        "referrals:transport_update",
        "referrals:admission_confirm",
        "referrals:follow_up_record",
    }
    intake = IntakeFactory(
        department=walk_in.department,
        logged_by=walk_in.logged_by,
        status="companion_arrived",
        companion_needed_at=None,
    )
    now = timezone.now()
    OfferFactory(intake=intake, volunteer=volunteer, status="accepted", responded_at=now, arrived_at=now)
    coordinator = request.getfixturevalue("coordinator")
    if placed:
        placement = placement_record(
            intake=intake, actor=coordinator, facility=FacilityFactory(), level_of_care="3.7-WM"
        )
        if name == "referrals:follow_up_record":
            placement_admission_confirm(placement=placement, actor=coordinator)
            return reverse(name, kwargs={"follow_up_id": intake.follow_ups.first().pk})
    if name == "referrals:disclosure_detail":
        consent = ConsentFactory(intake=intake)
        disclosure = DisclosureFactory(intake=intake, consent=consent, disclosed_by=coordinator)
        return reverse(name, kwargs={"disclosure_id": disclosure.pk})
    return reverse(name, kwargs={"intake_id": intake.pk})


DIRECTORY_FACILITY_URLS = {
    "referrals:facility_detail",
    "referrals:facility_edit",
    "referrals:facility_beds",
}


def _directory_url(name: str, walk_in) -> str | None:
    if name in DIRECTORY_FACILITY_URLS:
        return reverse(name, kwargs={"facility_id": FacilityFactory().pk})
    if name == "referrals:facility_search":
        return reverse(name, kwargs={"intake_id": walk_in.pk})
    return None


def _url(request, name: str, walk_in) -> str:
    if name == "accounts:account_unlock":
        return reverse(name, kwargs={"user_id": walk_in.logged_by_id})
    if name.startswith("public:"):
        return reverse(name, kwargs={"department_id": walk_in.department_id})
    if (directory_url := _directory_url(name, walk_in)) is not None:
        return directory_url
    if name in ROSTER_URLS_WITH_ARGS:
        return _roster_url(request, name)
    if name in PLACEMENT_URLS:
        return _placement_url(request, name, walk_in)
    if name in {
        "volunteers:offer",
        "volunteers:assignment",
        "volunteers:assignment_details",
        "volunteers:assignment_arrived",
        "volunteers:assignment_release",
    }:
        return _offer_urls(request, name, walk_in)
    if name in {"volunteers:twilio_voice", "volunteers:twilio_voice_answer"}:
        volunteer = request.getfixturevalue("volunteer_user").volunteer
        token = voice_token(OfferFactory(intake=walk_in, volunteer=volunteer))
        return reverse(name, kwargs={"token": token})
    if name.startswith("volunteers:paging_") or name == "notifications:intake_log":
        return reverse(name, kwargs={"intake_id": walk_in.pk})
    if name in {"intake:detail", "intake:edit", "intake:close", "intake:consent"}:
        return reverse(name, kwargs={"intake_id": walk_in.pk})
    if name in {"intake:person_accounting", "intake:person_erase"}:
        return reverse(name, kwargs={"person_id": walk_in.person_id})
    if name == "intake:consent_revoke":
        return reverse(name, kwargs={"consent_id": ConsentFactory(intake=walk_in).pk})
    if name == "intake:repeat_visit_decide":
        earlier = PersonFactory(department=walk_in.department, first_name=walk_in.person.first_name)
        suggestion = RepeatVisitSuggestion.objects.create(
            intake=walk_in, candidate=earlier, reasons=["same_first_name", "same_date_of_birth"]
        )
        return reverse(name, kwargs={"suggestion_id": suggestion.pk})
    return reverse(name)


@pytest.mark.parametrize(("name", "method", "user", "expected"), CASES)
def test_permission_table(
    request, name, method, user, expected, walk_in, officer, department, other_department
):
    client = client_for(None if user == "anonymous" else request.getfixturevalue(user))
    response = getattr(client, method)(_url(request, name, walk_in))
    assert response.status_code == expected, f"{user} {method.upper()} {name}"
    if user == "anonymous" and expected == 302 and name not in {"accounts:logout"}:
        assert response["Location"].startswith(reverse("accounts:login")) or name.startswith("admin:")


# --- the access log (issue 13, findings 3 and 15) ---------------------------------------------

# Every URL of a page or action that shows or changes a person. An allowed request writes the
# access log, whatever its headers: one row per record shown (list pages: per walk-in listed).
RECORD_URLS = {
    "intake:list",
    "intake:desk",
    "intake:detail",
    "intake:edit",
    "intake:close",
    "intake:consent",
    "intake:consent_revoke",
    "intake:person_accounting",
    "intake:person_erase",
    "intake:repeat_visit_decide",
    "volunteers:assignment",
    "volunteers:assignment_details",
    "volunteers:assignment_arrived",
    "volunteers:assignment_release",
    "volunteers:paging_panel",
    "volunteers:paging_page",
    "volunteers:paging_page_near_fit",
    "volunteers:paging_stop",
    "volunteers:paging_resume",
    "volunteers:paging_release",
    "notifications:intake_log",
    "referrals:facility_search",
    "referrals:placement",
    "referrals:attempt_create",
    "referrals:placement_create",
    "referrals:transport_update",
    "referrals:admission_confirm",
    "referrals:disclosure_create",
    "referrals:disclosure_detail",
    "referrals:follow_ups",
    "referrals:follow_up_record",
    "dashboard:board",
}
# URLs that take a record's id but show no person: the offer link says only where a companion
# is needed (DESIGN.md); the new walk-in form is empty (its POST is logged: test_repeat_visit).
NOT_RECORD_URLS = {"volunteers:offer", "intake:create"}


def test_every_url_of_a_record_is_in_the_access_log_table():
    """A URL naming a walk-in, person, consent, offer, disclosure or follow-up is a record URL."""
    record_kwargs = ("intake_id", "person_id", "consent_id", "offer_id", "disclosure_id", "follow_up_id")
    missing = (
        {name for name in _all_url_names() if _takes_a_record(name, record_kwargs)}
        - RECORD_URLS
        - NOT_RECORD_URLS
    )
    assert not missing, f"Declare what these views show (@shows_person) and list them: {sorted(missing)}"


def _takes_a_record(name: str, record_kwargs) -> bool:
    from django.urls import NoReverseMatch

    for kwarg in record_kwargs:
        try:
            reverse(name, kwargs={kwarg: "00000000-0000-0000-0000-000000000001"})
        except NoReverseMatch:
            try:
                reverse(name, kwargs={kwarg: 1})
            except NoReverseMatch:
                continue
        return True
    return False


# Users of `department` who may reach each record URL (the other department's staff are refused
# every record of `department`; on their own lists they see none of these walk-ins, and the
# second officer's desk lists only their own walk-ins: none).
ACCESS_CASES = [
    (name, method, user, htmx)
    for name, method, expected in TABLE
    if name in RECORD_URLS
    for user in USERS
    if user not in {"anonymous", "other_officer", "other_coordinator"}
    and expected[user] in (200, 302)
    and (name, user) != ("intake:desk", "second_officer")
    for htmx in (False, True)
]


@pytest.fixture
def a_follow_up_due(coordinator, walk_in):
    """An admitted walk-in whose first follow-up is due, for the lists that show them."""
    from referrals.placement.services import placement_admission_confirm, placement_record

    intake = IntakeFactory(
        department=walk_in.department,
        status="searching_placement",
        companion_needed_at=None,
        arrived_at=timezone.now() - timedelta(days=4),
    )
    placement = placement_record(
        intake=intake, actor=coordinator, facility=FacilityFactory(), level_of_care="3.7-WM"
    )
    placement_admission_confirm(
        placement=placement, actor=coordinator, admitted_at=timezone.now() - timedelta(days=3)
    )
    return intake


def test_access_cases_cover_every_record_url():
    assert {name for name, _, _, _ in ACCESS_CASES} == RECORD_URLS


@pytest.mark.parametrize(("name", "method", "user", "htmx"), ACCESS_CASES)
def test_an_allowed_request_for_a_record_writes_the_access_log(
    request, name, method, user, htmx, walk_in, a_follow_up_due
):
    client = client_for(request.getfixturevalue(user))
    url = _url(request, name, walk_in)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    before = AccessLogEntry.objects.count()

    response = getattr(client, method)(url, **headers)

    assert response.status_code in (200, 302), f"{user} {method.upper()} {name}"
    if response.status_code == 302 and response["Location"].startswith(reverse("accounts:reauthenticate")):
        pytest.fail("the session policy sent the user away before the record was shown")
    entries = list(AccessLogEntry.objects.order_by("id")[before:])
    assert entries, f"{user} {method.upper()} {name} (htmx: {htmx}) wrote no access-log row"
    acting = request.getfixturevalue(user)
    for entry in entries:
        assert entry.user_id == acting.pk
        assert entry.person_id is not None
        assert entry.department_id == walk_in.department_id
        assert entry.action == ("edit" if method == "post" else "view")
