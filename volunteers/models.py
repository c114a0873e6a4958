"""The volunteers app's models, kept in its two parts: ``roster`` (volunteers, shifts) and
``paging`` (offers). Django finds an app's models here; each part owns its own."""

from volunteers.paging.models import OFFER_OPEN_FOR, Offer
from volunteers.roster.models import (
    BACKGROUND_CHECK_VALID_FOR,
    Shift,
    ShiftSeries,
    TsTzRange,
    Volunteer,
    VolunteerQuerySet,
    new_calendar_token,
)

__all__ = [
    "BACKGROUND_CHECK_VALID_FOR",
    "OFFER_OPEN_FOR",
    "Offer",
    "Shift",
    "ShiftSeries",
    "TsTzRange",
    "Volunteer",
    "VolunteerQuerySet",
    "new_calendar_token",
]
