"""Keeping the program figures: a copy in the shared cache, shown while a newer one is worked
out on the ``reports`` queue, and the department's version, bumped on the commit of every
change the figures count (``figures_changed``). Writes to the cache only, never to the database;
nothing about a person is cached or passed to a task."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from accounts.models import Department

from .figures import Period, ProgramFigures, default_period, program_figures

logger = logging.getLogger(__name__)

# Program figures in the shared cache (``program_figures_cached``): a copy is kept this long, to
# be shown while a newer one is worked out (its key holds the local date: never another day's).
FIGURES_KEPT_FOR = timedelta(days=1)
# A change is counted this long after its commit at the soonest, so that the commits of one
# action (a walk-in and its first wave of pages, a placement and its follow-ups) are counted by
# one computation...
FIGURES_REFRESH_DELAY = timedelta(seconds=1)
# ...and one department's figures are computed at most this often however often its records
# change (about 100 ms of database time each for the benchmark's largest department).
FIGURES_REFRESH_EVERY = timedelta(seconds=10)
# A refresh queued and never run (its message lost with Redis, its worker killed) stops another
# from being queued this long at most; the task is dropped unrun if it waited longer.
FIGURES_REFRESH_QUEUED_FOR = timedelta(minutes=2)


@dataclass(frozen=True)
class CachedFigures:
    """Program figures as the figures page shows them: a copy from the cache, perhaps older
    than the records (the page says so)."""

    figures: ProgramFigures
    # Changes made since ``figures.computed_at`` are not counted (one department), or the copy
    # is older than ``HARBOR_FIGURES_CACHE_SECONDS`` (several departments).
    out_of_date: bool = False
    # A newer computation is queued: the page says to reload in a moment.
    refreshing: bool = False


@dataclass(frozen=True)
class _Refresh:
    """How to ask for one set of figures to be computed again by the ``refresh_figures`` task:
    its arguments (department ids and a period's dates and clock, never anything about a
    person) and the cache key that says one is queued.

    A department's default figures (the page without dates) have a key and arguments of their
    own, without dates: the commit of a change asks for them knowing only the department's id."""

    queued_key: str
    task_kwargs: dict


def _figures_key(*, departments: list[Department], period: Period, now: datetime) -> str:
    today = timezone.localdate(now, period.time_zone)
    ids = ",".join(str(department.pk) for department in departments)
    digest = hashlib.sha256(
        f"{ids}|{period.start}|{period.end}|{period.time_zone}|{today}".encode()
    ).hexdigest()
    return f"harbor:figures:v4:{digest}"


def _department_refresh(department_id: int) -> _Refresh:
    return _Refresh(
        queued_key=f"harbor:figures:queued:department:{department_id}",
        task_kwargs={"department_ids": [department_id]},
    )


def _refresh_of(*, departments: list[Department], period: Period, now: datetime) -> _Refresh:
    if len(departments) == 1 and period == default_period(departments=departments, now=now):
        return _department_refresh(departments[0].pk)
    digest = _figures_key(departments=departments, period=period, now=now).rsplit(":", 1)[1]
    return _Refresh(
        queued_key=f"harbor:figures:queued:{digest}",
        task_kwargs={
            "department_ids": [department.pk for department in departments],
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "time_zone": str(period.time_zone),
        },
    )


def _figures_version_key(department_id: int) -> str:
    return f"harbor:figures:version:{department_id}"


def _computed_key(department_id: int) -> str:
    """When the department's default figures were last computed (a POSIX time), kept for
    ``FIGURES_REFRESH_EVERY``: its absence means long enough ago."""
    return f"harbor:figures:computed:{department_id}"


def _version(departments: list[Department]) -> int:
    """One department's figures version (bumped on commit of every change they count); several
    departments' figures have none (they are computed again by age)."""
    return cache.get(_figures_version_key(departments[0].pk), 0) if len(departments) == 1 else 0


def _is_up_to_date(*, departments: list[Department], version: int, kept: tuple, now: datetime) -> bool:
    kept_version, figures = kept
    if len(departments) == 1:
        return kept_version == version
    return now - figures.computed_at < timedelta(seconds=settings.HARBOR_FIGURES_CACHE_SECONDS)


def _keep(*, departments: list[Department], period: Period, version: int, figures: ProgramFigures) -> None:
    now = figures.computed_at
    cache.set(
        _figures_key(departments=departments, period=period, now=now),
        (version, figures),
        FIGURES_KEPT_FOR.total_seconds(),
    )
    if len(departments) == 1 and period == default_period(departments=departments, now=now):
        cache.set(_computed_key(departments[0].pk), now.timestamp(), FIGURES_REFRESH_EVERY.total_seconds())


def _ask_for_refresh(refresh: _Refresh, *, not_before: datetime) -> bool:
    """Queue the ``refresh_figures`` task (on the ``reports`` queue) to start at ``not_before``,
    unless one is queued already. True when one is queued. Never raises: an unreachable cache
    or broker is logged (without anything about a person) and the copy stays as it is."""
    from .tasks import refresh_figures  # the tasks module imports this one

    try:
        if not cache.add(refresh.queued_key, True, FIGURES_REFRESH_QUEUED_FOR.total_seconds()):
            return True
        try:
            refresh_figures.apply_async(
                kwargs=refresh.task_kwargs,
                countdown=max(0.0, (not_before - timezone.now()).total_seconds()),
                expires=FIGURES_REFRESH_QUEUED_FOR.total_seconds(),
                retry=False,  # on the walk-in's commit, among others: fail at once, never wait
            )
        except Exception:
            cache.delete(refresh.queued_key)
            raise
    except Exception:
        logger.warning(
            "figures refresh not queued: cache or broker unreachable",
            extra={"department_ids": refresh.task_kwargs["department_ids"]},
        )
        return False
    return True


def program_figures_cached(
    *, departments: list[Department], period: Period, now: datetime | None = None
) -> CachedFigures:
    """``program_figures`` for the figures page, from the shared cache (Redis in production;
    never a web process's memory). A network's figures take a second or more of database time
    and a department's up to a hundred milliseconds; the page is read far more often than the
    records change, and it must answer as fast as any other page. So figures are computed in
    the request only when no copy is kept at all (the first look of the day at a department or
    a period); otherwise the copy is shown, and when it is out of date a Celery task
    (``referrals.reports.tasks.refresh_figures``, queued once however many pages ask) computes it again
    on a worker of its own (the ``reports`` queue).

    One department's copy is out of date as soon as a change it counts has committed (a
    version per department, bumped by ``figures_changed``, which also queues the refresh). A
    copy of several departments' figures is out of date once older than
    ``settings.HARBOR_FIGURES_CACHE_SECONDS`` (across a network something changes every few
    seconds). ``HARBOR_FIGURES_CACHE_SECONDS = 0`` computes figures in every request.

    Copies are kept ``FIGURES_KEPT_FOR`` under a key holding the local date. An unreachable
    cache means figures computed in the request. Aggregates only: nothing about a person is
    cached or passed to the task.
    """
    if not settings.HARBOR_FIGURES_CACHE_SECONDS:
        return CachedFigures(program_figures(departments=departments, period=period, now=now))
    now = now or timezone.now()
    try:
        # The version before the figures are computed: a change committed meanwhile makes
        # them out of date at once.
        version = _version(departments)
        kept = cache.get(_figures_key(departments=departments, period=period, now=now))
    except Exception:
        logger.warning("figures cache unreachable: figures computed in the request")
        return CachedFigures(program_figures(departments=departments, period=period, now=now))
    if kept is None:
        figures = program_figures(departments=departments, period=period, now=now)
        try:
            _keep(departments=departments, period=period, version=version, figures=figures)
        except Exception:
            logger.warning("figures cache unreachable: figures not kept")
        return CachedFigures(figures)
    figures = kept[1]
    if _is_up_to_date(departments=departments, version=version, kept=kept, now=now):
        return CachedFigures(figures)
    not_before = now
    if len(departments) == 1:
        not_before = figures.computed_at + FIGURES_REFRESH_EVERY
    refresh = _refresh_of(departments=departments, period=period, now=now)
    return CachedFigures(
        figures, out_of_date=True, refreshing=_ask_for_refresh(refresh, not_before=not_before)
    )


def program_figures_refresh(
    *, departments: list[Department], period: Period | None = None, now: datetime | None = None
) -> ProgramFigures | None:
    """Compute the kept copy of figures again if it is out of date (``refresh_figures``, on the
    ``reports`` queue). ``period`` None: the departments' default period, read on their clock
    here (the commit that asked knew only a department's id).

    Computes nothing when no copy is kept (nobody has looked at these figures today: the next
    page computes them) or when the copy is up to date (another refresh came first). From its
    start, a change asks for another refresh: the queued mark is removed before the version is
    read. Returns the new figures, or None.
    """
    now = now or timezone.now()
    period = period or default_period(departments=departments, now=now)
    cache.delete(_refresh_of(departments=departments, period=period, now=now).queued_key)
    version = _version(departments)
    kept = cache.get(_figures_key(departments=departments, period=period, now=now))
    if kept is None or _is_up_to_date(departments=departments, version=version, kept=kept, now=now):
        return None
    figures = program_figures(departments=departments, period=period, now=now)
    _keep(departments=departments, period=period, version=version, figures=figures)
    return figures


def figures_changed(*, department_id: int) -> None:
    """The department's figures are out of date: its version goes up, and a refresh of its
    default figures is queued (once while one is queued), to start ``FIGURES_REFRESH_DELAY``
    from now, or ``FIGURES_REFRESH_EVERY`` after they were last computed if that is later.

    Runs on the commit of every change the figures count, the walk-in's among them: two round
    trips to the cache, and when no refresh is queued yet one more and a broker publish. Never
    raises: an unreachable cache or broker is logged, and the figures page then shows the copy
    it has and says that later changes are not counted yet.
    """
    refresh = _department_refresh(department_id)
    try:
        try:
            cache.incr(_figures_version_key(department_id))
        except ValueError:  # no version yet
            cache.set(_figures_version_key(department_id), 1, timeout=None)
        marks = cache.get_many([refresh.queued_key, _computed_key(department_id)])
    except Exception:
        logger.warning(
            "figures cache unreachable: version not bumped", extra={"department_id": department_id}
        )
        return
    if refresh.queued_key in marks:
        return
    not_before = timezone.now() + FIGURES_REFRESH_DELAY
    if (computed_at := marks.get(_computed_key(department_id))) is not None:
        not_before = max(not_before, datetime.fromtimestamp(computed_at, UTC) + FIGURES_REFRESH_EVERY)
    _ask_for_refresh(refresh, not_before=not_before)


def figures_changed_on_commit(sender, instance, **kwargs) -> None:
    """``post_save``/``post_delete`` receiver for the models the figures count."""
    department_id = getattr(instance, "department_id", None)
    if department_id is not None and settings.HARBOR_FIGURES_CACHE_SECONDS:
        transaction.on_commit(lambda: figures_changed(department_id=department_id))
