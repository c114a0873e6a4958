"""Thin Celery tasks over the paging services. Each is idempotent: run twice, same result."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def page_intake(intake_id: str) -> None:
    """The first wave, queued when the intake commits (the sweep is the safety net)."""
    services.paging_advance(intake_id=intake_id)


@shared_task(ignore_result=True)
def sweep_paging() -> None:
    """Every few seconds: due waves and escalations, expired offers, late companions."""
    for intake_id in services.paging_due_intake_ids():
        services.paging_advance(intake_id=intake_id)
    services.offers_expire()
    services.arrival_checks()
