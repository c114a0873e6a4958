"""Thin Celery tasks over the placement services. Each is idempotent: run twice, same result."""

from celery import shared_task

from . import placement


@shared_task(ignore_result=True)
def remind_follow_ups() -> int:
    """Daily: remind coordinators of due and overdue follow-ups (one message each per day)."""
    return placement.follow_up_reminders()
