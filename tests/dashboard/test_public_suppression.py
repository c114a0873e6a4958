"""Issue 13 finding 6: no suppressed count of the public summary can be worked out, from one page
or from every page published month after month.

The attacker's solver here is written apart from ``referrals.suppression``: its unknowns are
each month's visits and placements (not-placed is their difference), it knows every cell and
every all-time total any page ever published (the 12-month table shows each month on 12 pages;
each page shows the totals through its month), and tries every linear combination of them (row
sums, column sums, month-to-month differences of totals) by Gaussian elimination over exact
fractions: a hidden count is recovered when its vector lies in the span of what is known. It
also tries the one non-linear step subtraction allows: hidden counts that add up to 0 are each
0."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from referrals.reports.suppression import MonthCounts, plan_publication

from . import builders
from .conftest import local

SMALL = 11


def _rank(rows: list[list[Fraction]]) -> int:
    rows = [list(row) for row in rows]
    rank, columns = 0, len(rows[0]) if rows else 0
    for column in range(columns):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][column] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for r in range(len(rows)):
            if r != rank and rows[r][column] != 0:
                factor = rows[r][column] / rows[rank][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank], strict=True)]
        rank += 1
    return rank


def _attack(months: list[MonthCounts], plans) -> list[str]:
    """Every hidden count under SMALL the solver recovers, by name."""
    n = len(months)
    size = 2 * n  # unknowns: w_0..w_{n-1}, p_0..p_{n-1}

    def w(m):
        return m

    def p(m):
        return n + m

    def unit(index, sign=1):
        row = [Fraction(0)] * size
        row[index] = Fraction(sign)
        return row

    known: list[list[Fraction]] = []
    for m, plan in enumerate(plans):
        if plan.walk_ins:
            known.append(unit(w(m)))
        if plan.placed:
            known.append(unit(p(m)))
        for flag, column in ((plan.total_walk_ins, w), (plan.total_placed, p)):
            if flag:
                row = [Fraction(0)] * size
                for k in range(m + 1):
                    row[column(k)] = Fraction(1)
                known.append(row)
    base = _rank(known) if known else 0
    recovered = []
    for m, month in enumerate(months):
        targets = {
            f"visits of month {m}": (month.walk_ins, unit(w(m)), plans[m].walk_ins),
            f"placements of month {m}": (month.placed, unit(p(m)), plans[m].placed),
        }
        not_placed = unit(w(m))
        not_placed[p(m)] = Fraction(-1)
        targets[f"not placed in month {m}"] = (
            month.walk_ins - month.placed,
            not_placed,
            plans[m].walk_ins and plans[m].placed,
        )
        for name, (value, vector, published) in targets.items():
            if published or value >= SMALL:
                continue
            if _rank([*known, vector]) == base:
                recovered.append(name)
    # Subtracting consecutive published totals gives a block's sum of hidden counts; if that is 0
    # each hidden count in it is 0.
    for column, flag_name, cell_name in (
        ("walk_ins", "total_walk_ins", "walk_ins"),
        ("placed", "total_placed", "placed"),
    ):
        previous = -1
        for m, plan in enumerate(plans):
            if not getattr(plan, flag_name):
                continue
            block = range(previous + 1, m + 1)
            hidden = [k for k in block if not getattr(plans[k], cell_name)]
            if hidden and sum(getattr(months[k], column) for k in hidden) == 0:
                recovered.append(f"zero {column} in months {hidden}")
            previous = m
    # First-time visitors are never published: consecutive published people totals must differ
    # by SMALL at least.
    people, last = 0, 0
    for m, (month, plan) in enumerate(zip(months, plans, strict=True)):
        people += month.new_people
        if plan.total_people:
            if people - last < SMALL:
                recovered.append(f"first-time visitors up to month {m}")
            last = people
    return recovered


@st.composite
def histories(draw):
    length = draw(st.integers(min_value=1, max_value=14))
    months = []
    for _ in range(length):
        # Small departments hide much; mix in big months so totals get published too.
        walk_ins = draw(st.one_of(st.integers(0, 14), st.integers(0, 60)))
        placed = draw(st.integers(0, walk_ins))
        new_people = draw(st.integers(0, walk_ins))
        months.append(MonthCounts(walk_ins, placed, new_people))
    return months


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_no_hidden_count_is_recoverable_from_every_page_ever_published(months):
    plans = plan_publication(months, small=SMALL)

    assert _attack(months, plans) == []
    # Each page is planned over the months up to it: every earlier page agrees with this one.
    for upto in range(1, len(months)):
        assert plan_publication(months[:upto], small=SMALL) == plans[:upto]
    # Nothing under SMALL is published as such.
    for month, plan in zip(months, plans, strict=True):
        assert not plan.walk_ins or month.walk_ins >= SMALL
        assert not plan.placed or month.placed >= SMALL


@pytest.mark.parametrize(
    "months",
    [
        # The tester's case: March 11, April 4; a page in April says 11, a page in May 15.
        [MonthCounts(11, 0, 11), MonthCounts(4, 0, 4)],
        # One small month among big ones, then more big months.
        [MonthCounts(40, 20, 40), MonthCounts(3, 1, 3), MonthCounts(50, 25, 30), MonthCounts(45, 20, 20)],
        # Placements one short of the visits (1 not placed).
        [MonthCounts(30, 29, 30), MonthCounts(30, 12, 25)],
        # Empty months.
        [MonthCounts(0, 0, 0), MonthCounts(0, 0, 0), MonthCounts(25, 12, 25)],
    ],
)
def test_the_known_attacks_recover_nothing(months):
    assert _attack(months, plan_publication(months, small=SMALL)) == []


def test_the_solver_finds_what_the_old_rule_published():
    """The solver is not blind: on what the summary published before (every total above 10,
    the single small month and the smallest other hidden), it recovers April's 4."""
    from referrals.reports.suppression import MonthPlan

    months = [MonthCounts(11, 0, 11), MonthCounts(4, 0, 4)]
    old = [
        MonthPlan(walk_ins=True, placed=False, total_walk_ins=True, total_placed=False, total_people=True),
        MonthPlan(walk_ins=False, placed=False, total_walk_ins=True, total_placed=False, total_people=True),
    ]
    assert "visits of month 1" in _attack(months, old)
    assert "first-time visitors up to month 1" in _attack(months, old)


def _total(department, day) -> dict:
    with time_machine.travel(day, tick=False):
        return Client().get(reverse("public:department_json", args=[department.pk])).json()


@pytest.mark.django_db
def test_the_pages_of_two_months_do_not_give_away_a_hidden_month(department, officer):
    """March 11 walk-ins, April 4: April's page (through March) and May's (through April)."""
    for month, count in ((3, 11), (4, 4)):
        for n in range(count):
            builders.walk_in(
                person=builders.person(department, f"S{month}-{n}"),
                officer=officer,
                arrived_at=local(month, 1 + n, 9) + timedelta(minutes=n),
            )

    april, may = _total(department, local(4, 14, 15)), _total(department, local(5, 14, 15))

    assert april["totals"]["walk_ins"] == {"value": 11, "suppressed": False}
    april_row = next(m for m in may["months"] if m["month"] == "2025-04")
    assert april_row["walk_ins"]["suppressed"]
    # May's page may not publish 15: 15 - 11 would be April's hidden 4.
    assert may["totals"]["walk_ins"]["suppressed"]
    assert may["totals"]["people"]["suppressed"]
