"""Two-factor sign-in: who needs it, enrolment of an authenticator app, recovery codes.

Built on django-otp. A user's authenticator app is a confirmed ``TOTPDevice``; their recovery
codes are the tokens of one ``StaticDevice`` named ``RECOVERY_DEVICE_NAME`` (each works once).
Desk officers, coordinators and administrators must complete two-factor sign-in before any
page (``accounts.middleware.TwoFactorMiddleware``); volunteers are asked to enrol, and once
enrolled are asked for a code like everyone else.
"""

from __future__ import annotations

import logging
import time
from base64 import b32encode
from dataclasses import dataclass

import pghistory
import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import TWO_FACTOR_RESET_EVENT, Role, User
from .selectors import user_roles

logger = logging.getLogger(__name__)

# Roles whose accounts reach personal records from a desk: a stolen password alone must not do.
TWO_FACTOR_ROLES = frozenset({Role.DESK_OFFICER, Role.COORDINATOR, Role.ADMINISTRATOR})
AUTHENTICATOR_DEVICE_NAME = "Authenticator app"
# Session key: when the user last completed the second factor (a Unix timestamp). The staff's
# 12-hour limit runs from here (accounts.middleware), so a password alone never renews it.
VERIFIED_AT = "harbor_verified_at"
RECOVERY_DEVICE_NAME = "Recovery codes"


def two_factor_required(*, user: User) -> bool:
    """Whether the user may not use Harbor until they have completed two-factor sign-in."""
    return bool(user.is_staff or user.is_superuser or user_roles(user=user) & TWO_FACTOR_ROLES)


def two_factor_enrolled(*, user: User) -> bool:
    """Whether the user has a confirmed authenticator app (their recovery codes come with it)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_device_for_enrolment(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator device the enrolment page shows, created on first visit
    and kept until confirmed, so reloading the page does not change the QR code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_DEVICE_NAME, confirmed=False)
    return device


@dataclass(frozen=True)
class EnrolmentDisplay:
    qr_svg: SafeString
    secret: str  # base32, in groups of four for typing by hand


def enrolment_display(*, device: TOTPDevice) -> EnrolmentDisplay:
    secret = totp_secret(device=device)
    # segno writes the QR code as an inline SVG: no image request, nothing for the CSP to allow.
    svg = segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#000", light="#fff")
    return EnrolmentDisplay(
        qr_svg=mark_safe(svg),  # noqa: S308 (segno's own markup; the URL holds no user input)
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    )


def totp_secret(*, device: TOTPDevice) -> str:
    """The device's key in base32, as authenticator apps take it typed by hand."""
    return b32encode(device.bin_key).decode("ascii").rstrip("=")


def totp_code(*, device: TOTPDevice) -> str:
    """The code the device's authenticator app shows now (for ``demo_code``: a demo's staff
    sign in without a phone)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def demo_totp_secret(user: User) -> str:
    """For ``seed_demo``: enrol a demo account (once) and return its setup key to print."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_DEVICE_NAME, confirmed=True)
    return totp_secret(device=device)


def second_factor_completed(*, request: HttpRequest, device) -> None:
    """The session passed its second factor with ``device``: a new session key (as at the
    password step, so a key seen before the code is worthless after it), then django-otp's
    verification, stamped with the time."""
    request.session.cycle_key()
    otp_login(request, device)
    request.session[VERIFIED_AT] = time.time()


def normalise_token(token: str) -> str:
    """Codes as people type them: spaces and dashes ignored, case ignored."""
    return "".join(token.split()).replace("-", "").lower()


@transaction.atomic
def totp_enrol(*, request: HttpRequest, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the authenticator app if ``token`` is its current code.

    On success the app becomes the user's only authenticator (an older one is removed), the
    session counts as verified, and a fresh set of recovery codes is returned to be shown once.
    """
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=request.user)
    if not device.verify_token(normalise_token(token)):
        logger.info("two-factor enrolment: wrong code", extra={"user_id": request.user.pk})
        return None
    TOTPDevice.objects.filter(user=request.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    second_factor_completed(request=request, device=device)
    logger.info("two-factor enrolled", extra={"user_id": request.user.pk})
    return recovery_codes_replace(user=request.user)


@transaction.atomic
def recovery_codes_replace(*, user: User) -> list[str]:
    """A new set of single-use recovery codes; any earlier set stops working."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.HARBOR_RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY_DEVICE_NAME).count()


@dataclass(frozen=True)
class Verification:
    device: StaticDevice | TOTPDevice | None
    throttled: bool = False  # too many recent wrong codes: this one was not even checked


def two_factor_verify(*, request: HttpRequest, token: str) -> Verification:
    """Complete two-factor sign-in with a code from the app or a recovery code.

    A six-digit code is checked against the authenticator app, anything else against the
    recovery codes, so a recovery code does not count as a failure of the app. django-otp
    throttles each device after failures (doubling delays) and consumes a recovery code that
    matches; the row locks stop two requests using one code at once.
    """
    token = normalise_token(token)
    model = TOTPDevice if len(token) == 6 and token.isdigit() else StaticDevice
    with transaction.atomic():
        devices = list(model.objects.devices_for_user(request.user).select_for_update())
        if devices and not any(device.verify_is_allowed()[0] for device in devices):
            logger.warning("two-factor verification throttled", extra={"user_id": request.user.pk})
            return Verification(device=None, throttled=True)
        device = next((device for device in devices if device.verify_token(token)), None)
    if device is None:
        logger.warning("two-factor verification failed", extra={"user_id": request.user.pk})
        return Verification(device=None)
    second_factor_completed(request=request, device=device)
    if isinstance(device, StaticDevice):
        logger.info("two-factor verified with a recovery code", extra={"user_id": request.user.pk})
    return Verification(device=device)


TWO_FACTOR_RESET_REASON_MAX = 500


@transaction.atomic
def two_factor_reset(*, user: User, actor: User, reason: str) -> None:
    """Remove every device (a lost phone): the user enrols again at their next sign-in.

    Precondition: ``actor`` may change ``user`` (``accounts.selectors.user_changeable_by``).
    Side effect: a ``two_factor.reset`` event in the account's change history, with ``actor``,
    the time and ``reason`` in its context, shown on the user's admin page. A reason is required.
    """
    reason = reason.strip()
    if not reason:
        raise ValueError("A reason is required to reset a second factor.")
    with pghistory.context(user=actor.pk, reason=reason[:TWO_FACTOR_RESET_REASON_MAX]):
        for device in devices_for_user(user, confirmed=None):
            device.delete()
        pghistory.create_event(user, label=TWO_FACTOR_RESET_EVENT)
    logger.info("two-factor reset", extra={"user_id": user.pk, "actor_id": actor.pk})
