"""``make chaos``: faults during a burst of walk-ins, then a race of accepts. Bounded, loopback only.

    python -m bench.chaos [--walk-ins 200] [--race-intakes 100] [--race-volunteers 20]

Everything runs on servers of its own (``bench.services``): a fresh ``harbor_bench_chaos``
database with the tiny data set, Redis on port 6392, gunicorn on 8392, the Celery workers (paging;
figures' refresh) and beat.
Killing and restarting them touches nothing else on the machine; all of them stop at the end.

1. A burst of walk-ins logged over HTTP by two desk officers (department 1, where twenty
   volunteers are on call any time: every walk-in pages a first wave of three). During it:
   the Celery worker is killed (kill -9, pool and all) and restarted; Redis is killed and
   restarted empty (nothing queued survives); the gunicorn worker is killed (kill -9) the moment
   a walk-in's commit becomes visible in the database, before it can answer.
2. Then the re-drive is given time (the paging sweep every 5 s, the outbox re-drive every 15 s,
   a claim abandoned by a killed worker retried after 2 minutes) and everything is counted:
   every walk-in has its first-wave offers, every offer its text handed to the provider once.
   The recording provider (``bench.sms_backend``) does not deduplicate, so a second hand-off of
   the same message is counted as the duplicate a volunteer would receive.
3. For each race intake, its twenty offered volunteers (each signed in over HTTP) press Accept
   at the same instant (a thread barrier) against gunicorn: exactly one must win, over HTTP and
   in the database. (A volunteer is with one person at a time and accepting withdraws their
   other requests, so each intake is closed after its race and the winner's later requests are
   pending again: the same twenty race for every intake.)
4. Every way paging can stall (nobody fits, the last decline, every text undelivered, a volunteer
   already with someone), each timed from the stall to the coordinator's text (``bench.stalls``).

Results go to ``bench/results/chaos.json`` and ``bench/RESULTS.md``; the exit status is 0 only if
every check passed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime

import psycopg
import requests

from . import report
from .services import BIN, ROOT, Services, database_url, psql
from .two_factor import CSRF, signed_in_session
from .walk_ins import post_walk_in

RESULTS = ROOT / "bench" / "results"
DATABASE = "harbor_bench_chaos"
SETTLE_TIMEOUT = 300  # seconds to wait for the re-drive after the burst
OVERALL_TIMEOUT = 20 * 60


def _session(base: str, username: str, password: str) -> tuple[requests.Session, str]:
    """Signed in over HTTP with the login form; returns the session and a CSRF token for it."""
    session = signed_in_session(base, username, password)
    home = session.get(f"{base}/", timeout=30)  # the login rotated the token: take the new one
    return session, CSRF.search(home.text).group(1)


class Burst:
    """Walk-ins from two officers, paced; faults on a timetable in another thread."""

    def __init__(self, *, base: str, services: Services, password: str, count: int, rate: float) -> None:
        self.base, self.services, self.password = base, services, password
        self.count, self.rate = count, rate
        self.ok = self.failed = 0
        self.events: list[dict] = []
        self.lock = threading.Lock()
        self.started = 0.0

    def _event(self, event: str, detail: str = "") -> None:
        with self.lock:
            self.events.append({"event": event, "at": time.monotonic() - self.started, "detail": detail})
        print(f"[chaos] {time.monotonic() - self.started:5.1f} s  {event} {detail}", flush=True)

    def _officer(self, username: str, share: int) -> None:
        session, _ = _session(self.base, username, self.password)
        interval = 2 / self.rate
        for k in range(share):
            began = time.monotonic()
            try:
                good = post_walk_in(session, self.base, first_name="Chaos", number=k)
            except (requests.RequestException, AttributeError):
                good = False
            with self.lock:
                if good:
                    self.ok += 1
                else:
                    self.failed += 1
            time.sleep(max(0.0, interval - (time.monotonic() - began)))

    def _kill_web_after_commit(self) -> None:
        """kill -9 the gunicorn worker as soon as a new walk-in's commit is visible."""
        with psycopg.connect(database_url(DATABASE), autocommit=True) as connection:
            latest = connection.execute("SELECT max(created_at) FROM intake_intake").fetchone()[0]
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                row = connection.execute(
                    "SELECT created_at FROM intake_intake WHERE created_at > %s ORDER BY created_at LIMIT 1",
                    [latest],
                ).fetchone()
                if row:
                    seen = time.monotonic()
                    pids = self.services.web_worker_pids()
                    for pid in pids:
                        os.kill(pid, signal.SIGKILL)
                    self._event(
                        "gunicorn worker killed (kill -9) right after a commit",
                        f"pid {', '.join(map(str, pids))}, {(time.monotonic() - seen) * 1000:.0f} ms "
                        "after the commit was seen",
                    )
                    return
                time.sleep(0.002)
        self._event("gunicorn kill skipped", "no commit seen in 20 s")

    def _faults(self) -> None:
        duration = self.count / self.rate
        time.sleep(duration * 0.15)
        self.services.kill_worker()
        self._event("Celery worker killed (kill -9, with its pool)")
        time.sleep(3)
        self.services.start_worker()
        self._event("Celery worker restarted")
        time.sleep(duration * 0.25)
        self._event("Redis killed (kill -9), restarted empty 2 s later")
        self.services.restart_redis(down_for=2)
        self._event("Redis back")
        time.sleep(duration * 0.2)
        self._kill_web_after_commit()

    def run(self) -> None:
        self.started = time.monotonic()
        self.wall_started = time.time()
        self._event("burst begins", f"{self.count} walk-ins at {self.rate:g} a second")
        officers = [
            threading.Thread(target=self._officer, args=(f"officer-1-{k}", self.count // 2)) for k in (1, 2)
        ]
        faults = threading.Thread(target=self._faults)
        for thread in [*officers, faults]:
            thread.start()
        for thread in [*officers, faults]:
            thread.join(timeout=self.count / self.rate * 4 + 120)
        self._event("burst ends", f"{self.ok} logged, {self.failed} failed at the client")


def _burst_counts(since: str) -> dict:
    """Per walk-in of the burst: its first-wave offers, their texts, and every hand-off."""
    row = psql(
        f"""
        WITH burst AS (
            SELECT i.id, i.created_at FROM intake_intake i JOIN accounts_user u ON u.id = i.logged_by_id
            WHERE i.created_at >= '{since}' AND u.username IN ('officer-1-1', 'officer-1-2')
        ), wave AS (
            SELECT b.id AS intake_id, b.created_at, n.idempotency_key,
                   (SELECT count(*) FROM bench_sms_handoff h
                    WHERE h.idempotency_key = n.idempotency_key) AS handed,
                   (SELECT min(h.handed_at) FROM bench_sms_handoff h
                    WHERE h.idempotency_key = n.idempotency_key) AS first_handed
            FROM burst b JOIN volunteers_offer o ON o.intake_id = b.id AND o.wave = 1
            LEFT JOIN notifications_notification n
                ON n.offer_id = o.id AND n.kind = 'offer' AND n.channel = 'sms'
        ), per_intake AS (
            SELECT b.id, count(w.intake_id) AS offers, count(*) FILTER (WHERE w.handed >= 1) AS handed,
                   extract(epoch FROM min(w.first_handed) - b.created_at) AS first_s,
                   extract(epoch FROM max(w.first_handed) - b.created_at) AS last_s
            FROM burst b LEFT JOIN wave w ON w.intake_id = b.id GROUP BY b.id, b.created_at
        )
        SELECT json_build_object(
            'intakes', (SELECT count(*) FROM burst),
            'intakes_with_wave', (SELECT count(*) FROM per_intake WHERE offers > 0),
            'intakes_fully_notified', (SELECT count(*) FROM per_intake WHERE offers > 0 AND handed = offers),
            'wave_notifications', (SELECT count(*) FROM wave),
            'sent_once', (SELECT count(*) FROM wave WHERE handed = 1),
            'duplicate_keys', (SELECT count(*) FROM (SELECT idempotency_key FROM bench_sms_handoff
                               GROUP BY 1 HAVING count(*) > 1) AS d),
            'never_sent', (SELECT count(*) FROM wave WHERE handed = 0),
            'worst_first_sms_s', (SELECT coalesce(max(first_s), 0) FROM per_intake),
            'worst_last_sms_s', (SELECT coalesce(max(last_s), 0) FROM per_intake)
        )
        """,
        database=DATABASE,
    )
    counts = json.loads(row)
    counts["sent_twice"] = counts.pop("duplicate_keys")  # any key handed over twice, in this database
    return counts


def _settle(since: str, timeout: float) -> float:
    """Wait until no message is pending or being sent and every burst walk-in has its wave."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        state = psql(
            f"""SELECT (SELECT count(*) FROM notifications_notification
                        WHERE status IN ('pending', 'sending')),
                       (SELECT count(*) FROM intake_intake i WHERE i.created_at >= '{since}'
                        AND NOT EXISTS (SELECT 1 FROM volunteers_offer o WHERE o.intake_id = i.id))""",
            database=DATABASE,
        )
        if state == "0|0":
            return time.monotonic() - started
        time.sleep(2)
    return time.monotonic() - started


def _race(base: str, manifest: dict) -> dict:
    race = manifest["race"]
    volunteers = race["volunteers"]
    sessions = [_session(base, username, manifest["password"]) for username in volunteers]
    won = refused = other = one_winner = 0
    for number, entry in enumerate(race["intakes"]):
        barrier = threading.Barrier(len(volunteers))
        statuses: list[int] = [0] * len(volunteers)

        def accept(index: int, link: str, barrier=barrier, statuses=statuses) -> None:
            session, token = sessions[index]
            path = "/" + link.split("//", 1)[1].split("/", 1)[1]
            barrier.wait(timeout=30)
            try:
                statuses[index] = session.post(
                    f"{base}{path}",
                    data={"answer": "accept", "csrfmiddlewaretoken": token},
                    allow_redirects=False,
                    timeout=60,
                ).status_code
            except requests.RequestException:
                statuses[index] = -1

        threads = [
            threading.Thread(target=accept, args=(i, link)) for i, link in enumerate(entry["offer_links"])
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
        # A volunteer is with one person at a time, and accepting withdraws their other requests:
        # the winner's walk-in is closed and the winner's requests for the later intakes are
        # pending again, so the same twenty volunteers race for every intake.
        later = ",".join(f"'{e['intake']}'" for e in race["intakes"][number + 1 :]) or "NULL"
        psql(
            f"""UPDATE intake_intake SET status = 'closed', close_reason = 'duplicate',
                closed_at = now(), companion_needed_at = NULL WHERE id = '{entry["intake"]}';
                UPDATE volunteers_offer SET status = 'pending', responded_at = NULL
                WHERE status = 'withdrawn' AND intake_id IN ({later})""",
            database=DATABASE,
        )
        won += statuses.count(302)
        refused += statuses.count(409)
        other += len(statuses) - statuses.count(302) - statuses.count(409)
        one_winner += statuses.count(302) == 1 and statuses.count(409) == len(statuses) - 1
    ids = ",".join(f"'{entry['intake']}'" for entry in race["intakes"])
    one_accepted = int(
        psql(
            f"""SELECT count(*) FROM (SELECT intake_id FROM volunteers_offer
                WHERE intake_id IN ({ids}) AND status = 'accepted' GROUP BY 1 HAVING count(*) = 1) AS x""",
            database=DATABASE,
        )
    )
    return {
        "intakes": len(race["intakes"]),
        "volunteers": len(volunteers),
        "won": won,
        "refused": refused,
        "other": other,
        "exactly_one_winner_http": one_winner,
        "exactly_one_accepted_db": one_accepted,
    }


def run(args: argparse.Namespace) -> dict:
    results: dict = {
        "started_at": datetime.now(UTC).isoformat(),
        "ports": {"web": args.port, "redis": args.redis_port},
        "web_workers": 1,
    }
    work = RESULTS / "work"
    work.mkdir(parents=True, exist_ok=True)
    with Services(
        database=DATABASE, web_port=args.port, redis_port=args.redis_port, web_workers=1, label="chaos"
    ) as services:
        print(f"[chaos] fresh database {DATABASE}; servers' logs in {services.logs}", flush=True)
        psql(f"DROP DATABASE IF EXISTS {DATABASE}")
        psql(f"CREATE DATABASE {DATABASE}")
        services.manage("migrate", "--noinput", "-v0")
        services.python("-m", "bench.generate", "--size", "tiny")
        manifest_path = work / "chaos-manifest.json"
        services.python(
            "-m", "bench.prepare", "--size", "tiny", "--out", str(manifest_path), "--volunteers", "0",
            "--race-intakes", str(args.race_intakes), "--race-volunteers", str(args.race_volunteers),
        )  # fmt: skip
        manifest = json.loads(manifest_path.read_text())
        services.start_all()
        base = f"http://127.0.0.1:{args.port}"

        since = psql("SELECT now()", database=DATABASE)
        burst = Burst(
            base=base, services=services, password=manifest["password"], count=args.walk_ins, rate=4
        )
        burst.run()
        services.wait_healthy()
        settled = _settle(since, SETTLE_TIMEOUT)
        results["burst"] = {
            "requested": args.walk_ins,
            "posts_ok": burst.ok,
            "posts_failed": burst.failed,
            "events": burst.events,
            "settled_after_s": settled,
            **_burst_counts(since),
            "restarts_by_supervisor": [
                {**restart, "at": restart["at"] - burst.wall_started} for restart in services.restarts
            ],
        }
        print(f"[chaos] burst: {results['burst']}", flush=True)

        # The race wants real concurrency: gunicorn again, with 4 processes of 5 threads each.
        services._stop("web")
        services.web_workers = 4
        services._start(
            "web",
            [
                str(BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{args.port}",
                "--workers", "4", "--threads", "5", "--timeout", "30",
            ],
        )  # fmt: skip
        services.wait_healthy()
        results["race_server"] = "gunicorn, 4 workers × 5 threads (gthread)"
        results["race"] = _race(base, manifest)
        print(f"[chaos] race: {results['race']}", flush=True)

        # Every way paging can stall, each timed to the coordinator's text (bench.stalls).
        stalls_path = work / "chaos-stalls.json"
        services.python("-m", "bench.stalls", "--out", str(stalls_path), "--web", base, check=False)
        results["stalls"] = json.loads(stalls_path.read_text()) if stalls_path.exists() else {}
        print(f"[chaos] stalls: {results['stalls']}", flush=True)
    burst, race = results["burst"], results["race"]
    results["passed"] = (
        burst["intakes"] > 0
        and burst["intakes_fully_notified"] == burst["intakes"]
        and burst["sent_twice"] == 0
        and burst["never_sent"] == 0
        and race["exactly_one_winner_http"] == race["intakes"]
        and race["exactly_one_accepted_db"] == race["intakes"]
        and bool(results["stalls"])
        and all(stall["passed"] for stall in results["stalls"].values())
    )
    results["finished_at"] = datetime.now(UTC).isoformat()
    return results


def _overall_timeout(signum, frame) -> None:
    raise SystemExit(f"chaos: stopped after {OVERALL_TIMEOUT} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walk-ins", type=int, default=200)
    parser.add_argument("--race-intakes", type=int, default=100)
    parser.add_argument("--race-volunteers", type=int, default=20)
    parser.add_argument("--port", type=int, default=8392)
    parser.add_argument("--redis-port", type=int, default=6392)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGALRM, _overall_timeout)
    signal.alarm(OVERALL_TIMEOUT)  # the whole run is bounded; the servers stop on the way out
    results = run(args)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "chaos.json").write_text(json.dumps(results, indent=1))
    report.write()
    print(f"[chaos] {'passed' if results['passed'] else 'FAILED'}; see bench/RESULTS.md", flush=True)
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
