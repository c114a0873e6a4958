"""Fixtures: one user per role in one department, plus an outsider and another department's staff."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role

from .factories import DepartmentFactory, UserFactory, VolunteerFactory, user_with_role


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
    InMemorySmsBackend.reset()


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
    return user_with_role(Role.ADMINISTRATOR, department, username="admin", is_staff=True, is_superuser=True)


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


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def officer_client(officer):
    return client_for(officer)


@pytest.fixture
def coordinator_client(coordinator):
    return client_for(coordinator)
