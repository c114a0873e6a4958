"""What every browser journey does at each step: sign in, check the page, keep a screenshot.

``sign_in`` is the one place that knows how the browser signs in: the password, then, where
Harbor asks, two-factor sign-in (setting up the authenticator app on a first sign-in, or the
6-digit code it shows), as a person with an authenticator app on their phone would.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from playwright.sync_api import Page, expect

from notifications.backends import InMemorySmsBackend, SentSms

from ..conftest import code_from_setup_key, current_code
from ..factories import PASSWORD

AXE_SCRIPT = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
# WCAG 2.x A and AA, and axe's best practices; only serious and critical findings fail a page.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
FAILING_IMPACTS = {"serious", "critical"}

SCREENSHOT_DIR = Path(os.environ.get("HARBOR_SCREENSHOT_DIR") or settings.BASE_DIR / "var" / "screenshots")

DESKTOP_WIDTH = 1280
PHONE_WIDTH = 390


# --- signing in --------------------------------------------------------------------------------


def sign_in(page: Page, username: str, password: str = PASSWORD, *, check=None) -> None:
    """Sign in through the sign-in form: on the page if it is showing it (a link that asked
    for sign-in), else from the sign-in page. Returns once the browser has left the sign-in
    pages. ``check`` (called with a step name) checks each two-factor page on the way."""
    login_path = "/accounts/login/"
    if not page.url or login_path not in page.url:
        page.goto(login_path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: login_path not in url)
    if SETUP_PATH in page.url:
        _enrol_authenticator(page, check)
    elif VERIFY_PATH in page.url:
        _enter_code(page, username, check)


SETUP_PATH = "/accounts/two-factor/setup/"
VERIFY_PATH = "/accounts/two-factor/"


def _enrol_authenticator(page: Page, check) -> None:
    """First sign-in of staff: 'scan' the code by typing the setup key into an app (computed
    here), enter its code, and continue past the recovery codes."""
    if check:
        check("two-factor-setup")
    page.get_by_label("6-digit code").fill(code_from_setup_key(page.locator("#setup-key").inner_text()))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    if check:
        check("recovery-codes")
    page.get_by_role("link", name="I have saved them — continue").click()
    page.wait_for_url(lambda url: "/accounts/two-factor/" not in url)


def _enter_code(page: Page, username: str, check) -> None:
    """A later sign-in: the code the user's app shows now. A code works once; if this 30-second
    window's code was already used (two sign-ins in a row), the app's next one."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if check:
        check("two-factor-code")
    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    for _ in range(2):
        page.get_by_label("6-digit code").fill(current_code(device))
        page.get_by_role("button", name="Continue").click()
        page.wait_for_load_state()
        if VERIFY_PATH not in page.url:
            return
        time.sleep(31 - time.time() % 30)
    raise AssertionError(f"{username}'s code was refused twice")


# --- what each page must pass ------------------------------------------------------------------


@dataclass
class Problems:
    """Console errors and uncaught exceptions of one page, kept for the test to fail on."""

    messages: list[str] = field(default_factory=list)
    # Substrings of console errors a step expects (a 404 page logs its own 404).
    allowed: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        if not any(allowed in text for allowed in self.allowed):
            self.messages.append(text)


def watch(page: Page) -> Problems:
    problems = Problems()
    page.on(
        "console",
        lambda message: (
            problems.add(f"console.{message.type}: {message.text} ({message.location.get('url', '')})")
            if message.type in ("error", "assert")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.add(f"uncaught {error.name}: {error.message}"))
    return problems


def axe_violations(page: Page) -> list[dict]:
    """Run the vendored axe-core on the page (evaluated through the DevTools protocol, so the
    page's Content Security Policy, which allows no inline script, does not need loosening)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    results = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [v for v in results["violations"] if v.get("impact") in FAILING_IMPACTS]


def _describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = [", ".join(node["target"]) for node in violation["nodes"][:5]]
        lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']} at {targets}")
        for node in violation["nodes"][:2]:
            lines.append(f"    {node.get('failureSummary', '').replace(chr(10), ' ')}")
    return "\n".join(lines)


def overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0 when no sideways scrolling)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


# The navigation bar is one line (about 56 px); two lines of links would be over 80.
NAVBAR_MAX_HEIGHT = 72


def navbar_height(page: Page) -> float:
    return page.evaluate(
        "() => { const nav = document.querySelector('nav.navbar');"
        " return nav ? nav.getBoundingClientRect().height : 0; }"
    )


def check_page(page: Page, problems: Problems, name: str, *, width: int) -> None:
    """One step of a journey: the page passes axe (no serious or critical violation), fits the
    window it is designed for without sideways scrolling and with the navigation on one line,
    and has logged no error. A full-page screenshot is kept as ``<SCREENSHOT_DIR>/<name>.png``."""
    page.wait_for_load_state("load")
    viewport = page.viewport_size or {}
    assert viewport.get("width") == width, f"{name}: expected a {width}px window, got {viewport}"
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOT_DIR / f"{name}.png", full_page=True)
    violations = axe_violations(page)
    assert not violations, f"{name} ({page.url}) has accessibility violations:\n{_describe(violations)}"
    extra = overflow(page)
    assert extra <= 0, f"{name} ({page.url}) is {extra}px wider than a {width}px window"
    nav = navbar_height(page)
    assert nav <= NAVBAR_MAX_HEIGHT, f"{name} ({page.url}): the navigation wraps ({nav}px high)"
    assert not problems.messages, f"{name} ({page.url}) logged errors:\n" + "\n".join(problems.messages)


def htmx_settled(page: Page) -> None:
    """Wait until no htmx request is in flight (the swap that follows is synchronous)."""
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


# --- text messages -------------------------------------------------------------------------------

LINK = re.compile(r"https?://\S+/volunteers/offers/[^/\s]+/")


def wait_for_sms(*, to: str, containing: str = "", timeout: float = 20) -> SentSms:
    """The first text message to ``to`` (containing ``containing``) in the test outbox, which the
    real Celery worker fills; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        for sms in list(InMemorySmsBackend.outbox):
            if sms.to == to and containing in sms.body:
                return sms
        if time.monotonic() > deadline:
            sent = [f"{m.to}: {m.body}" for m in InMemorySmsBackend.outbox]
            raise AssertionError(
                f"No text to {to} containing {containing!r} within {timeout} s; sent: {sent}"
            )
        time.sleep(0.1)


def texts_to(number: str) -> list[SentSms]:
    return [sms for sms in list(InMemorySmsBackend.outbox) if sms.to == number]


def link_in(sms: SentSms) -> str:
    match = LINK.search(sms.body)
    assert match, f"no offer link in {sms.body!r}"
    return match.group(0)


__all__ = [
    "DESKTOP_WIDTH",
    "PHONE_WIDTH",
    "Problems",
    "check_page",
    "expect",
    "htmx_settled",
    "link_in",
    "sign_in",
    "texts_to",
    "wait_for_sms",
    "watch",
]
