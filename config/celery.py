"""The Celery application. Periodic work is scheduled here, in code (celery beat)."""

import os

from celery import Celery, Task
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class HarborTask(Task):
    """Every task runs in a change-history context naming it (config.history), so a change a
    task makes to a personal record says which task made it. The name only: never the args."""

    def __call__(self, *args, **kwargs):
        import pghistory  # imported late: this module is loaded before Django's apps are

        with pghistory.context(task=self.name):
            return super().__call__(*args, **kwargs)


app = Celery("harbor", task_cls=HarborTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["config"])  # config is not an installed app
# The volunteers app keeps its tasks in its two parts (volunteers/roster, volunteers/paging).
app.autodiscover_tasks(["volunteers.roster", "volunteers.paging"])
app.autodiscover_tasks(["referrals.placement", "referrals.reports"])

# Paging and notifications run on the default queue ("celery"), whose worker must answer within a
# second (intake committed -> first text). Program figures are computed again on a queue of their
# own, consumed by a worker of its own (Procfile `reports`): a network's figures take seconds of
# database time and must never wait in front of a page to a volunteer.
REPORTS_QUEUE = "reports"
app.conf.task_routes = {"referrals.reports.tasks.refresh_figures": {"queue": REPORTS_QUEUE}}

# Periodic tasks are added by the apps that own them (paging sweeps, outbox re-drive, follow-up
# reminders). Each must be safe with several beat or worker hosts running at once.
app.conf.beat_schedule = {
    "heartbeat": {"task": "config.tasks.heartbeat", "schedule": 60.0},
    # Paging timers live in the database; this sweep acts on the due ones (SKIP LOCKED claims).
    "sweep-paging": {
        "task": "volunteers.paging.tasks.sweep_paging",
        "schedule": 5.0,
        "options": {"expires": 5},
    },
    # The outbox: anything the on-commit task did not send (broker down, worker killed).
    "redrive-notifications": {
        "task": "notifications.tasks.redrive_notifications",
        "schedule": 15.0,
        "options": {"expires": 15},
    },
    # Weekly on-call shifts are materialised eight weeks ahead; idempotent, claims with SKIP LOCKED.
    "extend-shift-series": {
        "task": "volunteers.roster.tasks.extend_shift_series",
        "schedule": crontab(hour=7, minute=10),  # 07:10 UTC, the small hours in the Americas
        "options": {"expires": 3600},
    },
    # Follow-ups due or overdue: one reminder per coordinator per day, morning in the Americas.
    # Safe to run twice: rows are claimed with SKIP LOCKED and marked reminded for the day, and
    # each message's idempotency key names the coordinator and the day.
    "remind-follow-ups": {
        "task": "referrals.placement.tasks.remind_follow_ups",
        "schedule": crontab(hour=12, minute=0),  # 12:00 UTC: 07:00 or 08:00 in Massachusetts
        "options": {"expires": 3600},
    },
    # Retention: people past their department's retention period are anonymised (aggregates
    # kept). Safe on several hosts: people are claimed with SKIP LOCKED and marked anonymised.
    "apply-retention": {
        "task": "intake.tasks.apply_retention",
        "schedule": crontab(hour=3, minute=30),  # 03:30 UTC, night in the Americas
        "options": {"expires": 3600},
    },
}
