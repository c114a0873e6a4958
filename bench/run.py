"""``make bench``: the statewide benchmark, start to finish, bounded in time.

    python -m bench.run --size full|small|tiny [--users 17] [--duration 120] [--fresh]

1. The database ``harbor_bench_<size>`` on 127.0.0.1: created, migrated and filled by
   ``bench.generate`` the first time (or with ``--fresh``), migrated only afterwards.
2. The matching service timed in department 1 (``bench.matching``) and the dashboard's queries
   explained (``bench.plans``), before any load.
3. Fixtures and the manifest (``bench.prepare``), then the servers, all of them the run's own on
   loopback (``bench.services``): Redis, gunicorn with production settings, the Celery workers
   (paging; figures' refresh), beat.
4. locust, headless, ``--users`` users for ``--duration`` seconds (``bench/locustfile.py``).
5. Intake → first text message for every walk-in the run logged (topped up to at least 200 by a
   paced burst of walk-ins when the load test logged fewer).
6. ``bench/results/bench-<size>.json``, then ``bench/RESULTS.md`` and the chart (``bench.report``).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

from . import report
from .services import BIN, ROOT, Services, database_exists, database_url, machine, psql
from .two_factor import signed_in_session
from .walk_ins import post_walk_in

RESULTS = ROOT / "bench" / "results"
LOCUST_GRACE = 90  # seconds past --duration before locust is killed
MIN_LATENCY_SAMPLES = 200


def _setup_database(services: Services, *, size: str, fresh: bool) -> dict:
    name = services.database
    generated = None
    if fresh or not database_exists(name):
        psql(f"DROP DATABASE IF EXISTS {name}")
        psql(f"CREATE DATABASE {name}")
        services.manage("migrate", "--noinput", "-v0")
        started = time.perf_counter()
        services.python("-m", "bench.generate", "--size", size, timeout=3600)
        generated = time.perf_counter() - started
    else:
        services.manage("migrate", "--noinput", "-v0")
    return {"generated_seconds": generated}


def _sms_latencies(database: str, *, since: str, officers: list[str]) -> dict:
    """Intake commit → first text message handed to the provider, per walk-in logged since."""
    names = ",".join(f"'{name}'" for name in officers)
    rows = psql(
        f"""
        SELECT extract(epoch FROM min(h.handed_at) - i.created_at) * 1000
        FROM intake_intake i
        JOIN accounts_user u ON u.id = i.logged_by_id AND u.username IN ({names})
        LEFT JOIN notifications_notification n
            ON n.intake_id = i.id AND n.kind = 'offer' AND n.channel = 'sms'
        LEFT JOIN bench_sms_handoff h ON h.idempotency_key = n.idempotency_key
        WHERE i.created_at >= '{since}' AND i.status <> 'closed'
        GROUP BY i.id
        """,
        database=database,
    )
    values = [float(v) if v else None for v in rows.splitlines()]
    return {"intakes": len(values), "latencies_ms": [v for v in values if v is not None]}


def _top_up_walk_ins(base_url: str, manifest: dict, count: int, rate: float = 4.0) -> int:
    """Log ``count`` more walk-ins at ``rate`` a second from two officers' browsers."""
    logged = 0
    lock = threading.Lock()

    def officer(username: str, share: int) -> None:
        nonlocal logged
        session = signed_in_session(base_url, username, manifest["password"])
        for k in range(share):
            started = time.monotonic()
            if post_walk_in(session, base_url, first_name="Burst", number=k):
                with lock:
                    logged += 1
            time.sleep(max(0.0, 2 / rate - (time.monotonic() - started)))

    threads = [
        threading.Thread(target=officer, args=(entry["username"], (count + 1) // 2))
        for entry in manifest["officers"][:2]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=count / rate * 3 + 60)
    return logged


def _wait_for_sms(database: str, since: str, timeout: float = 30) -> None:
    """Until every walk-in logged since ``since`` has had its first text (or ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = psql(
            f"""SELECT count(*) FROM notifications_notification
                WHERE created_at >= '{since}' AND status IN ('pending', 'sending')""",
            database=database,
        )
        if waiting == "0":
            return
        time.sleep(1)


def run(args: argparse.Namespace) -> dict:
    database = f"harbor_bench_{args.size}"
    database_url(database)  # refuses any other name
    results: dict = {"size": args.size, "started_at": datetime.now(UTC).isoformat(), "machine": machine()}
    work = RESULTS / "work"
    work.mkdir(parents=True, exist_ok=True)
    with Services(database=database, web_port=args.port, redis_port=args.redis_port) as services:
        print(f"[bench] database {database}", flush=True)
        results.update(_setup_database(services, size=args.size, fresh=args.fresh))
        results["rows"] = json.loads(
            subprocess.run(
                [str(BIN / "python"), "-c", "import django,json;django.setup();"
                 "from bench.generate import row_counts;print(json.dumps(row_counts()))"],
                cwd=ROOT, env=services.env, check=True, capture_output=True, text=True, timeout=600,
            ).stdout.strip().splitlines()[-1]
        )  # fmt: skip
        print(f"[bench] rows {results['rows']}", flush=True)

        # What earlier runs wrote is vacuumed first (a few seconds), so that autovacuum is not
        # catching up on it during the in-process measurements below.
        psql("VACUUM (ANALYZE)", database=services.database)
        print("[bench] matching", flush=True)
        services.python("-m", "bench.matching", "--repeat", "100", "--json", str(work / "matching.json"))
        results["matching"] = json.loads((work / "matching.json").read_text())
        print("[bench] dashboard query plans", flush=True)
        services.python("-m", "bench.plans", "--json", str(work / "plans.json"))
        results["plans"] = json.loads((work / "plans.json").read_text())

        print("[bench] fixtures", flush=True)
        manifest_path = work / "manifest.json"
        services.python("-m", "bench.prepare", "--size", args.size, "--out", str(manifest_path))
        manifest = json.loads(manifest_path.read_text())
        # The fixtures changed which walk-ins are open and which offers pending: fresh planner
        # statistics, as autovacuum would give a live database (stale ones made the board's
        # offer counts scan every pending offer per row: 22 ms instead of 1 ms).
        psql("ANALYZE", database=services.database)

        print(f"[bench] servers (logs in {services.logs})", flush=True)
        services.start_all()
        base_url = f"http://127.0.0.1:{args.port}"

        since = psql("SELECT now()", database=database)
        samples_path = work / "samples.json"
        print(f"[bench] locust: {args.users} users for {args.duration} s", flush=True)
        results["load"] = {
            "users": args.users,
            "duration_s": args.duration,
            "load_before": machine()["load_average"],
        }
        env = {
            **services.env,
            "BENCH_MANIFEST": str(manifest_path),
            "BENCH_SAMPLES": str(samples_path),
            "PYTHONPATH": str(ROOT),  # the locustfile imports bench.two_factor
        }
        subprocess.run(
            [
                str(BIN / "locust"), "-f", "bench/locustfile.py", "--headless", "--host", base_url,
                "-u", str(args.users), "-r", str(args.users), "-t", f"{args.duration}s",
                "--stop-timeout", "5", "--only-summary", "--loglevel", "WARNING",
            ],
            cwd=ROOT, env=env, timeout=args.duration + LOCUST_GRACE, check=False,
        )  # fmt: skip
        results["load"]["load_after"] = machine()["load_average"]
        results["load"].update(json.loads(samples_path.read_text()))

        officers = sorted({entry["username"] for entry in manifest["officers"]})
        _wait_for_sms(database, since)
        latency = _sms_latencies(database, since=since, officers=officers)
        results["sms"] = {"during_load": len(latency["latencies_ms"])}
        if len(latency["latencies_ms"]) < MIN_LATENCY_SAMPLES:
            missing = MIN_LATENCY_SAMPLES - len(latency["latencies_ms"]) + 10
            print(f"[bench] {missing} more walk-ins for the text-message latency", flush=True)
            results["sms"]["top_up"] = _top_up_walk_ins(base_url, manifest, missing)
            _wait_for_sms(database, since)
            latency = _sms_latencies(database, since=since, officers=officers)
        results["sms"].update(latency)
        results["sms"]["duplicates"] = int(
            psql(
                "SELECT count(*) FROM (SELECT idempotency_key FROM bench_sms_handoff "
                "GROUP BY 1 HAVING count(*) > 1) AS d",
                database=database,
            )
        )
        logs = {name: (services.logs / f"{name}.log").read_text(errors="replace")[-4000:]
                for name in ("web", "worker", "reports", "beat")}  # fmt: skip
        results["server_errors"] = {
            name: len(re.findall(r"(?m)^(?:Traceback|.* ERROR )", text)) for name, text in logs.items()
        }
    results["finished_at"] = datetime.now(UTC).isoformat()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["full", "small", "tiny"], default="full")
    parser.add_argument("--users", type=int, default=17)
    parser.add_argument("--duration", type=int, default=120, help="seconds of load")
    parser.add_argument("--fresh", action="store_true", help="generate the data set again")
    parser.add_argument("--port", type=int, default=8391)
    parser.add_argument("--redis-port", type=int, default=6391)
    args = parser.parse_args(argv)
    results = run(args)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench-{args.size}.json"
    out.write_text(json.dumps(results, indent=1))
    print(f"[bench] results in {out}", flush=True)
    report.write()
    print(report.summary(results), flush=True)


if __name__ == "__main__":
    sys.exit(main())
