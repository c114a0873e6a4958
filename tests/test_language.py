"""The interface speaks of a person who asked for help and their companion: never of a suspect,
an offender or an addict. Every template and every user-facing module is read for those words,
and the pages people see most are rendered and read too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from volunteers.paging.tokens import offer_link

from .conftest import client_for
from .factories import IntakeFactory, OfferFactory, PersonFactory

# Whole words only: "addiction" (the program's subject) is fine, "addict" is not; and "criminal
# charges", in the 42 CFR notice that says records may never be used for them, is the law's own.
STIGMA = re.compile(
    r"\b(suspects?|offenders?|perpetrators?|addicts?|abusers?|junkies?|junkie)\b",
    re.IGNORECASE,
)
ROOT = Path(settings.BASE_DIR)
APPS = ["accounts", "intake", "volunteers", "referrals", "notifications", "config"]


def _stigma_in(path: Path) -> list[str]:
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        found += [f"{path.relative_to(ROOT)}:{number}: {match}" for match in STIGMA.findall(line)]
    return found


def test_no_template_uses_stigmatising_words():
    templates = sorted((ROOT / "templates").rglob("*.*"))
    assert len(templates) > 50
    found = [hit for path in templates for hit in _stigma_in(path)]
    assert not found, "Use 'person', 'companion', 'asked for help':\n" + "\n".join(found)


def test_no_message_label_or_choice_in_the_code_uses_them():
    sources = sorted(path for app in APPS for path in (ROOT / app).rglob("*.py"))
    sources += sorted((ROOT / "static" / "js").glob("*.js"))
    found = [hit for path in sources for hit in _stigma_in(path)]
    assert not found, "\n".join(found)


@pytest.mark.django_db
def test_the_pages_people_see_most_speak_plainly_and_kindly(department, officer, coordinator, volunteer_user):
    person = PersonFactory(department=department, first_name="Wren")
    intake = IntakeFactory(department=department, person=person, logged_by=officer)
    offer = OfferFactory(intake=intake, volunteer=volunteer_user.volunteer)
    pages = {
        officer: [
            reverse("intake:desk"),
            reverse("intake:create"),
            reverse("intake:detail", args=[intake.pk]),
        ],
        coordinator: [reverse("dashboard:board"), reverse("dashboard:figures"), reverse("intake:list")],
        volunteer_user: [reverse("volunteers:home"), offer_link(offer)],
    }
    seen = ""
    for user, urls in pages.items():
        client = client_for(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            text = response.content.decode()
            assert not STIGMA.search(text), f"{url}: {STIGMA.search(text).group(0)}"
            seen += text
    for word in ("person", "companion", "asking for help"):
        assert word in seen.lower(), f"the pages never say {word!r}"


def test_the_rule_catches_what_it_should_and_spares_addiction():
    assert STIGMA.search("The suspect walked in")
    assert STIGMA.search("Offenders")
    assert not STIGMA.search("help with addiction")
