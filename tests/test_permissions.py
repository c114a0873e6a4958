"""Who may reach which URL: a role × URL × expected status table covering every URL.

Adding a URL without a row here fails ``test_every_url_has_a_row``. Statuses: 200 page,
302 redirect (anonymous → login, or a role's home), 403 wrong role, 404 a record the user may
not know exists, 405 wrong method.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from volunteers.tokens import offer_link

from .conftest import client_for
from .factories import ConsentFactory, IntakeFactory, OfferFactory

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
    ("volunteers:home", "get", {A: 302, V: 200, **dict.fromkeys([NR, OF, OF2, C, AD, XO, XC], 403)}),
    # Offers and assignments: a pending offer on the walk-in and an accepted one on another,
    # both sent to `volunteer_user`. Reading an offer link needs no sign-in; anyone else signed
    # in is told it was sent to another volunteer.
    ("volunteers:offer", "get", {A: 200, V: 200, **dict.fromkeys([NR, OF, OF2, C, AD, XO, XC], 403)}),
    ("volunteers:assignment", "get", {A: 302, V: 200, **dict.fromkeys([NR, OF, OF2, C, AD, XO, XC], 403)}),
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
        "volunteers:paging_stop",
        "post",
        {A: 302, C: 302, XC: 404, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)},
    ),
    (
        "volunteers:paging_resume",
        "post",
        {A: 302, C: 302, XC: 404, **dict.fromkeys([NR, OF, OF2, V, AD, XO], 403)},
    ),
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


def _url(request, name: str, walk_in) -> str:
    if name in {"volunteers:offer", "volunteers:assignment", "volunteers:assignment_arrived"}:
        return _offer_urls(request, name, walk_in)
    if name.startswith("volunteers:paging_"):
        return reverse(name, kwargs={"intake_id": walk_in.pk})
    if name in {"intake:detail", "intake:edit", "intake:close", "intake:consent"}:
        return reverse(name, kwargs={"intake_id": walk_in.pk})
    if name == "intake:consent_revoke":
        return reverse(name, kwargs={"consent_id": ConsentFactory(intake=walk_in).pk})
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
