"""Fixtures: one user per role in one department, plus an outsider and another department's staff."""

from __future__ import annotations

import time
from urllib.parse import unquote_plus

import pytest
from django.test import Client

from accounts.models import Role

from .factories import DepartmentFactory, UserFactory, VolunteerFactory, user_with_role
from .phi_scan import PhiScanner, ScannerLogHandler


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashing costs ~0.3 s per user; the tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def figures_not_cached(settings):
    """Tests share one Redis while each has its own database: cached figures could cross over."""
    settings.HARBOR_FIGURES_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    """Text messages go to an in-memory outbox in every test; this fixture returns it."""
    from notifications.backends import InMemorySmsBackend

    settings.HARBOR_SMS_BACKEND = "notifications.backends.InMemorySmsBackend"
    InMemorySmsBackend.reset()
    yield InMemorySmsBackend.outbox
    for message in InMemorySmsBackend.outbox:
        PHI_SCANNER.add_text("text message", message)
    InMemorySmsBackend.reset()


# --- no personal health information leaves Harbor (tests/phi_scan.py) -------------------------

PHI_SCANNER = PhiScanner()


def _on_person_saved(sender, instance, **kwargs) -> None:
    PHI_SCANNER.add_person(instance)


def _on_notification_saved(sender, instance, **kwargs) -> None:
    PHI_SCANNER.add_text(f"notification {instance.kind}", f"{instance.subject} {instance.body}")


def _on_request(sender, environ, **kwargs) -> None:
    query = unquote_plus(environ.get("QUERY_STRING", ""))
    PHI_SCANNER.add_text("URL", f"{environ.get('PATH_INFO', '')}?{query}")


def _on_task_run(sender=None, task=None, args=None, kwargs=None, **extra) -> None:
    PHI_SCANNER.add_text(f"task {getattr(task, 'name', sender)} arguments", f"{args} {kwargs}")


def _on_task_published(sender=None, body=None, headers=None, **extra) -> None:
    PHI_SCANNER.add_text(f"task {sender} message", f"{body} {headers}")


@pytest.fixture(scope="session", autouse=True)
def phi_scanner():
    """Collect what Harbor sends out for the whole run (see tests/phi_scan.py)."""
    import logging

    from celery.signals import before_task_publish, task_prerun
    from django.core.signals import request_started
    from django.db.models.signals import post_save

    from intake.models import Person
    from notifications.models import Notification

    handler = ScannerLogHandler(PHI_SCANNER)
    logging.getLogger().addHandler(handler)
    post_save.connect(_on_person_saved, sender=Person, dispatch_uid="phi_scan_person")
    post_save.connect(_on_notification_saved, sender=Notification, dispatch_uid="phi_scan_notification")
    request_started.connect(_on_request, dispatch_uid="phi_scan_request")
    task_prerun.connect(_on_task_run, dispatch_uid="phi_scan_task_run")
    before_task_publish.connect(_on_task_published, dispatch_uid="phi_scan_task_publish")
    yield PHI_SCANNER
    logging.getLogger().removeHandler(handler)


@pytest.fixture(autouse=True)
def no_phi_leaves_harbor(phi_scanner):
    """After each test: none of the test persons' identifiers in logs, messages, tasks or URLs."""
    phi_scanner.clear_texts()
    yield phi_scanner
    from django.core import mail

    for message in getattr(mail, "outbox", []):
        phi_scanner.add_text("email", f"{message.subject} {message.body}")
    leaks = phi_scanner.leaks()
    phi_scanner.clear_texts()
    if leaks:
        pytest.fail("Personal health information left Harbor:\n" + "\n".join(map(str, leaks)), pytrace=False)


@pytest.fixture
def department(db):
    return DepartmentFactory(name="Gloucester Police Department")


@pytest.fixture
def other_department(db):
    return DepartmentFactory(name="Rockport Police Department", town="Rockport")


@pytest.fixture
def officer(department):
    return user_with_role(Role.DESK_OFFICER, department, username="officer")


@pytest.fixture
def second_officer(department):
    return user_with_role(Role.DESK_OFFICER, department, username="officer2")


@pytest.fixture
def coordinator(department):
    return user_with_role(Role.COORDINATOR, department, username="coordinator")


@pytest.fixture
def volunteer_user(department):
    user = user_with_role(Role.VOLUNTEER, department, username="volunteer")
    VolunteerFactory(user=user).departments.add(department)
    return user


@pytest.fixture
def administrator(department):
    """A department's administrator: staff, not a superuser (their role gives the admin permissions)."""
    return user_with_role(Role.ADMINISTRATOR, department, username="admin", is_staff=True)


@pytest.fixture
def outsider(db):
    """A signed-in user with no role anywhere."""
    return UserFactory(username="outsider")


@pytest.fixture
def other_officer(other_department):
    return user_with_role(Role.DESK_OFFICER, other_department, username="other-officer")


@pytest.fixture
def other_coordinator(other_department):
    return user_with_role(Role.COORDINATOR, other_department, username="other-coordinator")


def enrolled_totp(user):
    """The user's confirmed authenticator device, enrolling one if they have none."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test phone", confirmed=True)
    return device


def current_code(device) -> str:
    """What the user's authenticator app shows now."""
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def code_from_setup_key(typed_key: str) -> str:
    """What an authenticator app shows for a setup key typed by hand (groups of four)."""
    import base64

    from django_otp.oath import TOTP

    raw = typed_key.replace(" ", "")
    return f"{TOTP(base64.b32decode(raw + '=' * (-len(raw) % 8))).token():06d}"


def verify_two_factor(client: Client, user) -> None:
    """Complete two-factor sign-in for a signed-in test client, as the code page would."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from accounts.two_factor import VERIFIED_AT

    device = enrolled_totp(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[VERIFIED_AT] = time.time()  # the staff's 12-hour limit runs from here
    session.save()


def client_for(user) -> Client:
    """A client signed in as ``user``, past two-factor sign-in where their role requires it."""
    from accounts.two_factor import two_factor_required

    client = Client()
    if user is not None:
        client.force_login(user)
        if two_factor_required(user=user):
            verify_two_factor(client, user)
    return client


@pytest.fixture
def officer_client(officer):
    return client_for(officer)


@pytest.fixture
def coordinator_client(coordinator):
    return client_for(coordinator)
