"""Thin Celery tasks over the reports services. Each is idempotent: run twice, same result."""

from datetime import date
from zoneinfo import ZoneInfo

from celery import shared_task

from accounts.models import Department

from . import services
from .figures import Period


@shared_task(ignore_result=True)
def refresh_figures(
    department_ids: list[int], start: str | None = None, end: str | None = None, time_zone: str | None = None
) -> None:
    """Compute program figures again and keep them in the cache, if the kept copy is out of date
    (``services.program_figures_refresh``). Routed to the ``reports`` queue (config/celery.py):
    a network's figures take seconds, which must never delay a volunteer's page.

    The arguments are department ids, in the page's order, and a period's first and last day
    and clock (all three absent: the default period): never anything about a person."""
    by_id = Department.objects.in_bulk(department_ids)
    if len(by_id) != len(set(department_ids)):
        return  # a department was deleted: nobody can ask for these figures any more
    period = None
    if start is not None:
        period = Period(
            start=date.fromisoformat(start), end=date.fromisoformat(end), time_zone=ZoneInfo(time_zone)
        )
    services.program_figures_refresh(departments=[by_id[pk] for pk in department_ids], period=period)
