"""Anonymise personal records past each department's retention period (intake.retention)."""

from __future__ import annotations

import pghistory
from django.core.management.base import BaseCommand

from intake.retention import retention_anonymise


class Command(BaseCommand):
    help = "Anonymise people whose last contact is past their department's retention period."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would be done; change nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        with pghistory.context(command="apply_retention"):
            report = retention_anonymise(dry_run=dry_run)
        # Counts and department names only: never a person's name.
        for line in report.lines():
            self.stdout.write(line)
