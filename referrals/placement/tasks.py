"""Thin Celery tasks over the placement services. Each is idempotent: run twice, same result."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def remind_follow_ups() -> int:
    """Daily: remind coordinators of due and overdue follow-ups (one message each per day)."""
    return services.follow_up_reminders()
