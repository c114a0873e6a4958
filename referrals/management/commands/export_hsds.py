"""manage.py export_hsds <folder>: write the directory as Open Referral HSDS 3 CSV files."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from referrals.directory import hsds


class Command(BaseCommand):
    help = "Write the treatment directory as HSDS 3 tabular files (CSV) into a folder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "folder", type=Path, help="Created if missing; files of the same names are replaced."
        )

    def handle(self, *args, folder: Path, **options) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CommandError(f"Cannot create {folder}: {error}") from error
        files = hsds.hsds_export()
        for name, content in files.items():
            (folder / name).write_bytes(content)
        self.stdout.write(self.style.SUCCESS(f"Wrote {len(files)} files to {folder}."))
