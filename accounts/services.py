"""Writes about users: the access log of personal records (42 CFR Part 2 audit), granting and
revoking roles, the operator's account, unlocking and deactivating accounts."""

from __future__ import annotations

import ipaddress
import logging

import pghistory
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from .models import OPERATOR_CREATED_EVENT, Department, Membership, Role, User

USER_AGENT_MAX = 200


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR; behind a trusted proxy (``DJANGO_BEHIND_PROXY``), the first X-Forwarded-For
    address. Anything that is not an IP address is dropped rather than stored."""
    candidate = request.META.get("REMOTE_ADDR", "")
    if settings.SECURE_PROXY_SSL_HEADER is not None:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[0].strip()
        candidate = forwarded or candidate
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


logger = logging.getLogger(__name__)


def account_unlock(*, coordinator: User, user: User) -> int:
    """Lift a login lockout early: forget ``user``'s failed sign-in attempts.

    Preconditions: ``user`` was fetched through ``users_coordinated_by(coordinator=…)`` and
    ``account_unlock_allowed`` (only an administrator unlocks an administrator). Returns the
    number of attempt records removed (0 if the account was not locked). Logged, by ids only.
    """
    removed = axes_reset(username=user.get_username())
    logger.info(
        "Account %s unlocked by coordinator %s (%s attempt records)", user.pk, coordinator.pk, removed
    )
    return removed


DUPLICATE_MEMBERSHIP = "This account already holds that role in that department."


@transaction.atomic
def membership_grant(*, user: User, department: Department, role: str, granted_by: User) -> Membership:
    """Give ``user`` ``role`` in ``department``.

    Precondition: ``granted_by`` administers ``department`` (the admin's form offers only those)
    or is the operator. Side effects: the insert is kept in the change history
    (``MembershipHistory``) with ``granted_by`` and the time; the administrator role also gives
    the account ``is_staff`` (the admin site is for staff). No lock: the unique constraint refuses
    a second identical grant (ValidationError).
    """
    if role not in Role.values:
        raise ValidationError("Choose one of Harbor's roles.")
    with pghistory.context(user=granted_by.pk):
        try:
            with transaction.atomic():
                membership = Membership.objects.create(user=user, department=department, role=role)
        except IntegrityError as error:
            raise ValidationError(DUPLICATE_MEMBERSHIP) from error
    if role == Role.ADMINISTRATOR and not user.is_staff:
        User.objects.filter(pk=user.pk).update(is_staff=True)
        user.is_staff = True
    logger.info(
        "Role %s in department %s granted to account %s by %s", role, department.pk, user.pk, granted_by.pk
    )
    return membership


@transaction.atomic
def membership_revoke(*, membership: Membership, revoked_by: User) -> None:
    """Take a role away. The delete is kept in the change history with ``revoked_by`` and the
    time. An account left without any administrator role loses ``is_staff`` (unless it is the
    operator's)."""
    user = membership.user
    with pghistory.context(user=revoked_by.pk):
        Membership.objects.filter(pk=membership.pk).delete()
    if (
        membership.role == Role.ADMINISTRATOR
        and not user.is_superuser
        and not Membership.objects.filter(user=user, role=Role.ADMINISTRATOR).exists()
    ):
        User.objects.filter(pk=user.pk).update(is_staff=False)
        user.is_staff = False
    logger.info(
        "Role %s in department %s revoked from account %s by %s",
        membership.role,
        membership.department_id,
        user.pk,
        revoked_by.pk,
    )


@transaction.atomic
def operator_create(*, username: str, email: str, password: str) -> User:
    """The operator's own account: a superuser that belongs to no department.

    Superuser is for whoever runs the installation, not for a department's administrators
    (check harbor.W006 warns while any superuser holds a membership). Raises ValidationError for
    a weak password or a username that is taken. Kept in the change history.
    """
    if User.objects.filter(username=username).exists():
        raise ValidationError("That username is taken.")
    user = User(username=username, email=email, is_staff=True, is_superuser=True)
    validate_password(password, user=user)
    user.set_password(password)
    user.save()
    pghistory.create_event(user, label=OPERATOR_CREATED_EVENT)
    logger.info("Operator account %s created", user.pk)
    return user


@transaction.atomic
def user_deactivate(*, user: User, actor: User) -> None:
    """Disable an account.

    Its sessions end on their next request: ModelBackend.get_user refuses inactive users, so
    ``request.user`` is anonymous and every page sends them to the login page (where an inactive
    account cannot sign in). Session rows are not scanned (their data cannot be filtered);
    ``clearsessions`` removes them when they expire.
    """
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    logger.info("Account %s deactivated by %s", user.pk, actor.pk)


# --- a user's own contact details (DESIGN.md "Notifications": verified before use) ------------


def user_update_phone(*, user: User, phone) -> User:
    """Set the user's own phone number (where coordinators are paged). A changed number is not
    verified any more. Locks the user's row."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if str(locked.phone or "") != str(phone or ""):
            locked.phone = phone
            locked.phone_verified_at = None
            locked.save(update_fields=["phone", "phone_verified_at"])
    return locked


def user_contact_mark_verified(*, user: User, channel: str, value: str, at) -> bool:
    """Record that ``value`` (the user's phone, ``channel="sms"``, or e-mail) reaches the user —
    only if it is still the user's value (it may have changed since the code was sent). One
    conditional UPDATE; returns whether it was recorded."""
    if channel == "sms":
        return bool(User.objects.filter(pk=user.pk, phone=value).update(phone_verified_at=at))
    if channel == "email":
        return bool(
            User.objects.filter(pk=user.pk, email=value).exclude(email="").update(email_verified_at=at)
        )
    return False
