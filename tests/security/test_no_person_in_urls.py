"""No URL the app generates carries a person's attribute (issue 13, finding 17).

URLs end up in browser history, proxy and server logs and the access log's paths. Searches built
from a record are POSTed; links carry opaque ids only. This crawls the pages a coordinator and
the desk see for one walk-in, following links to the walk-in's pages, and checks every URL: each
href, src, form action, hx-get and hx-post, each Location header, and the URL a browser would
build by submitting each GET form as the page prefilled it.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import unquote_plus, urlencode, urljoin, urlsplit

import pytest
from django.urls import reverse

from tests.conftest import client_for
from tests.factories import FacilityFactory, IntakeFactory, PersonFactory

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "hx-get", "hx-post", "hx-put", "hx-delete"}
# Query keys that would say something about the person (the search's own filters included).
PERSON_QUERY_KEYS = {"payment", "gender", "pregnant", "medication", "insurance", "level_of_care", "dob"}


class _Page(HTMLParser):
    """The URLs of a page, and the URL each GET form would submit as prefilled."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.get_forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.urls += [value for name, value in attrs if name in URL_ATTRIBUTES and value]
        if tag == "form":
            method = (attributes.get("method") or "get").lower()
            self._form = {"action": attributes.get("action") or "", "fields": []} if method == "get" else None
            if self._form is not None:
                self.get_forms.append(self._form)
        elif self._form is not None and tag == "input" and attributes.get("name"):
            kind = (attributes.get("type") or "text").lower()
            if kind in {"checkbox", "radio"} and "checked" not in attributes:
                return
            if kind not in {"submit", "button"}:
                default = "on" if kind in {"checkbox", "radio"} else ""
                self._form["fields"].append((attributes["name"], attributes.get("value") or default))
        elif self._form is not None and tag == "select":
            self._select = attributes.get("name")
        elif self._form is not None and tag == "option" and self._select and "selected" in attributes:
            self._form["fields"].append((self._select, attributes.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


@pytest.fixture
def walk_in(department, officer):
    person = PersonFactory(
        department=department,
        first_name="Zebediah",
        last_name="Quarrington",
        insurance="medicaid",
        gender="woman",
    )
    return IntakeFactory(
        department=department,
        person=person,
        logged_by=officer,
        status="companion_arrived",
        companion_needed_at=None,
        pregnancy="yes",
        substances=["opioids"],
    )


def _attributes_of(intake) -> list[str]:
    person = intake.person
    born = person.date_of_birth
    return [
        person.first_name,
        person.last_name,
        born.isoformat(),
        born.strftime("%m/%d/%Y"),
        born.strftime("%m%%2F%d%%2F%Y"),
        person.insurance,
        "pregnan",
        "opioid",
        "methadone",
        "buprenorphine",
    ]


def _crawl(client, start: list[str], *, walk_in) -> dict[str, str]:
    """Every URL generated on the pages reachable from ``start`` that belong to the walk-in
    (or are the lists and board), mapped to where it was found."""
    found: dict[str, str] = {}
    queue, seen = list(start), set()
    own = {str(walk_in.pk), str(walk_in.person_id)}
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        for htmx in (False, True):
            headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
            response = client.get(url, **headers)
            if "Location" in response:
                found[response["Location"]] = f"Location of {url}"
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            page = _Page()
            page.feed(response.text)
            for link in page.urls:
                found.setdefault(link, url)
                path = urlsplit(urljoin(url, link)).path
                if any(key in path for key in own) and path not in seen:
                    queue.append(path)
            for form in page.get_forms:
                submitted = urljoin(url, form["action"] or url) + "?" + urlencode(form["fields"])
                found.setdefault(submitted, f"GET form on {url}")
    return found


def _offending(found: dict[str, str], intake) -> list[str]:
    attributes = [value.casefold() for value in _attributes_of(intake) if value]
    offending = []
    for url, where in found.items():
        readable = unquote_plus(url).casefold()
        query_keys = {pair.split("=")[0] for pair in urlsplit(url).query.split("&") if pair}
        if any(value in readable for value in attributes) or query_keys & PERSON_QUERY_KEYS:
            offending.append(f"{url} (from {where})")
    return offending


def test_no_url_a_coordinator_is_given_carries_a_persons_attribute(coordinator, walk_in):
    FacilityFactory(name="Harborview Detox")
    start = [
        reverse("intake:detail", kwargs={"intake_id": walk_in.pk}),
        reverse("referrals:facility_search", kwargs={"intake_id": walk_in.pk}),
        reverse("referrals:placement", kwargs={"intake_id": walk_in.pk}),
        reverse("dashboard:board"),
        reverse("intake:list"),
    ]
    client = client_for(coordinator)

    found = _crawl(client, start, walk_in=walk_in)
    search = client.post(start[1], {"payment": "medicaid", "pregnant": "on", "gender": "women"})

    assert reverse("referrals:facility_search", kwargs={"intake_id": walk_in.pk}) in found
    assert len(found) > 20  # the crawl did reach the pages
    assert search.status_code == 200
    found |= dict.fromkeys(_links(search.text), "the search's results")
    assert _offending(found, walk_in) == []


def test_no_url_the_desk_is_given_carries_a_persons_attribute(officer, walk_in):
    start = [reverse("intake:desk"), reverse("intake:detail", kwargs={"intake_id": walk_in.pk})]
    found = _crawl(client_for(officer), start, walk_in=walk_in)
    assert len(found) > 10
    assert _offending(found, walk_in) == []


def test_the_search_is_posted_and_a_query_string_is_ignored(coordinator_client, walk_in):
    url = reverse("referrals:facility_search", kwargs={"intake_id": walk_in.pk})
    page = coordinator_client.get(url, {"payment": "self_pay"})
    assert '<form method="post"' in page.text
    # Prefilled from the record, not from the URL.
    assert page.context["form"]["payment"].value() == "medicaid"


def _links(text: str) -> list[str]:
    page = _Page()
    page.feed(text)
    return page.urls
