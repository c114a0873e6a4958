from django import template
from django.utils import timezone

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
