"""The referrals app's models, kept in its parts: ``directory`` (facilities) and ``placement``
(calls to facilities, placements, disclosures, follow-ups). ``reports`` has no tables of its own.
Django finds an app's models here; each part owns its own. The change-history models
(``DisclosureHistory``…) are made here by ``config.history.track_changes``."""

from referrals.directory.models import (
    CAPACITY_FRESH_FOR,
    Facility,
    GenderServed,
    LevelOfCare,
    Medication,
    Payment,
)
from referrals.placement.models import (
    PART2_NOTICE_2_32,
    Disclosure,
    FollowUp,
    Placement,
    PlacementAttempt,
)

__all__ = [
    "CAPACITY_FRESH_FOR",
    "PART2_NOTICE_2_32",
    "Disclosure",
    "Facility",
    "FollowUp",
    "GenderServed",
    "LevelOfCare",
    "Medication",
    "Payment",
    "Placement",
    "PlacementAttempt",
]
