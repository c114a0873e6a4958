"""Anonymise personal records past each department's retention period (intake.services.retention), then
VACUUM the tables it rewrote, so the old values leave the tables' files. Run it as the database
role that owns the tables (SECURITY.md): VACUUM needs the owner."""

from __future__ import annotations

import pghistory
from django.core.management.base import BaseCommand
from django.db import connection

from intake.services.retention import retention_anonymise, retention_vacuum


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
        if dry_run:
            return
        if connection.in_atomic_block:  # called inside a transaction (tests): VACUUM cannot run
            self.stdout.write("Not vacuumed: called inside a transaction.")
            return
        vacuumed = retention_vacuum()
        self.stdout.write(f"Vacuumed {len(vacuumed)} tables.")
