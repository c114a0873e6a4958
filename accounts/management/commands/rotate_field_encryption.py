"""Re-encrypt every encrypted field with the first key of HARBOR_FIELD_ENCRYPTION_KEYS."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from config.fields import rotate_encryption


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value (history tables included) with the first key of "
        "HARBOR_FIELD_ENCRYPTION_KEYS, in batches. Afterwards the older keys can be removed. "
        "Safe to run while Harbor runs, and again: values already under the first key are left."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch", type=int, default=1000, help="Rows per transaction (default 1000).")

    def handle(self, *args, batch: int, **options) -> None:
        counts = rotate_encryption(batch=batch)
        # Model names and counts only: never a value.
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} values re-encrypted")
        self.stdout.write(f"Done: {sum(counts.values())} values re-encrypted with the first key.")
