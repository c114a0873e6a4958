"""Why nobody (or only some) can be paged for an intake: the matching rules, one by one.

``paging_explanation`` takes every volunteer of the intake's department and, for each, the first
matching rule that leaves them out, in a fixed order (``RULES``): not vetted or paused, no
verified phone or e-mail, not on call, busy with another person, language, gender, already
asked for this walk-in. It counts them,
and lists the near fits: volunteers left out by exactly one rule that a coordinator may relax for
one offer ("Page Tom anyway": language, gender, not on call; never vetting, busy or answered).

Every rule is a named entry of ``RULES`` whose test is a SQL expression, so the whole
explanation is one query whatever the number of volunteers (each rule is an annotation; the
per-volunteer walk through the rules is done on the fetched booleans). A new rule is one more
entry.

The explanation names volunteers by first name: it is for coordinators only (the desk sees
"nobody can be paged" and no names).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone

from intake.models import Intake
from volunteers.models import Offer, Shift, Volunteer
from volunteers.roster.models import BACKGROUND_CHECK_VALID_FOR

from .matching import _outside_quiet_hours


@dataclass(frozen=True)
class RuleContext:
    intake: Intake
    now: datetime
    today: date
    local_time: time


@dataclass(frozen=True)
class Rule:
    """One matching rule. ``passes`` builds the SQL test a volunteer must pass; ``removed`` says
    in words, for a count of volunteers, why they are out; ``relaxable``: a coordinator may page a
    volunteer left out by this rule alone anyway."""

    key: str
    passes: Callable[[RuleContext], Q]
    removed: Callable[[Intake], str]
    relaxable: bool = False
    # For a near fit: what the volunteer does have, then what is missing ("speaks it but …").
    near_fit: Callable[[Intake], str] = lambda intake: ""

    def relaxed_text(self, intake: Intake) -> str:
        return {
            "on_call": "not on call now",
            "language": f"does not speak {intake.get_companion_language_display()}",
            "gender": f"not {_gender_words(intake)}, as the person asked",
        }.get(self.key, self.key)


def _gender_words(intake: Intake) -> str:
    return intake.get_companion_gender_display().lower() if intake.companion_gender else ""


def _vetted(ctx: RuleContext) -> Q:
    return Q(
        is_active=True,
        user__is_active=True,
        background_check_on__gte=ctx.today - BACKGROUND_CHECK_VALID_FOR,
        training_completed_on__isnull=False,
        confidentiality_agreement_signed_on__isnull=False,
    )


def _reachable(ctx: RuleContext) -> Q:
    """A verified phone number or e-mail address (``VolunteerQuerySet.reachable``)."""
    return (Q(phone_verified_at__isnull=False) & ~Q(phone="")) | (
        Q(user__email_verified_at__isnull=False) & ~Q(user__email="")
    )


def _on_call(ctx: RuleContext) -> Q:
    on_shift_here = Shift.objects.filter(
        department=ctx.intake.department, starts_at__lte=ctx.now, ends_at__gt=ctx.now
    )
    return Q(pk__in=on_shift_here.values("volunteer")) | Q(call_any_time=True) & _outside_quiet_hours(
        ctx.local_time
    )


def _free(ctx: RuleContext) -> Q:
    busy = Offer.objects.filter(
        status=Offer.Status.ACCEPTED, intake__status__in=Intake.COMPANION_ENGAGED_STATUSES
    ).exclude(intake=ctx.intake)
    return ~Q(pk__in=busy.values("volunteer"))


def _speaks(ctx: RuleContext) -> Q:
    return Q(languages__contains=[ctx.intake.companion_language])


def _gender(ctx: RuleContext) -> Q:
    if not ctx.intake.companion_gender:
        return Q(pk__isnull=False)
    return Q(gender=ctx.intake.companion_gender)


def _not_asked(ctx: RuleContext) -> Q:
    return ~Q(pk__in=Offer.objects.filter(intake=ctx.intake).values("volunteer"))


RULES: list[Rule] = [
    Rule("vetted", _vetted, lambda intake: "not vetted or paused"),
    Rule("reachable", _reachable, lambda intake: "no verified phone or e-mail"),
    Rule(
        "on_call",
        _on_call,
        lambda intake: "not on call now",
        relaxable=True,
        near_fit=lambda intake: "fits but is not on call now",
    ),
    Rule("free", _free, lambda intake: "busy with another person"),
    Rule(
        "language",
        _speaks,
        lambda intake: f"do not speak {intake.get_companion_language_display()}",
        relaxable=True,
        near_fit=lambda intake: f"fits but does not speak {intake.get_companion_language_display()}",
    ),
    Rule(
        "gender",
        _gender,
        lambda intake: f"not {_gender_words(intake)}, as the person asked",
        relaxable=True,
        near_fit=lambda intake: (
            f"speaks {intake.get_companion_language_display()} but the person asked for "
            f"{_gender_words(intake)}"
        ),
    ),
    Rule("not_asked", _not_asked, lambda intake: "already asked for this walk-in"),
]
RULES_BY_KEY = {rule.key: rule for rule in RULES}
RELAXABLE_RULES = frozenset(rule.key for rule in RULES if rule.relaxable)


@dataclass(frozen=True)
class NearFit:
    volunteer: Volunteer
    rule: Rule
    text: str  # "Tom speaks it but the person asked for a woman"

    @property
    def first_name(self) -> str:
        return _first_name(self.volunteer)


@dataclass(frozen=True)
class Explanation:
    intake: Intake
    total: int  # volunteers of the department
    on_call: int  # of whom on call now (the on-call rule alone)
    eligible: int  # passing every rule: can be paged now
    asked: int = 0  # already asked for this walk-in (whatever else)
    removed: list[tuple[Rule, int]] = field(default_factory=list)  # first rule failed, in order
    near_fits: list[NearFit] = field(default_factory=list)

    @property
    def nobody_fits(self) -> bool:
        return self.eligible == 0

    @property
    def text(self) -> str:
        """In plain words: "Nobody can be paged: 0 of 12 on-call volunteers can be paged (3 busy
        with another person, 9 do not speak Vietnamese); 1 (Tom) speaks Vietnamese but …"."""
        if self.nobody_fits:
            head = "Nobody else can be paged" if self.asked else "Nobody can be paged"
        else:
            head = f"{self.eligible} more can be paged" if self.asked else f"{self.eligible} can be paged"
        parts = [f"{self.eligible} of {self.on_call} on-call volunteer{'s' if self.on_call != 1 else ''} fit"]
        counts = ", ".join(f"{n} {rule.removed(self.intake)}" for rule, n in self.removed if n)
        if counts:
            parts[0] += f" (of {self.total} in the department: {counts})"
        for text, names in self._near_fits_by_text():
            if len(names) > 1:
                text = _plural(text)
            parts.append(f"{len(names)} ({', '.join(names)}) {text}")
        return f"{head}: " + "; ".join(parts) + "."

    def _near_fits_by_text(self) -> list[tuple[str, list[str]]]:
        grouped: dict[str, list[str]] = {}
        for near in self.near_fits:
            grouped.setdefault(near.rule.near_fit(self.intake), []).append(near.first_name)
        return list(grouped.items())


# A near fit's words said of several volunteers ("fit but are not on call now").
_PLURALS = {"fits": "fit", "is": "are", "does": "do", "speaks": "speak"}


def _plural(text: str) -> str:
    return " ".join(_PLURALS.get(word, word) for word in text.split(" "))


def _first_name(volunteer: Volunteer) -> str:
    user = volunteer.user
    return (user.first_name or str(user)).strip()


def paging_explanation(*, intake: Intake, now: datetime | None = None) -> Explanation:
    """Every volunteer of the intake's department, through ``RULES``: one query."""
    now = now or timezone.now()
    department = intake.department
    ctx = RuleContext(
        intake=intake,
        now=now,
        today=timezone.localdate(now, timezone=department.tzinfo),
        local_time=timezone.localtime(now, department.tzinfo).time(),
    )
    annotations = {
        f"passes_{rule.key}": ExpressionWrapper(rule.passes(ctx), output_field=BooleanField())
        for rule in RULES
    }
    volunteers = list(
        Volunteer.objects.filter(departments=department)
        .select_related("user")
        .annotate(**annotations)
        .order_by("user__first_name", "pk")
    )
    removed = {rule.key: 0 for rule in RULES}
    near_fits: list[NearFit] = []
    eligible = on_call = asked = 0
    for volunteer in volunteers:
        failed = [rule for rule in RULES if not getattr(volunteer, f"passes_{rule.key}")]
        if RULES_BY_KEY["not_asked"] in failed:
            asked += 1
        if RULES_BY_KEY["on_call"] not in failed:
            on_call += 1
        if not failed:
            eligible += 1
            continue
        removed[failed[0].key] += 1
        if len(failed) == 1 and failed[0].relaxable:
            near_fits.append(NearFit(volunteer=volunteer, rule=failed[0], text=failed[0].near_fit(intake)))
    return Explanation(
        intake=intake,
        total=len(volunteers),
        on_call=on_call,
        eligible=eligible,
        asked=asked,
        removed=[(rule, removed[rule.key]) for rule in RULES],
        near_fits=near_fits,
    )
