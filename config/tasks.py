from celery import shared_task
from django.core.cache import cache
from django.utils import timezone


@shared_task(name="config.tasks.heartbeat")
def heartbeat() -> str:
    """Records that a worker ran a beat-scheduled task, for /healthz and operators."""
    stamp = timezone.now().isoformat()
    cache.set("harbor:worker-heartbeat", stamp, timeout=None)
    return stamp
