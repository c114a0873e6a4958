"""The program figures as CSV rows (the figures page's download): aggregates only, and no cell a
spreadsheet would run as a formula."""

from __future__ import annotations

from .figures import ProgramFigures, _percent

# Spreadsheet programs run a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return f"'{value}"
    return str(value)


def figures_rows(figures: ProgramFigures) -> list[tuple[str, str, str]]:
    """The figures as (section, name, value) rows for the CSV export: aggregates only."""
    period = figures.period
    rows: list[tuple[str, str, object]] = [
        ("period", "first_day", period.start.isoformat()),
        ("period", "last_day", period.end.isoformat()),
        ("period", "time_zone", str(period.time_zone)),
        *(("department", str(department.pk), department.name) for department in figures.departments),
        ("walk_ins", "walk_ins", figures.walk_ins),
        ("walk_ins", "people", figures.people),
        ("walk_ins", "repeat_visits", figures.repeat_visits),
        ("walk_ins", "placed", figures.placed),
        ("walk_ins", "admitted", figures.admitted),
        ("walk_ins", "share_placed_percent", _percent(figures.share_placed)),
    ]
    for duration in figures.durations:
        section = f"minutes_walk_in_to_{duration.key}"
        rows += [
            (section, "cases", duration.cases),
            (section, "median", duration.median),
            (section, "p90", duration.p90),
        ]
    rows += [("placements_by_level_of_care", value, n) for value, _, n in figures.by_level_of_care]
    rows += [("placements_by_facility", name, n) for name, n in figures.by_facility]
    rows += [("no_bed_reasons", value, n) for value, _, n in figures.no_bed_reasons]
    response = figures.volunteer_response
    rows += [
        ("volunteer_response", name, getattr(response, name))
        for name in (
            "offers",
            "accepted",
            "declined",
            "expired",
            "withdrawn",
            "pending",
            "median_minutes_to_accept",
            "p90_minutes_to_accept",
        )
    ]
    rows += [
        ("roster_gap_hours_next_7_days", gaps.department.name, gaps.gap_hours) for gaps in figures.roster_gaps
    ]
    for name, points in (("weekly", figures.weekly), ("monthly", figures.monthly)):
        for point in points:
            rows += [
                (f"{name}_walk_ins", point.starts_on.isoformat(), point.walk_ins),
                (f"{name}_placed", point.starts_on.isoformat(), point.placed),
            ]
    return [(section, _cell(name), _cell(value)) for section, name, value in rows]
