from django import template
from django.utils import timezone

from intake import waiting

register = template.Library()


@register.filter
def minutes_since(moment, now=None) -> int:
    """Whole minutes from ``moment`` to now (for "waiting 12 min")."""
    return waiting.minutes_between(moment, now or timezone.now())


@register.filter
def wait_class(minutes: int) -> str:
    """Amber after 10 minutes, red after 20 (``intake.waiting``)."""
    return waiting.wait_class(minutes)
