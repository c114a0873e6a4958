"""Thin Celery tasks for the roster. Idempotent: running one twice, or on two hosts, is harmless."""

from celery import shared_task

from . import services as roster_services


@shared_task(ignore_result=True)
def extend_shift_series() -> int:
    """Daily: create the next weeks' shifts of every weekly series (claimed with SKIP LOCKED)."""
    return roster_services.shift_series_extend().created
