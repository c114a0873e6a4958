"""Nobody answers: after the wave time the next wave is paged, and then the coordinators.

The department's paging settings are shortened to the least they allow (one volunteer a wave,
one minute a wave, coordinators after the first wave goes unanswered), and the test waits for
them for real: the real worker and beat's paging sweep do the rest, as in production.
"""

from __future__ import annotations

import re

import pytest

from notifications.backends import InMemorySmsBackend

from .conftest import COORDINATOR_PHONE
from .helpers import expect, htmx_settled, sign_in, texts_to, wait_for_sms

pytestmark = pytest.mark.e2e

# One minute a wave, and up to 10 s for the paging panel's next refresh; then some slack.
NEXT_WAVE_TIMEOUT = 100


def test_nobody_accepts_so_the_next_wave_and_then_the_coordinators_are_paged(browse, program, celery_running):
    department = program.department
    department.wave_size = 1
    department.wave_minutes = 1
    department.escalate_after_waves = 1
    department.escalate_after_minutes = 15
    department.save()
    first, second = program.volunteers

    desk = browse.desktop()
    officer = desk.page
    sign_in(officer, "officer")
    officer.goto("/intake/new/")
    officer.get_by_label("First name or alias").fill("Lee")
    officer.get_by_label("Or approximate age").fill("41")
    officer.get_by_label("Outstanding warrant").select_option("none")
    officer.get_by_role("button", name="Save and page a companion").click()
    expect(officer.get_by_role("heading", name="Lee")).to_be_visible()

    panel = officer.locator("#paging-panel")
    expect(panel.get_by_role("row").filter(has_text="wave 1")).to_have_count(1, timeout=15_000)
    wave_one = wait_for_sms(to=str(first.phone), containing="someone needs a companion")
    assert texts_to(str(second.phone)) == []
    assert texts_to(COORDINATOR_PHONE) == []
    htmx_settled(officer)
    desk.check("escalation-1-first-wave")

    # Nobody answers. A minute later the sweep sends the second wave, then pages the coordinators.
    wave_two = wait_for_sms(
        to=str(second.phone), containing="someone needs a companion", timeout=NEXT_WAVE_TIMEOUT
    )
    coordinator_text = wait_for_sms(to=COORDINATOR_PHONE, containing="nobody has accepted yet", timeout=10)
    outbox = list(InMemorySmsBackend.outbox)
    assert outbox.index(wave_one) < outbox.index(wave_two) < outbox.index(coordinator_text)
    assert "Lee" not in coordinator_text.body

    expect(panel.get_by_role("row").filter(has_text="wave 2")).to_have_count(1, timeout=15_000)
    expect(panel.get_by_role("row").filter(has_text="wave 2")).to_contain_text(second.user.first_name)
    expect(panel.get_by_role("status")).to_contain_text(re.compile(r"Coordinators were paged at \d"))
    htmx_settled(officer)
    desk.check("escalation-2-coordinators-paged")

    # The coordinator sees it on the live board.
    board = browse.desktop()
    sign_in(board.page, "coordinator")
    waiting = board.page.locator(
        "section", has=board.page.get_by_role("heading", name="Waiting for a companion")
    )
    row = waiting.get_by_role("row").filter(has_text="Lee")
    expect(row).to_contain_text("Coordinators paged")
    expect(row).to_contain_text("2 asked")
    board.check("escalation-3-board")
