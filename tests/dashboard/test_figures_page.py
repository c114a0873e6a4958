"""The figures page, its filters and the CSV export."""

from __future__ import annotations

import csv
import io
import json

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Membership, Role

from ..conftest import client_for
from ..factories import FacilityFactory
from . import builders
from .conftest import local

FIGURES = reverse("dashboard:figures")
CSV = reverse("dashboard:figures_csv")
MARCH_QUERY = {"start": "2025-03-01", "end": "2025-03-31"}


def _figure(response, key: str) -> str:
    """The text of the cell marked data-figure=key (a light parse, enough for these tables)."""
    html = response.text
    start = html.index(f'data-figure="{key}"')
    return html[html.index(">", start) + 1 : html.index("</td>", start)].strip()


def test_the_figures_page_shows_every_figure(coordinator_client, march):
    response = coordinator_client.get(FIGURES, MARCH_QUERY)

    assert response.status_code == 200
    assert _figure(response, "walk_ins") == "6"
    assert _figure(response, "people") == "5"
    assert _figure(response, "repeat_visits") == "2"
    assert _figure(response, "placed") == "3 (50.0%)"
    assert '<td class="text-end">6.0</td>' in response.text  # walk-in → companion accepted, median
    assert '<td class="text-end">9.2</td>' in response.text  # and its 90th percentile
    assert "Harbor House" in response.text
    assert "3.7-WM — Medically monitored inpatient withdrawal management" in response.text
    assert "Roster gaps in the next 7 days" in response.text


def test_the_chart_data_is_passed_with_json_script_and_drawn_by_a_static_file(coordinator_client, march):
    response = coordinator_client.get(FIGURES, MARCH_QUERY)
    html = response.text

    start = html.index('<script id="chart-data" type="application/json">')
    data = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    assert data["monthly"] == {"labels": ["Mar 2025"], "walk_ins": [6], "placed": [3]}
    assert data["weekly"]["walk_ins"] == [0, 4, 0, 2, 0, 0]
    assert data["weekly"]["labels"][1] == "Mar 3, 2025"
    assert "vendor/chartjs-4.6.1/chart.umd.min.js" in html
    assert "js/dashboard.js" in html
    # No inline script: every <script> either loads a file or carries JSON data.
    for chunk in html.split("<script")[1:]:
        tag = chunk[: chunk.index(">")]
        assert "src=" in tag or 'type="application/json"' in tag


def test_the_numbers_behind_the_charts_are_in_tables(coordinator_client, march):
    response = coordinator_client.get(FIGURES, MARCH_QUERY)

    assert 'id="figures-weekly"' in response.text
    assert 'id="figures-monthly"' in response.text
    assert '<th scope="row">March 2025</th><td class="text-end">6</td><td class="text-end">3</td>' in (
        response.text
    )


def test_the_default_period_is_the_last_twelve_months(coordinator_client, department, officer):
    with time_machine.travel(local(3, 15, 12), tick=False):
        builders.walk_in(person=builders.person(department, "Old"), officer=officer, arrived_at=local(3, 10))
        builders.walk_in(
            person=builders.person(department, "Older"), officer=officer, arrived_at=local(2, 28)
        )
        response = coordinator_client.get(FIGURES)

    assert response.status_code == 200
    figures = response.context["figures"]
    assert (str(figures.period.start), str(figures.period.end)) == ("2024-04-01", "2025-03-15")
    assert figures.walk_ins == 2
    assert len(figures.monthly) == 12


def test_a_coordinator_of_another_department_cannot_ask_for_its_figures(march, department, other_coordinator):
    client = client_for(other_coordinator)

    response = client.get(FIGURES, {**MARCH_QUERY, "department": department.pk})
    export = client.get(CSV, {**MARCH_QUERY, "department": department.pk})

    assert response.status_code == 400
    assert "You can only choose departments you coordinate." in response.text
    assert "figures" not in response.context or response.context.get("figures") is None
    assert "Harbor House" not in response.text
    assert export.status_code == 400
    assert "You can only choose departments you coordinate." in export.text


def test_without_a_filter_each_coordinator_sees_only_their_own_departments(march, other_coordinator):
    response = client_for(other_coordinator).get(FIGURES, MARCH_QUERY)

    figures = response.context["figures"]
    # Only the other department's one walk-in of March.
    assert figures.walk_ins == 1
    assert [d.name for d in figures.departments] == ["Rockport Police Department"]


def test_a_coordinator_of_two_departments_can_choose_one_or_both(
    march, coordinator, department, other_department
):
    Membership.objects.create(user=coordinator, department=other_department, role=Role.COORDINATOR)
    client = client_for(coordinator)

    both_page = client.get(FIGURES, MARCH_QUERY)
    both = both_page.context["figures"]
    one = client.get(FIGURES, {**MARCH_QUERY, "department": other_department.pk}).context["figures"]

    assert both.walk_ins == 7
    assert one.walk_ins == 1
    assert f"in {department.name}, {other_department.name}." in both_page.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2025-03-31", "end": "2025-03-01"}, "The last day must be on or after the first day."),
        ({"start": "1999-12-31", "end": "2025-03-01"}, "Choose a day between 2000 and 2100."),
        ({"start": "2000-01-01", "end": "2025-03-01"}, "Choose a period of at most ten years."),
        ({"start": "not a date"}, "Enter a valid date."),
        ({"start": "99999-01-01"}, "Enter a valid date."),
        ({"department": "x"}, "You can only choose departments you coordinate."),
        ({"department": "99999999999999999999999"}, "You can only choose departments you coordinate."),
    ],
)
def test_impossible_filters_are_refused_with_a_clear_message(coordinator_client, department, query, message):
    response = coordinator_client.get(FIGURES, query)
    export = coordinator_client.get(CSV, query)

    assert response.status_code == 400
    assert message in response.text
    assert export.status_code == 400
    assert message in export.text


def test_the_csv_export_holds_the_same_aggregates(coordinator_client, march):
    response = coordinator_client.get(CSV, MARCH_QUERY)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="harbor-figures-2025-03-01-to-2025-03-31.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "name", "value"]
    values = {(section, name): value for section, name, value in rows[1:]}
    assert values[("walk_ins", "walk_ins")] == "6"
    assert values[("walk_ins", "people")] == "5"
    assert values[("walk_ins", "repeat_visits")] == "2"
    assert values[("walk_ins", "placed")] == "3"
    assert values[("walk_ins", "share_placed_percent")] == "50.0"
    assert values[("minutes_walk_in_to_companion_accepted", "median")] == "6.0"
    assert values[("minutes_walk_in_to_companion_accepted", "p90")] == "9.2"
    assert values[("minutes_walk_in_to_admitted", "p90")] == "234.0"
    assert values[("placements_by_level_of_care", "3.7-WM")] == "2"
    assert values[("placements_by_facility", "Harbor House")] == "2"
    assert values[("no_bed_reasons", "no_bed")] == "2"
    assert values[("volunteer_response", "offers")] == "9"
    assert values[("volunteer_response", "median_minutes_to_accept")] == "5.0"
    assert values[("monthly_walk_ins", "2025-03-01")] == "6"
    assert values[("weekly_placed", "2025-03-03")] == "3"
    assert ("roster_gap_hours_next_7_days", "Gloucester Police Department") in values


def test_the_csv_export_carries_no_personal_data(coordinator_client, march):
    text = coordinator_client.get(CSV, MARCH_QUERY).content.decode()

    for name in ("Ann", "Ben", "Cal", "Dee", "Eve"):
        assert name not in text
    for visit in march["visits"].values():
        assert str(visit.pk) not in text
        assert str(visit.person_id) not in text


def test_the_csv_export_defuses_spreadsheet_formulas(coordinator_client, department, officer):
    evil = FacilityFactory(name='=HYPERLINK("http://example.org")')
    builders.walk_in(
        person=builders.person(department, "Pat"),
        officer=officer,
        arrived_at=local(3, 3),
        accepted_after=1,
        arrived_after=2,
        placed_after=3,
        facility=evil,
    )

    text = coordinator_client.get(CSV, MARCH_QUERY).content.decode()

    assert "'=HYPERLINK" in text
    assert "\n" + "placements_by_facility,=" not in text


@pytest.mark.parametrize("name", ["dashboard:board", "dashboard:figures", "dashboard:figures_csv"])
def test_the_dashboard_only_reads(coordinator_client, name):
    assert coordinator_client.post(reverse(name)).status_code == 405


@time_machine.travel("2026-11-23 15:00:00-05:00", tick=False)  # a Monday afternoon in Gloucester
def test_roster_gaps_list_each_day_with_nobody_on_call(coordinator_client, department):
    from datetime import datetime

    from volunteers.models import Shift

    from .conftest import NEW_YORK, volunteer

    angel = volunteer(department, "angel")
    # On call from Monday 3 p.m. to Wednesday 3 p.m.: each day is counted from its midnight.
    Shift.objects.create(
        volunteer=angel,
        department=department,
        starts_at=datetime(2026, 11, 23, 15, tzinfo=NEW_YORK),
        ends_at=datetime(2026, 11, 25, 15, tzinfo=NEW_YORK),
    )

    html = coordinator_client.get(FIGURES).text

    assert (
        '<td class="small">Mon Nov 23: 15 h; Wed Nov 25: 9 h; Thu Nov 26: 24 h; Fri Nov 27: 24 h; '
        "Sat Nov 28: 24 h; Sun Nov 29: 24 h</td>"
    ) in html
