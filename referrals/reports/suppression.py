"""Which counts of the public summary may be published: primary and complementary suppression.

The public summary (``referrals.reports.public.public_summary``) is published every month. Over the
months, a reader collects every page: each month's visits and placements (while in the 12-month
table) and, from each page, the all-time totals through that month. Totals of consecutive pages
differ by one month's count: a hidden month would be the difference of two published totals.

So the publication is planned over the department's whole history, month by month in order (a
month's decisions depend only on it and the months before it, so every page, whenever it was
read, agrees with every later one as long as the counts of past months do not change):

- Cells. Each month has visits ``w``, placements ``p`` and, never published, visits not placed
  ``w - p``. A count under ``SMALL_CELL`` (zero included) is not published (primary
  suppression). When the visits and the placements are published but the difference is small,
  the placements are hidden too (complementary suppression in the row).
- Totals. A month's all-time total of visits (or placements) is published only if, added to
  every equation published so far (each month's ``w = p + (w - p)``, every earlier published
  total), it does not determine any hidden small count: ``_Equations`` keeps those equations in
  reduced row echelon form with exact fractions, and a hidden value is determined when a unit
  vector is in their row space (or when a sum of hidden counts with positive coefficients is
  zero: each is then zero). If the total would, that month's own count is hidden with it
  (complementary suppression across months: the newest month is the only one not already
  published) and the total is published if that is enough; otherwise it is withheld.
- People. Distinct people are not additive by month; the all-time count of people grows by the
  month's first-time visitors, never published. The total is published only when it differs
  from the last published one by at least ``SMALL_CELL``, so no small number of first-time
  visitors can be worked out.

``tests/dashboard/test_public_suppression.py`` checks this with its own solver over many
generated histories.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

Variable = tuple[str, int]  # ("w" | "p" | "n", month index): visits, placed, not placed


@dataclass(frozen=True)
class MonthCounts:
    walk_ins: int
    placed: int
    new_people: int = 0


@dataclass
class MonthPlan:
    """What may be published for one month: its cells, and the totals through it."""

    walk_ins: bool
    placed: bool
    total_walk_ins: bool = False
    total_placed: bool = False
    total_people: bool = False


class _Equations:
    """Linear equations over hidden counts, kept in reduced row echelon form (exact). ``mark``
    and ``undo`` try an equation and take it back without copying the others."""

    def __init__(self) -> None:
        # pivot → (coefficients including the pivot's 1, right-hand side)
        self.rows: dict[Variable, tuple[dict[Variable, Fraction], Fraction]] = {}
        self._journal: list[tuple[Variable, tuple | None]] = []

    def mark(self) -> int:
        return len(self._journal)

    def undo(self, mark: int) -> None:
        while len(self._journal) > mark:
            pivot, previous = self._journal.pop()
            if previous is None:
                del self.rows[pivot]
            else:
                self.rows[pivot] = previous

    def _set(self, pivot: Variable, value: tuple) -> None:
        self._journal.append((pivot, self.rows.get(pivot)))
        self.rows[pivot] = value

    def add(self, coefficients: dict[Variable, int], rhs: int) -> None:
        row = {var: Fraction(c) for var, c in coefficients.items() if c}
        value = Fraction(rhs)
        for var in [var for var in row if var in self.rows]:
            factor = row.get(var)
            if not factor:
                continue
            pivot_row, pivot_rhs = self.rows[var]
            for other, c in pivot_row.items():
                row[other] = row.get(other, 0) - factor * c
            value -= factor * pivot_rhs
            row = {other: c for other, c in row.items() if c}
        if not row:
            return  # implied by the others: tells nothing new
        pivot = min(row)
        scale = row[pivot]
        row = {var: c / scale for var, c in row.items()}
        value /= scale
        for other, (other_row, other_rhs) in list(self.rows.items()):
            factor = other_row.get(pivot)
            if factor:
                reduced = dict(other_row)
                for var, c in row.items():
                    reduced[var] = reduced.get(var, 0) - factor * c
                self._set(other, ({v: c for v, c in reduced.items() if c}, other_rhs - factor * value))
        self._set(pivot, (row, value))

    def determined(self, since: int = 0) -> set[Variable]:
        """Hidden counts whose value follows from the equations (from the rows changed since
        the mark ``since``: the others were looked at before)."""
        known = set()
        pivots = {pivot for pivot, _ in self._journal[since:]} if since else set(self.rows)
        for pivot in pivots:
            if pivot not in self.rows:
                continue
            row, rhs = self.rows[pivot]
            if len(row) == 1:
                known.add(pivot)
            elif rhs == 0 and (all(c > 0 for c in row.values()) or all(c < 0 for c in row.values())):
                known.update(row)  # counts are never negative: each of these is zero
        return known


@dataclass
class _Planner:
    small: int
    months: list[MonthCounts]
    equations: _Equations = field(default_factory=_Equations)
    plans: list[MonthPlan] = field(default_factory=list)

    def value(self, var: Variable) -> int:
        kind, index = var
        month = self.months[index]
        return {"w": month.walk_ins, "p": month.placed, "n": month.walk_ins - month.placed}[kind]

    def hidden(self, index: int, plan: MonthPlan) -> set[Variable]:
        hidden = {("n", index)} if not (plan.walk_ins and plan.placed) else set()
        if not plan.walk_ins:
            hidden.add(("w", index))
        if not plan.placed:
            hidden.add(("p", index))
        return hidden

    def row_equation(self, index: int, plan: MonthPlan) -> tuple[dict[Variable, int], int]:
        """w - p - n = 0 over the month's hidden counts (known ones moved to the right)."""
        hidden = self.hidden(index, plan)
        coefficients, rhs = {}, 0
        for kind, sign in (("w", 1), ("p", -1), ("n", -1)):
            var = (kind, index)
            if var in hidden:
                coefficients[var] = sign
            else:
                rhs -= sign * self.value(var)
        return coefficients, rhs

    def total_equation(self, kind: str, upto: int, plan: MonthPlan) -> tuple[dict[Variable, int], int]:
        coefficients, rhs = {}, 0
        for index in range(upto + 1):
            month_plan = plan if index == upto else self.plans[index]
            var = (kind, index)
            rhs += self.value(var)
            if var in self.hidden(index, month_plan):
                coefficients[var] = 1
            else:
                rhs -= self.value(var)
        return coefficients, rhs

    def safe(self, since: int) -> bool:
        return all(self.value(var) >= self.small for var in self.equations.determined(since))

    def safe_with_month(
        self, index: int, plan: MonthPlan, totals: tuple[str, ...], keep: bool = False
    ) -> bool:
        """Whether the month's row and ``totals`` keep every small hidden count hidden; the
        equations are kept only with ``keep``."""
        mark = self.equations.mark()
        self.equations.add(*self.row_equation(index, plan))
        for kind in totals:
            self.equations.add(*self.total_equation(kind, index, plan))
        safe = self.safe(mark)
        if not keep:
            self.equations.undo(mark)
        return safe

    def plan_month(self, index: int) -> MonthPlan:
        month = self.months[index]
        plan = MonthPlan(walk_ins=month.walk_ins >= self.small, placed=month.placed >= self.small)
        if plan.walk_ins and plan.placed and month.walk_ins - month.placed < self.small:
            plan.placed = False
        published: list[str] = []
        for kind, cell in (("w", "walk_ins"), ("p", "placed")):
            if not self.safe_with_month(index, plan, (*published, kind)) and getattr(plan, cell):
                setattr(plan, cell, False)  # complementary: this month's count goes with it
            if self.safe_with_month(index, plan, (*published, kind)):
                published.append(kind)
        # Hiding more never reveals more: what was safe above stays safe with every total kept.
        if not self.safe_with_month(index, plan, tuple(published), keep=True):  # pragma: no cover
            raise RuntimeError("the suppression plan left a small count recoverable")
        plan.total_walk_ins = "w" in published
        plan.total_placed = "p" in published
        return plan

    def run(self) -> list[MonthPlan]:
        last_people = 0
        people = 0
        for index, month in enumerate(self.months):
            plan = self.plan_month(index)
            people += month.new_people
            if people - last_people >= self.small:
                plan.total_people = True
                last_people = people
            self.plans.append(plan)
        return self.plans


def plan_publication(months: list[MonthCounts], *, small: int) -> list[MonthPlan]:
    """The publication plan of a department's whole history of months, oldest first (see the
    module docstring). The last plan's totals are those the current page may show."""
    return _Planner(small=small, months=months).run()
