"""The deployment files agree with each other and with settings.

docker-compose.yml runs what the Procfile runs, on healthy PostgreSQL and Redis; .env.example
documents exactly the variables config/settings.py reads; CI runs the README's `make test`.
These tests read files only: no database, no Django.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "reports", "beat")
BACKING_SERVICES = ("postgres", "redis")

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
_PROCFILE_LINE = re.compile(r"^(?P<name>[A-Za-z0-9_-]+):\s*(?P<command>.+?)\s*$")
_ENV_EXAMPLE_LINE = re.compile(r"^#?\s*(?P<name>[A-Z][A-Z0-9_]*)=")
# env("X"), env.bool("X", ...), env.str(...), env.list(...), env.db("X"), env.int(...), ...
_SETTINGS_ENV_READ = re.compile(r"""\benv(?:\.\w+)?\(\s*["'](?P<name>[A-Z][A-Z0-9_]*)["']""")


def _read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(_read("docker-compose.yml"))


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose.get("services") or {}


@pytest.fixture(scope="module")
def procfile() -> dict[str, str]:
    processes = {}
    for line in _read("Procfile").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _PROCFILE_LINE.match(line)
        assert match, f"not a Procfile line: {line!r}"
        processes[match["name"]] = match["command"]
    return processes


@pytest.fixture(scope="module")
def settings_text() -> str:
    return _read("config/settings.py")


def _resolve_defaults(text: str) -> str:
    """Expands ${NAME:-default} to its default (and ${NAME} or ${NAME:?msg} to ""), as a shell
    or compose would with the variable unset; `$$` is compose's escaped `$`."""

    def default(match: re.Match) -> str:
        return match["arg"] if match["op"] in (":-", "-") else ""

    return _VARIABLE.sub(default, text).replace("$$", "$")


def _argv(command: str | list[str]) -> list[str]:
    if isinstance(command, list):
        return [_resolve_defaults(str(part)) for part in command]
    return shlex.split(_resolve_defaults(command))


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the ["KEY=value", ...] form
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def _env_example_names() -> list[str]:
    return [m["name"] for line in _read(".env.example").splitlines() if (m := _ENV_EXAMPLE_LINE.match(line))]


# --- docker-compose.yml ------------------------------------------------------------------------


def test_compose_has_every_service(services: dict) -> None:
    missing = {*APP_SERVICES, *BACKING_SERVICES} - set(services)
    assert not missing, f"docker-compose.yml lacks services: {sorted(missing)}"


@pytest.mark.parametrize(("service", "prefix"), [("postgres", "postgres:16"), ("redis", "redis:7")])
def test_backing_service_images(services: dict, service: str, prefix: str) -> None:
    image = str(services.get(service, {}).get("image", ""))
    assert image.startswith(prefix), f"{service} image is {image!r}, expected {prefix}…"


@pytest.mark.parametrize("service", ["postgres", "redis", "web"])
def test_healthchecks(services: dict, service: str) -> None:
    healthcheck = services.get(service, {}).get("healthcheck") or {}
    assert healthcheck.get("test"), f"{service} has no healthcheck test"
    assert not healthcheck.get("disable"), f"{service}'s healthcheck is disabled"
    assert healthcheck.get("test") != ["NONE"], f"{service}'s healthcheck is disabled"


def test_web_healthcheck_calls_healthz(services: dict) -> None:
    test = services.get("web", {}).get("healthcheck", {}).get("test") or []
    joined = " ".join(test) if isinstance(test, list) else str(test)
    assert "/healthz" in joined


@pytest.mark.parametrize(
    ("service", "target"), [("postgres", "/var/lib/postgresql/data"), ("redis", "/data")]
)
def test_backing_services_keep_data_in_named_volumes(compose: dict, service: str, target: str) -> None:
    volumes = compose.get("services", {}).get(service, {}).get("volumes") or []
    declared = set(compose.get("volumes") or {})
    mounts = {}
    for volume in volumes:
        if isinstance(volume, dict):
            mounts[volume.get("target")] = volume.get("source")
        else:
            source, _, rest = str(volume).partition(":")
            mounts[rest.split(":")[0]] = source
    assert target in mounts, f"{service} does not mount a volume at {target}"
    assert mounts[target] in declared, f"{service}'s {target} is not a named volume declared at the top"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_commands_match_procfile(services: dict, procfile: dict[str, str], service: str) -> None:
    assert service in procfile, f"Procfile has no {service!r} process"
    command = services.get(service, {}).get("command")
    assert command, f"{service} has no command in docker-compose.yml"
    assert _argv(command) == _argv(procfile[service])


def test_migrations_run_once_before_the_app(services: dict, procfile: dict[str, str]) -> None:
    release = _argv(procfile.get("release", ""))
    assert release == ["python", "manage.py", "migrate", "--noinput"]
    assert _argv(services.get("migrate", {}).get("command", "")) == release
    for service in APP_SERVICES:
        depends_on = services.get(service, {}).get("depends_on") or {}
        assert isinstance(depends_on, dict), f"{service}: depends_on needs conditions"
        condition = (depends_on.get("migrate") or {}).get("condition")
        assert condition == "service_completed_successfully", f"{service} may start before migrations"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_waits_for_healthy_backing_services(services: dict, service: str) -> None:
    depends_on = services.get(service, {}).get("depends_on") or {}
    assert isinstance(depends_on, dict), f"{service}: the list form of depends_on has no condition"
    for backing in BACKING_SERVICES:
        condition = (depends_on.get(backing) or {}).get("condition")
        assert condition == "service_healthy", f"{service} does not wait for a healthy {backing}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_environment(services: dict, service: str) -> None:
    env = _environment(services.get(service, {}))
    assert env.get("DATABASE_URL", "").startswith("postgres://"), f"{service}: DATABASE_URL"
    assert env.get("REDIS_URL", "").startswith("redis://"), f"{service}: REDIS_URL"
    assert re.fullmatch(r"\$\{DJANGO_SECRET_KEY:\?.+\}", env.get("DJANGO_SECRET_KEY", "")), (
        f"{service}: DJANGO_SECRET_KEY must come from the environment and be required"
    )
    assert re.fullmatch(
        r"\$\{HARBOR_FIELD_ENCRYPTION_KEYS:\?.+\}", env.get("HARBOR_FIELD_ENCRYPTION_KEYS", "")
    ), f"{service}: HARBOR_FIELD_ENCRYPTION_KEYS must come from the environment and be required"
    assert env.get("HARBOR_MANIFEST_STATIC") == "true", f"{service}: HARBOR_MANIFEST_STATIC"
    assert env.get("DJANGO_SECURE_COOKIES") == "true", f"{service}: DJANGO_SECURE_COOKIES"
    assert "DJANGO_ALLOWED_HOSTS" in env, f"{service}: DJANGO_ALLOWED_HOSTS"


def _consumed_queues(argv: list[str]) -> set[str]:
    """The queues a `celery worker` command line consumes (--queues/-Q; none: the default)."""
    for index, part in enumerate(argv):
        if part in ("--queues", "-Q"):
            return set(argv[index + 1].split(","))
        if part.startswith("--queues="):
            return set(part.split("=", 1)[1].split(","))
    return {"celery"}


def _routed_queues() -> set[str]:
    """The queues config/celery.py routes tasks to, besides the default one."""
    text = _read("config/celery.py")
    constants = dict(re.findall(r'^([A-Z_]+_QUEUE) = "([\w-]+)"', text, re.MULTILINE))
    routes = re.search(r"^app\.conf\.task_routes = (\{.*\})$", text, re.MULTILINE)
    assert routes, "config/celery.py sets no task_routes"
    queues = set(re.findall(r'"queue": "([\w-]+)"', routes[1]))
    queues |= {constants[name] for name in re.findall(r'"queue": ([A-Z_]+_QUEUE)', routes[1])}
    return queues


def test_figures_are_refreshed_on_a_queue_of_their_own() -> None:
    text = _read("config/celery.py")
    assert re.search(r'"referrals\.reports\.tasks\.refresh_figures": \{"queue": REPORTS_QUEUE\}', text)
    assert _routed_queues() == {"reports"}


def test_every_queue_has_a_worker_and_paging_shares_its_worker_with_nothing_slow(
    services: dict, procfile: dict[str, str]
) -> None:
    """In production the default queue (paging, notifications) has a worker of its own, and the
    figures' refresh another; in development (Procfile.dev, `make run`) one worker takes both."""
    for name, command in (
        ("Procfile", procfile["worker"]),
        ("docker-compose.yml", services["worker"]["command"]),
    ):
        assert _consumed_queues(_argv(command)) == {"celery"}, (
            f"{name}: worker must consume the default queue only"
        )
    for name, command in (
        ("Procfile", procfile["reports"]),
        ("docker-compose.yml", services["reports"]["command"]),
    ):
        assert _consumed_queues(_argv(command)) == _routed_queues(), (
            f"{name}: reports consumes the wrong queues"
        )
    development = {
        match["name"]: match["command"]
        for line in _read("Procfile.dev").splitlines()
        if (match := _PROCFILE_LINE.match(line)) and not line.lstrip().startswith("#")
    }
    workers = [_argv(command) for command in development.values() if " worker " in f" {command} "]
    consumed = set().union(*(_consumed_queues(argv) for argv in workers))
    assert consumed >= {"celery", *_routed_queues()}, "Procfile.dev: a queue has no worker in `make run`"


# --- .env.example ------------------------------------------------------------------------------


def test_env_example_names_only_variables_settings_read(settings_text: str) -> None:
    names = _env_example_names()
    assert names, ".env.example names no variable"
    unread = [name for name in names if not re.search(rf"""["']{name}["']""", settings_text)]
    assert not unread, f".env.example names variables config/settings.py never reads: {unread}"


def test_env_example_documents_every_variable_settings_read(settings_text: str) -> None:
    read = {m["name"] for m in _SETTINGS_ENV_READ.finditer(settings_text)}
    assert read, "found no env(...) read in config/settings.py"
    undocumented = sorted(read - set(_env_example_names()))
    assert not undocumented, f"config/settings.py reads variables .env.example lacks: {undocumented}"


def test_env_example_leaves_database_and_redis_unset() -> None:
    active = {
        line.split("=", 1)[0].strip()
        for line in _read(".env.example").splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    assert not active & {"DATABASE_URL", "REDIS_URL"}, "unset means embedded PostgreSQL / filesystem broker"


# --- Makefile and CI ---------------------------------------------------------------------------


def test_makefile_has_a_test_target() -> None:
    assert re.search(r"^test:", _read("Makefile"), re.MULTILINE), "Makefile has no test target"


def test_ci_runs_make_test() -> None:
    ci = ROOT / ".ci" / "run"
    assert ci.is_file(), ".ci/run is missing"
    commands = [line.strip() for line in ci.read_text(encoding="utf-8").splitlines()]
    assert any(re.match(r"make test(\s|$)", line) for line in commands if not line.startswith("#")), (
        ".ci/run does not call `make test`"
    )


def test_ci_runs_the_browser_journeys_in_debians_chromium() -> None:
    """The journeys are not in `make test`: CI must run `make test-e2e`, after installing
    Debian's chromium if it is missing (and fail, never skip, when it cannot)."""
    makefile = _read("Makefile")
    assert re.search(r"^test-e2e:", makefile, re.MULTILINE), "Makefile has no test-e2e target"
    assert '-m "not e2e"' in makefile
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip() for line in ci.splitlines() if not line.strip().startswith("#")]
    assert "make test-e2e" in commands, ".ci/run does not call `make test-e2e`"
    assert any("apt-get install -y" in line and "chromium" in line for line in commands)
    assert "playwright install" not in ci


# --- database roles (issue 13, finding 16) ----------------------------------------------------

ROLES_SCRIPT = "deploy/postgres/10-harbor-roles.sh"


def _database_user(url: str) -> str:
    match = re.match(r"postgres://(?P<user>[^:@/]+)[:@]", url)
    assert match, f"not a postgres:// URL with a user: {url}"
    return match["user"]


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_app_runs_as_the_role_that_owns_nothing(services: dict, service: str) -> None:
    assert _database_user(_environment(services[service])["DATABASE_URL"]) == "harbor_app"


def test_migrations_run_as_the_owner(services: dict) -> None:
    env = _environment(services["migrate"])
    assert _database_user(env["DATABASE_URL"]) == "harbor_owner"
    # Otherwise the same settings as the app.
    assert env["DJANGO_SECRET_KEY"] == _environment(services["web"])["DJANGO_SECRET_KEY"]


def test_postgres_creates_both_roles_on_first_start(services: dict) -> None:
    postgres = services["postgres"]
    assert f"./{Path(ROLES_SCRIPT).parent}:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]
    env = _environment(postgres)
    assert env["POSTGRES_USER"] not in {"harbor_owner", "harbor_app"}
    for name in ("HARBOR_OWNER_PASSWORD", "HARBOR_APP_PASSWORD"):
        assert re.fullmatch(rf"\$\{{{name}:\?.+\}}", env[name]), name


def test_the_app_role_gets_data_privileges_only() -> None:
    script = _read(ROLES_SCRIPT)
    assert "CREATE ROLE harbor_owner LOGIN NOSUPERUSER" in script
    assert "CREATE ROLE harbor_app LOGIN NOSUPERUSER" in script
    assert "CREATE DATABASE harbor OWNER harbor_owner" in script
    grants = re.findall(r"GRANT ([A-Z, ]+) ON (TABLES|SEQUENCES) TO harbor_app", script)
    assert grants == [("SELECT, INSERT, UPDATE, DELETE", "TABLES"), ("USAGE, SELECT", "SEQUENCES")]
    assert "ALTER DEFAULT PRIVILEGES FOR ROLE harbor_owner" in script
    statements = [line for line in script.splitlines() if not line.lstrip().startswith(("#", "--"))]
    assert not [line for line in statements if "TRUNCATE" in line or re.search(r"GRANT ALL", line)]
    assert not re.search(r"GRANT\s+harbor_owner\s+TO", script)  # the app never becomes the owner


def test_the_dockerfile_and_security_notes_name_both_roles() -> None:
    for name in ("Dockerfile", "SECURITY.md"):
        text = _read(name)
        assert "harbor_owner" in text and "harbor_app" in text, name
