"""Browser journeys: Playwright for Python drives Debian's Chromium (never a downloaded browser)
against a live server on the real PostgreSQL test database, while a real Celery worker on the
real broker runs the paging and the outbox, and a beat thread sends beat's periodic tasks.

Run with ``make test-e2e``. Chromium missing is a failure, not a skip: install it with
``apt-get install chromium`` (CI does).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect, sync_playwright

from accounts.models import Role
from referrals.models import Facility, LevelOfCare, Payment
from volunteers.models import Volunteer

from ..celery_worker import broker_queue, running_beat, running_worker
from ..factories import DepartmentFactory, ShiftFactory, VolunteerFactory, user_with_role
from .helpers import DESKTOP_WIDTH, PHONE_WIDTH, Problems, check_page, watch

CHROMIUM = Path(os.environ.get("HARBOR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# How long one step may take (a page to load, an element to show), for actions and assertions
# alike: generous, since CI machines are shared; waits for live updates set their own.
STEP_TIMEOUT_MS = 15_000
expect.set_options(timeout=STEP_TIMEOUT_MS)

# The officer's and coordinator's desktop, and a volunteer's phone (an iPhone 13's CSS size).
DESKTOP = {"viewport": {"width": DESKTOP_WIDTH, "height": 800}}
PHONE = {
    "viewport": {"width": PHONE_WIDTH, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the browser journeys need it. "
            "Install Debian's package (apt-get install chromium) or set HARBOR_CHROMIUM."
        )
    # Playwright's synchronous API keeps an asyncio loop in this thread; the test's own ORM calls
    # (arranging data, reading results) are synchronous and safe here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def site(live_server, settings) -> str:
    """The live server's address; the links in text messages point at it."""
    settings.HARBOR_SITE_URL = live_server.url
    return live_server.url


@pytest.fixture
def celery_running(site) -> Iterator[None]:
    """A real worker on a queue of this test's own, and beat's periodic tasks every second."""
    with broker_queue() as queue, running_worker(queue), running_beat(every=1.0):
        yield


@dataclass
class Tab:
    """One person's browser: a page, the errors it logged, and the width it is designed for."""

    page: Page
    problems: Problems
    width: int

    def check(self, name: str) -> None:
        check_page(self.page, self.problems, name, width=self.width)

    def allow_console_error(self, text: str) -> None:
        self.problems.allowed.append(text)


class Browsing:
    def __init__(self, browser: Browser, site: str) -> None:
        self.browser, self.site = browser, site
        self.tabs: list[Tab] = []
        self.contexts = []

    def _open(self, options: dict, width: int) -> Tab:
        context = self.browser.new_context(
            base_url=self.site, locale="en-US", timezone_id="America/New_York", **options
        )
        context.set_default_timeout(STEP_TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        tab = Tab(page=page, problems=watch(page), width=width)
        self.tabs.append(tab)
        return tab

    def desktop(self) -> Tab:
        return self._open(DESKTOP, DESKTOP_WIDTH)

    def phone(self) -> Tab:
        return self._open(PHONE, PHONE_WIDTH)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browse(browser, site) -> Iterator[Browsing]:
    """``browse.desktop()`` / ``browse.phone()``: a fresh browser per person. Any console error
    or uncaught exception left unchecked at the end fails the test."""
    browsing = Browsing(browser, site)
    yield browsing
    browsing.close()
    leftover = [message for tab in browsing.tabs for message in tab.problems.messages]
    assert not leftover, "The browser logged errors:\n" + "\n".join(leftover)


# --- the program: one department, its staff, volunteers on call, a facility -------------------


@dataclass
class Program:
    department: object
    officer: object
    coordinator: object
    volunteers: list[Volunteer]
    facility: Facility


COORDINATOR_PHONE = "+19785550190"


def on_call(department, username: str, first_name: str, phone: str, **fields) -> Volunteer:
    user = user_with_role(Role.VOLUNTEER, department, username=username, first_name=first_name)
    volunteer = VolunteerFactory(user=user, phone=phone, **fields)
    volunteer.departments.add(department)
    ShiftFactory(
        volunteer=volunteer,
        department=department,
        starts_at=timezone.now() - timedelta(hours=1),
    )
    return volunteer


@pytest.fixture
def program(transactional_db) -> Program:
    department = DepartmentFactory(name="Gloucester Police Department", wave_size=2)
    officer = user_with_role(
        Role.DESK_OFFICER, department, username="officer", first_name="Pat", last_name="Quinn"
    )
    coordinator = user_with_role(
        Role.COORDINATOR,
        department,
        username="coordinator",
        first_name="Robin",
        last_name="Hale",
        phone=COORDINATOR_PHONE,
    )
    volunteers = [
        on_call(department, "jamie", "Jamie", "+19785550101", lived_experience=True),
        on_call(department, "sam", "Sam", "+19785550102"),
    ]
    facility = Facility.objects.create(
        name="Beverly Recovery Center",
        street_address="12 Elliott Street",
        town="Beverly",
        phone="+19789225000",
        levels_of_care=[LevelOfCare.WM_37, LevelOfCare.CLINICALLY_MANAGED_HIGH],
        payment_accepted=[Payment.MEDICAID, Payment.PRIVATE],
        beds_available=3,
        capacity_updated_at=timezone.now(),
    )
    # Directories hold long names: the phone's facility list must still fit the screen.
    Facility.objects.create(
        name="Northeast Behavioral Health Acute Treatment Services and Clinical Stabilization Services",
        street_address="140 Maple Street",
        town="Danvers",
        levels_of_care=[LevelOfCare.WM_37],
        payment_accepted=[Payment.MEDICAID],
    )
    return Program(department, officer, coordinator, volunteers, facility)
