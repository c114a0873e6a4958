"""Thin Celery tasks: take a primary key, call a service. Safe to run twice."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, ignore_result=True)
def send_notification(notification_id: int) -> None:
    services.notification_send(notification_id=notification_id)


@shared_task(ignore_result=True)
def redrive_notifications() -> None:
    services.notifications_redrive()
