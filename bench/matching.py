"""Time the matching service (``volunteers.paging.matching.rank_volunteers``) in department 1, where
every one of the generated data set's matching volunteers is eligible.

    DATABASE_URL=postgres://…/harbor_bench_small python -m bench.matching --repeat 50

A walk-in is created in department 1 for the measurement, inside a transaction that is rolled
back afterwards: nothing is left behind. Reports the eligible count, p50/p99 of the call the
paging makes (the best ``wave_size``), of the coordinator's panel (the best ten, anyone vetted),
and of the whole ranking, with the EXPLAIN ANALYZE of the paging query.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time


class _Rollback(Exception):
    pass


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (the value at or below which ``fraction`` of the values lie)."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(-(-fraction * len(ordered) // 1)) - 1))
    return ordered[index]


def _timed(call, repeat: int) -> dict:
    call()  # warm: the first call pays for connecting and planning
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "repeat": repeat,
        "p50_ms": statistics.median(samples),
        "p99_ms": percentile(samples, 0.99),
        "max_ms": max(samples),
    }


def measure(*, repeat: int = 50) -> dict:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import Department, Role, User
    from intake.models import Intake, Person
    from volunteers.paging.matching import eligible_volunteers, rank_volunteers

    department = Department.objects.filter(name__startswith="Bench Police Department").order_by("pk").first()
    officer = User.objects.filter(memberships__department=department, memberships__role=Role.DESK_OFFICER)[0]
    result: dict = {}
    try:
        with transaction.atomic():
            now = timezone.now()
            person = Person.objects.create(department=department, first_name="Bench", approximate_age=40)
            intake = Intake.objects.create(
                department=department, person=person, logged_by=officer, arrived_at=now
            )
            intake = Intake.objects.select_related("department", "person").get(pk=intake.pk)
            result["department"] = department.name
            result["eligible"] = eligible_volunteers(intake=intake, now=now).count()
            result["wave"] = _timed(
                lambda: rank_volunteers(intake=intake, now=now, limit=department.wave_size), repeat
            )
            result["panel"] = _timed(
                lambda: rank_volunteers(intake=intake, now=now, limit=10, require_on_call=False), repeat
            )
            result["all"] = _timed(lambda: rank_volunteers(intake=intake, now=now), max(5, repeat // 5))
            with CaptureQueriesContext(connection) as captured:
                rank_volunteers(intake=intake, now=now, limit=department.wave_size)
            result["queries"] = len(captured)
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + captured[-1]["sql"])
                result["plan"] = "\n".join(row[0] for row in cursor.fetchall())
            raise _Rollback
    except _Rollback:
        pass
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--json", help="write the result to this file")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    result = measure(repeat=args.repeat)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=2)
    plan = result.pop("plan")
    print(json.dumps(result, indent=2))
    print(plan)


if __name__ == "__main__":
    main()
