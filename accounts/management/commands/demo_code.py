"""Print the current two-factor code of a demo account, so the demo needs no phone.

Refused unless DEBUG is on: on a real server, codes come from the person's own phone.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.two_factor import totp_code


class Command(BaseCommand):
    help = "Print the current 6-digit two-factor code of a demo account (DEBUG only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_code works only with DJANGO_DEBUG=true (a demo or development server).")
        device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
        if device is None:
            raise CommandError(f"{username} has not set up two-factor sign-in.")
        remaining = device.step - int(time.time() - device.t0) % device.step
        self.stdout.write(totp_code(device=device))
        self.stderr.write(f"(valid for about {remaining} more seconds)")
