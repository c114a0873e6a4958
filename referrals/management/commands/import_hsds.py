"""manage.py import_hsds <folder>: import Open Referral HSDS 3 CSV files into the directory."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from referrals.directory import hsds


class Command(BaseCommand):
    help = (
        "Import the HSDS 3 tabular files (services.csv, locations.csv, service_at_location.csv and "
        "the optional ones) in a folder into the treatment directory. All or nothing: any refused "
        "row is listed and nothing is changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path, help="The folder holding the CSV files.")
        parser.add_argument("--dry-run", action="store_true", help="Check the files; change nothing.")

    def handle(self, *args, folder: Path, dry_run: bool, **options) -> None:
        try:
            files = hsds.files_from_folder(folder)
        except hsds.HsdsFilesError as error:
            raise CommandError(str(error)) from error
        report = hsds.hsds_import(files=files, dry_run=dry_run)
        for problem in report.errors:
            self.stderr.write(f"refused: {problem}")
        for problem in report.warnings:
            self.stdout.write(self.style.WARNING(f"warning: {problem}"))
        if report.ignored_files:
            self.stdout.write(f"not read: {', '.join(report.ignored_files)}")
        if not report.ok:
            raise CommandError(report.summary())
        self.stdout.write(self.style.SUCCESS(report.summary()))
