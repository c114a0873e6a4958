"""The benchmark's own servers: Redis, gunicorn, the Celery workers and beat, on loopback ports of
their own, with production settings. Every process is a child in its own process group, killed
on exit (normal, exception, SIGINT or SIGTERM), so nothing outlives a run and nothing else on the
machine is touched.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def database_url(name: str) -> str:
    if not name.startswith("harbor_bench"):
        raise SystemExit(f"Benchmark databases are named harbor_bench…, not {name!r}.")
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def psql(sql: str, *, database: str = "postgres") -> str:
    """Run SQL with psql as postgres on 127.0.0.1 (creating and dropping databases)."""
    result = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-Atqc", sql],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stdout.strip()


def database_exists(name: str) -> bool:
    return psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_gb = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    redis = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gb": round(memory_gb, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": psql("SHOW server_version"),
        "redis": next((part.split("=")[1] for part in redis if part.startswith("v=")), "?"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


class Services:
    """Start and stop the run's servers. Use as a context manager."""

    def __init__(
        self,
        *,
        database: str,
        web_port: int,
        redis_port: int,
        web_workers: int = 3,
        worker_concurrency: int = 2,
        label: str = "bench",
    ) -> None:
        self.database = database
        self.web_port = web_port
        self.redis_port = redis_port
        self.web_workers = web_workers
        self.worker_concurrency = worker_concurrency
        self.tmp = Path(tempfile.mkdtemp(prefix=f"harbor-{label}-"))
        self.logs = self.tmp / "logs"
        self.logs.mkdir()
        self.processes: dict[str, subprocess.Popen] = {}
        self.argv: dict[str, list[str]] = {}
        # Like compose's `restart: unless-stopped`: a server that exits by itself is started again.
        self.supervised = {"worker", "reports", "beat", "web"}
        self.restarts: list[dict] = []
        self._supervisor: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.RLock()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HARBOR_", "CELERY_"))},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url(database),
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            # Production settings: no debug, a real secret, one host, collected hashed static files.
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "HARBOR_SITE_URL": f"http://127.0.0.1:{web_port}",
            "HARBOR_MANIFEST_STATIC": "true",
            "HARBOR_STATIC_ROOT": str(self.tmp / "static"),
            "CELERY_BEAT_SCHEDULE_FILENAME": str(self.tmp / "beat-schedule"),
            "DJANGO_SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback
            "AXES_ENABLED": "true",
            "LOG_LEVEL": "WARNING",
            # The benchmark's instruments and its recording SMS provider; email goes nowhere.
            "HARBOR_BENCHMARK": "true",
            "HARBOR_SMS_BACKEND": "bench.sms_backend.RecordingSmsBackend",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            # Receipts and keypresses are posted by the run itself, signed with this token as
            # Twilio signs them (bench.stalls); nothing is sent to Twilio.
            "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
            "PYTHONPATH": str(ROOT),
        }

    # --- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> Services:
        atexit.register(self.stop_all)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()

    def _on_signal(self, signum, frame) -> None:
        self.stop_all()
        raise SystemExit(128 + signum)

    def _start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        with self._lock:
            self.processes[name] = process
            self.argv[name] = argv
        if self._supervisor is None:
            self._supervisor = threading.Thread(target=self._supervise, daemon=True)
            self._supervisor.start()
        return process

    def _supervise(self) -> None:
        while not self._stopping.wait(0.5):
            with self._lock:
                for name in self.supervised & set(self.processes):
                    process = self.processes[name]
                    if process.poll() is not None:
                        self.restarts.append(
                            {"process": name, "exit_code": process.returncode, "at": time.time()}
                        )
                        print(f"[services] {name} exited ({process.returncode}); restarting it", flush=True)
                        self._start(name, self.argv[name])

    def _stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
        with self._lock:
            process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop_all(self) -> None:
        self._stopping.set()
        for name in list(self.processes)[::-1]:
            self._stop(name)

    def manage(self, *args: str, timeout: float = 1800) -> None:
        subprocess.run(
            [str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=self.env, check=True, timeout=timeout
        )

    def python(self, *args: str, timeout: float = 1800, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "python"), *args], cwd=ROOT, env=self.env, check=check, timeout=timeout
        )

    # --- the servers --------------------------------------------------------------------------

    def start_all(self) -> None:
        """Every server of the production shape, in order: Redis, the static files, the paging
        worker, the reports worker, beat and gunicorn (the benchmark and the fault tests alike)."""
        self.start_redis()
        self.collectstatic()
        self.start_worker()
        self.start_reports_worker()
        self.start_beat()
        self.start_web()

    def start_redis(self) -> None:
        self._start(
            "redis",
            [
                shutil.which("redis-server") or "redis-server",
                "--bind", "127.0.0.1", "--port", str(self.redis_port),
                "--save", "", "--appendonly", "no", "--dir", str(self.tmp),
            ],
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            probe = subprocess.run(
                ["redis-cli", "-p", str(self.redis_port), "ping"], capture_output=True, text=True
            )
            if probe.stdout.strip() == "PONG":
                return
            time.sleep(0.1)
        raise RuntimeError("Redis did not start")

    def restart_redis(self, down_for: float = 2.0) -> None:
        """Stop Redis hard (kill -9: whatever was queued is gone) and start it again."""
        self._stop("redis", sig=signal.SIGKILL)
        time.sleep(down_for)
        self.start_redis()

    def collectstatic(self) -> None:
        self.manage("collectstatic", "--noinput", "-v0", timeout=300)

    def start_web(self) -> None:
        self._start(
            "web",
            [
                str(BIN / "gunicorn"), "config.wsgi:application",
                "--bind", f"127.0.0.1:{self.web_port}", "--workers", str(self.web_workers),
                "--timeout", "30", "--graceful-timeout", "5",
            ],
        )  # fmt: skip
        self.wait_healthy()

    def web_worker_pids(self) -> list[int]:
        master = self.processes["web"].pid
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def start_worker(self) -> None:
        """The paging and notifications worker (the default queue), as the Procfile's `worker`."""
        self._start(
            "worker",
            [
                str(BIN / "celery"), "-A", "config", "worker", "--loglevel", "WARNING", "--queues", "celery",
                "--concurrency", str(self.worker_concurrency), "--hostname", f"bench-{self.web_port}@%h",
            ],
        )  # fmt: skip

    def start_reports_worker(self) -> None:
        """The worker that computes program figures again (the `reports` queue), as the
        Procfile's `reports`."""
        self._start(
            "reports",
            [
                str(BIN / "celery"), "-A", "config", "worker", "--loglevel", "WARNING", "--queues", "reports",
                "--concurrency", "1", "--hostname", f"bench-reports-{self.web_port}@%h",
            ],
        )  # fmt: skip

    def kill_worker(self) -> None:
        """kill -9 the worker and its pool processes, mid-whatever-it-was-doing."""
        self._stop("worker", sig=signal.SIGKILL)

    def start_beat(self) -> None:
        self._start("beat", [str(BIN / "celery"), "-A", "config", "beat", "--loglevel", "WARNING"])

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.web_port}/healthz"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the web server did not answer {url}; see {self.logs}")
