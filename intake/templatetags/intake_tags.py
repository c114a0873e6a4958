from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def minutes_since(moment, now=None) -> int:
    """Whole minutes from ``moment`` to now (for "waiting 12 min")."""
    return int(((now or timezone.now()) - moment).total_seconds() // 60)


@register.filter
def wait_class(minutes: int) -> str:
    """Amber after 10 minutes, red after 20 (DESIGN.md's live board)."""
    if minutes >= 20:
        return "text-danger fw-bold"
    if minutes >= 10:
        return "text-warning-emphasis fw-semibold"
    return ""


@register.filter
def elapsed(moment, now=None) -> str:
    """How long ago, as the board shows it: "12 min" under an hour and a half, else Django's
    ``timesince`` ("2 hours, 5 minutes"). A filter rather than an included template: the board
    shows it on a few hundred rows every 15 seconds."""
    now = now or timezone.now()
    minutes = minutes_since(moment, now)
    return f"{minutes} min" if minutes < 90 else timesince(moment, now)
