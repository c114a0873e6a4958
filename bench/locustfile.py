"""The three roles at work, for locust (headless, started by ``bench.run``).

Officers watch their desk page and log walk-ins; volunteers open their home page and accept the
offers prepared for them; coordinators watch the board (open it, and let it refresh itself), read
their department's figures, open walk-ins and search for beds; one coordinator of the whole
network reads the network's figures and board. Every user also loads the trivial page, the
yardstick of the run.

Everyone signs in over HTTP with the login form, in ``sign_in``; officers and coordinators then
enter their authenticator code (``bench.two_factor``). The run's manifest (``bench.prepare``)
says who signs in as what; every response's ``X-Harbor-Queries`` header is recorded with its
time, and the samples are written to the file named by ``BENCH_SAMPLES`` when locust quits.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from collections import defaultdict

from locust import HttpUser, between, events, task
from locust.exception import StopUser

from bench.two_factor import complete_two_factor

MANIFEST = json.load(open(os.environ["BENCH_MANIFEST"]))  # noqa: SIM115
SAMPLES_FILE = os.environ.get("BENCH_SAMPLES", "samples.json")
# Requests before this many seconds after the last user started are not measured (sign-ins, warm-up).
WARMUP = float(os.environ.get("BENCH_WARMUP", "10"))

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TRIVIAL = "/bench/trivial"

_samples: dict[str, list] = defaultdict(list)
_errors: dict[str, int] = defaultdict(int)
_window = {"from": None, "until": None}
_counters = defaultdict(itertools.count)


def _next(role: str, pool: list):
    return pool[next(_counters[role]) % len(pool)]


@events.spawning_complete.add_listener
def _spawned(user_count, **kwargs):
    _window["from"] = time.time() + WARMUP


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response, exception, start_time, **kwargs):
    if _window["from"] is None or start_time < _window["from"] or name.startswith("sign in"):
        return
    _window["until"] = max(_window["until"] or 0, start_time + response_time / 1000)
    if exception is not None:
        _errors[name] += 1
        return
    queries = response.headers.get("X-Harbor-Queries") if response is not None else None
    _samples[name].append([round(response_time, 2), int(queries) if queries else None])


@events.quitting.add_listener
def _write(environment, **kwargs):
    with open(SAMPLES_FILE, "w") as out:
        json.dump({"window": _window, "samples": _samples, "errors": _errors}, out)


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    if not match:
        raise StopUser("no CSRF token on the page")
    return match.group(1)


def sign_in(client, username: str, password: str) -> None:
    """Sign in with the login form, as a person would; staff then answer the code page
    (bench/two_factor.py)."""
    form = client.get("/accounts/login/", name="sign in (form)")
    response = client.post(
        "/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": csrf_token(form.text)},
        name="sign in",
        allow_redirects=False,
    )
    if response.status_code != 302:
        raise StopUser(f"{username} could not sign in ({response.status_code})")
    if not complete_two_factor(client, "", name="sign in (code)"):
        raise StopUser(f"{username} could not complete two-factor sign-in")


def first_look(client) -> None:
    """A coordinator's first look at their figures as they start, during the warm-up (not
    measured): the first look of the day computes them in the request, and the run's Redis is
    new, so without it the measured window caught that computation at random. The row
    "dashboard (network, computed)" measures such a computation on purpose."""
    client.get("/dashboard/figures/", name="sign in (first look at the figures)")


class HarborUser(HttpUser):
    abstract = True
    wait_time = between(0.5, 1.5)

    @task(2)
    def trivial(self):
        self.client.get(TRIVIAL, name="trivial page")


class DeskOfficer(HarborUser):
    weight = 6

    def on_start(self):
        self.me = _next("officer", MANIFEST["officers"])
        sign_in(self.client, self.me["username"], MANIFEST["password"])
        self.mine: list[str] = []

    @task(4)
    def desk(self):
        self.client.get("/intake/desk/", name="officer home")

    @task(2)
    def walk_in(self):
        form = self.client.get("/intake/new/", name="walk-in form")
        data = {
            "csrfmiddlewaretoken": csrf_token(form.text),
            "first_name": random.choice(["Alex", "Sam", "Jordan", "Casey", "Riley", "Morgan"]),
            "last_name": "",
            "preferred_language": "en",
            "companion_gender": "",
            "warrant_check": "none",
            "person_choice": "new",
        }
        if random.random() < 0.5:
            data["approximate_age"] = str(random.randint(19, 70))
        else:
            data["date_of_birth"] = (
                f"{random.randint(1955, 2004)}-{random.randint(1, 12):02d}-{random.randint(1, 28):02d}"
            )
        with self.client.post(
            "/intake/new/", data=data, name="new walk-in POST", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302:
                response.failure(f"walk-in not logged ({response.status_code})")
                return
            response.success()
        location = response.headers["Location"]
        self.mine.append(location)
        self.client.get(location, name="intake page")


class Volunteer(HarborUser):
    weight = 6

    def on_start(self):
        self.me = _next("volunteer", MANIFEST["volunteers"])
        sign_in(self.client, self.me["username"], MANIFEST["password"])
        self.links = list(self.me["offer_links"])

    @task(4)
    def home(self):
        self.client.get("/volunteers/", name="volunteer home")

    @task(1)
    def accept(self):
        if not self.links:
            return
        path = self.links.pop(0).split("//", 1)[1].split("/", 1)[1]
        page = self.client.get(f"/{path}", name="offer page")
        with self.client.post(
            f"/{path}",
            data={"answer": "accept", "csrfmiddlewaretoken": csrf_token(page.text)},
            name="offer accept",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code == 302:
                response.success()
            else:
                response.failure(f"accept refused ({response.status_code})")


class Coordinator(HarborUser):
    weight = 4

    def on_start(self):
        self.me = _next("coordinator", MANIFEST["coordinators"])
        sign_in(self.client, self.me["username"], MANIFEST["password"])
        first_look(self.client)

    @task(1)
    def board(self):
        self.client.get("/dashboard/", name="coordinator board")

    @task(2)
    def board_refresh(self):
        """What the open board asks every 15 seconds (htmx): the board without the page around it."""
        self.client.get("/dashboard/", headers={"HX-Request": "true"}, name="coordinator board (refresh)")

    @task(1)
    def figures(self):
        self.client.get("/dashboard/figures/", name="dashboard (department)")

    @task(2)
    def intake(self):
        self.client.get(f"/intake/{random.choice(self.me['intakes'])}/", name="intake page")

    @task(2)
    def facility_search(self):
        self.client.get(
            f"/referrals/intakes/{random.choice(self.me['intakes'])}/facilities/", name="facility search"
        )


class NetworkCoordinator(HarborUser):
    weight = 1
    fixed_count = 1

    def on_start(self):
        sign_in(self.client, MANIFEST["network_coordinator"]["username"], MANIFEST["password"])
        first_look(self.client)

    @task(2)
    def figures(self):
        self.client.get("/dashboard/figures/", name="dashboard (network)")

    @task(1)
    def board(self):
        self.client.get("/dashboard/", name="coordinator board (network)")

    @task(3)
    def board_refresh(self):
        """The open board refreshes itself every 15 seconds: the network coordinator's most
        frequent request (and enough samples for its p95 to be more than its worst one)."""
        self.client.get(
            "/dashboard/", headers={"HX-Request": "true"}, name="coordinator board (network, refresh)"
        )

    @task(1)
    def figures_uncached(self):
        """A period nobody asked for yet: the figures computed, not read from the cache."""
        day = random.randint(1, 28)
        self.client.get(
            f"/dashboard/figures/?start=2025-01-{day:02d}&end=2025-12-{day:02d}",
            name="dashboard (network, computed)",
        )

    @task(1)
    def healthz(self):
        self.client.get("/healthz", name="healthz")
