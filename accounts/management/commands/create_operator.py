"""Create the operator's own account: a superuser that belongs to no department.

A department's administrators are not superusers (they get the administrator role in the
admin); this account is for whoever runs the installation. The password is asked for twice
(or read from HARBOR_OPERATOR_PASSWORD when there is no terminal, e.g. a deploy script); the
account enrols an authenticator app at its first sign-in.
"""

from __future__ import annotations

import getpass
import os

import pghistory
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.services import operator_create

PASSWORD_VARIABLE = "HARBOR_OPERATOR_PASSWORD"  # noqa: S105 (the variable's name, not a password)


class Command(BaseCommand):
    help = "Create the operator's superuser account (it holds no department membership)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", default="")

    def handle(self, *args, username: str, email: str, **options) -> None:
        password = os.environ.get(PASSWORD_VARIABLE) or self._ask_password()
        try:
            with pghistory.context(command="create_operator"):
                user = operator_create(username=username, email=email, password=password)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Operator account {user.username} created. It sets up two-factor sign-in at its "
                "first sign-in; give departments' administrators the administrator role instead."
            )
        )

    def _ask_password(self) -> str:
        try:
            first = getpass.getpass("Password: ")
            second = getpass.getpass("Password (again): ")
        except (EOFError, KeyboardInterrupt):
            raise CommandError(f"No password: run it in a terminal or set {PASSWORD_VARIABLE}.") from None
        if first != second:
            raise CommandError("The passwords do not match.")
        return first
