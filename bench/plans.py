"""EXPLAIN ANALYZE of every query the dashboard and the board run, for department 1 (the
largest) and for the whole network, on the benchmark database.

    python -m bench.plans --json plans.json

The queries are captured from the real code (``referrals.reports.figures``, ``referrals.reports.board``), then
explained one by one.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def _explain(cursor, sql: str) -> str:
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, SUMMARY ON) " + sql)
    return "\n".join(row[0] for row in cursor.fetchall())


def capture() -> list[dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Department
    from referrals.reports import board
    from referrals.reports import figures as dashboard

    departments = list(Department.objects.filter(name__startswith="Bench Police Department").order_by("name"))
    cases = [
        ("dashboard (department)", lambda: dashboard.program_figures(
            departments=departments[:1], period=dashboard.default_period(departments=departments[:1]))),
        ("dashboard (network)", lambda: dashboard.program_figures(
            departments=departments, period=dashboard.default_period(departments=departments))),
        ("coordinator board (network)", lambda: board.board_for_coordinator(departments=departments)),
    ]  # fmt: skip
    out = []
    for page, call in cases:
        call()  # warm the cache, as a page served twice would be
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            call()
        elapsed = (time.perf_counter() - started) * 1000
        queries = []
        with connection.cursor() as cursor:
            for query in captured.captured_queries:
                queries.append(
                    {
                        "ms": float(query["time"]) * 1000,
                        "sql": query["sql"],
                        "plan": _explain(cursor, query["sql"]),
                    }
                )
        out.append({"page": page, "ms": elapsed, "queries": queries})
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    with open(args.json, "w") as out:
        json.dump(capture(), out, indent=1)


if __name__ == "__main__":
    main()
