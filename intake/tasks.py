"""Thin Celery tasks over the intake services. Each is idempotent: run twice, same result."""

from celery import shared_task

from .services.retention import retention_anonymise


@shared_task(ignore_result=True)
def apply_retention() -> int:
    """Daily: anonymise people past their department's retention period. Safe on several hosts
    at once (people are claimed with SKIP LOCKED and marked anonymised). Returns how many."""
    return retention_anonymise().total_people
