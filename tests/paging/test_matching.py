"""Who is paged for a walk-in, in what order, and the reasons a coordinator sees."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from intake.models import Intake
from intake.services import intake_transition
from volunteers.models import Offer, Volunteer
from volunteers.paging.matching import rank_volunteers
from volunteers.paging.services import walk_in_close

from ..factories import IntakeFactory, OfferFactory, PersonFactory, ShiftFactory, VolunteerFactory
from .conftest import volunteer_on_call

pytestmark = pytest.mark.django_db

Status = Intake.Status


def local(department, hour: int, minute: int = 0) -> datetime:
    """Today at a wall-clock time in the department's time zone."""
    return datetime.combine(timezone.localdate(), time(hour, minute), tzinfo=department.tzinfo)


@pytest.fixture
def now(department):
    return local(department, 10)


@pytest.fixture
def walk_in(department, now):
    return IntakeFactory(department=department, arrived_at=now, companion_needed_at=now)


def paged(walk_in, now, **kwargs) -> list[Volunteer]:
    return [candidate.volunteer for candidate in rank_volunteers(intake=walk_in, now=now, **kwargs)]


def only_candidate(walk_in, now):
    (candidate,) = rank_volunteers(intake=walk_in, now=now)
    return candidate


def any_time(department, **fields) -> Volunteer:
    """Off shift but happy to be called any time, with no quiet hours: score 0 before bonuses."""
    return volunteer_on_call(department, on_shift=False, call_any_time=True, **fields)


# --- hard filters -----------------------------------------------------------------------------


def _user_inactive(volunteer):
    volunteer.user.is_active = False
    volunteer.user.save()


def _update(**fields):
    def change(volunteer):
        Volunteer.objects.filter(pk=volunteer.pk).update(**fields)

    return change


@pytest.mark.parametrize(
    "make_ineligible",
    [
        pytest.param(_update(is_active=False), id="volunteer inactive"),
        pytest.param(_user_inactive, id="account inactive"),
        pytest.param(
            _update(background_check_on=timezone.localdate() - timedelta(days=731)),
            id="background check older than two years",
        ),
        pytest.param(_update(background_check_on=None), id="no background check"),
        pytest.param(_update(training_completed_on=None), id="training not done"),
        pytest.param(_update(confidentiality_agreement_signed_on=None), id="agreement not signed"),
    ],
)
def test_a_volunteer_who_is_not_active_and_vetted_is_not_paged(department, walk_in, now, make_ineligible):
    eligible = volunteer_on_call(department, now=now)
    excluded = volunteer_on_call(department, now=now)

    make_ineligible(excluded)

    assert paged(walk_in, now) == [eligible]


def test_a_background_check_just_under_two_years_old_is_still_current(department, walk_in, now):
    volunteer = volunteer_on_call(department, now=now, background_check_on=now.date() - timedelta(days=730))

    assert paged(walk_in, now) == [volunteer]


def test_a_volunteer_of_another_department_is_not_paged(department, other_department, walk_in, now):
    ours = volunteer_on_call(department, now=now)
    volunteer_on_call(other_department, now=now)
    theirs_any_time = volunteer_on_call(other_department, on_shift=False, call_any_time=True)

    assert paged(walk_in, now) == [ours]
    assert theirs_any_time not in paged(walk_in, now, require_on_call=False)


def test_a_shift_in_another_department_does_not_put_a_volunteer_on_call_here(
    department, other_department, walk_in, now
):
    serves_both = volunteer_on_call(department, on_shift=False)
    serves_both.departments.add(other_department)
    ShiftFactory(volunteer=serves_both, department=other_department, starts_at=now - timedelta(hours=1))

    assert paged(walk_in, now) == []


@pytest.mark.parametrize(
    "shift_start, shift_end",
    [
        pytest.param(timedelta(hours=-9), timedelta(hours=-1), id="shift ended"),
        pytest.param(timedelta(hours=1), timedelta(hours=9), id="shift not started"),
        pytest.param(timedelta(hours=-8), timedelta(0), id="shift ends this very minute"),
    ],
)
def test_a_volunteer_off_shift_and_not_on_call_any_time_is_not_paged(
    department, walk_in, now, shift_start, shift_end
):
    on_shift = volunteer_on_call(department, now=now)
    off_shift = volunteer_on_call(department, on_shift=False)
    ShiftFactory(
        volunteer=off_shift, department=department, starts_at=now + shift_start, ends_at=now + shift_end
    )

    assert paged(walk_in, now) == [on_shift]


def test_a_volunteer_on_call_any_time_is_paged_without_a_shift(department, walk_in, now):
    volunteer = any_time(department)

    assert paged(walk_in, now) == [volunteer]


@pytest.mark.parametrize(
    "quiet_start, quiet_end, hour, minute, is_paged",
    [
        # Overnight quiet hours wrap past midnight.
        pytest.param(time(22), time(7), 23, 30, False, id="overnight, late evening"),
        pytest.param(time(22), time(7), 3, 0, False, id="overnight, small hours"),
        pytest.param(time(22), time(7), 6, 59, False, id="overnight, a minute before the end"),
        pytest.param(time(22), time(7), 7, 0, True, id="overnight, at the end"),
        pytest.param(time(22), time(7), 21, 59, True, id="overnight, a minute before the start"),
        pytest.param(time(22), time(7), 22, 0, False, id="overnight, at the start"),
        # The same window within one day.
        pytest.param(time(13), time(15), 14, 0, False, id="afternoon nap"),
        pytest.param(time(13), time(15), 15, 0, True, id="after the afternoon nap"),
        pytest.param(time(13), time(15), 12, 59, True, id="before the afternoon nap"),
    ],
)
def test_a_volunteer_on_call_any_time_is_not_paged_in_their_quiet_hours(
    department, quiet_start, quiet_end, hour, minute, is_paged
):
    now = local(department, hour, minute)
    walk_in = IntakeFactory(department=department, arrived_at=now, companion_needed_at=now)
    volunteer = any_time(department, quiet_hours_start=quiet_start, quiet_hours_end=quiet_end)

    assert paged(walk_in, now) == ([volunteer] if is_paged else [])


@pytest.mark.parametrize(
    "hour, is_paged",
    [
        # 20:00 in Los Angeles is 23:00 in New York (the server's zone) and 04:00 UTC.
        pytest.param(20, True, id="evening in Los Angeles, night elsewhere"),
        # 06:30 in Los Angeles is 09:30 in New York and 14:30 UTC.
        pytest.param(6, False, id="early morning in Los Angeles, day elsewhere"),
    ],
)
def test_quiet_hours_are_read_in_the_department_time_zone(department, hour, is_paged):
    department.time_zone = "America/Los_Angeles"
    department.save()
    now = local(department, hour, 30)
    walk_in = IntakeFactory(department=department, arrived_at=now, companion_needed_at=now)
    volunteer = any_time(department, quiet_hours_start=time(22), quiet_hours_end=time(7))

    assert paged(walk_in, now) == ([volunteer] if is_paged else [])


def test_quiet_hours_never_hold_back_a_page_while_the_volunteer_is_on_shift(department):
    now = local(department, 23, 30)
    walk_in = IntakeFactory(department=department, arrived_at=now, companion_needed_at=now)
    volunteer = volunteer_on_call(department, now=now, quiet_hours_start=time(22), quiet_hours_end=time(7))

    assert paged(walk_in, now) == [volunteer]
    assert "on shift now" in only_candidate(walk_in, now).reasons


def _assign(volunteer, *, department, status, now) -> Intake:
    other = IntakeFactory(department=department, status=status, companion_needed_at=None)
    OfferFactory(intake=other, volunteer=volunteer, status=Offer.Status.ACCEPTED, responded_at=now)
    return other


@pytest.mark.parametrize(
    "status", [Status.COMPANION_ASSIGNED, Status.COMPANION_ARRIVED, Status.SEARCHING_PLACEMENT]
)
def test_a_volunteer_on_another_open_assignment_is_not_paged(department, walk_in, now, status):
    free = volunteer_on_call(department, now=now)
    busy = volunteer_on_call(department, now=now)
    _assign(busy, department=department, status=status, now=now)

    assert paged(walk_in, now) == [free]
    assert busy not in paged(walk_in, now, require_on_call=False)


def test_a_volunteer_is_free_again_once_their_person_is_placed(department, walk_in, now, coordinator):
    volunteer = volunteer_on_call(department, now=now)
    other = _assign(volunteer, department=department, status=Status.COMPANION_ASSIGNED, now=now)
    assert paged(walk_in, now) == []

    for step in (Status.COMPANION_ARRIVED, Status.SEARCHING_PLACEMENT, Status.PLACED):
        other = intake_transition(intake=other, to_status=step, actor=coordinator)

    assert paged(walk_in, now) == [volunteer]


def test_a_volunteer_is_free_again_once_their_walk_in_is_closed(department, walk_in, now, coordinator):
    volunteer = volunteer_on_call(department, now=now)
    other = _assign(volunteer, department=department, status=Status.COMPANION_ARRIVED, now=now)
    assert paged(walk_in, now) == []

    walk_in_close(intake=other, actor=coordinator, reason=Intake.CloseReason.LEFT_BEFORE_PLACEMENT)

    assert paged(walk_in, now) == [volunteer]


def test_a_page_still_unanswered_elsewhere_does_not_make_a_volunteer_busy(department, walk_in, now):
    volunteer = volunteer_on_call(department, now=now)
    OfferFactory(intake=IntakeFactory(department=department), volunteer=volunteer)

    assert paged(walk_in, now) == [volunteer]


def test_only_volunteers_who_speak_the_person_language_are_paged(department, now):
    walk_in = IntakeFactory(department=department, companion_language="es", arrived_at=now)
    speaks_spanish = volunteer_on_call(department, now=now, languages=["en", "es"])
    volunteer_on_call(department, now=now, languages=["en"])
    volunteer_on_call(department, now=now, languages=["pt"])

    assert paged(walk_in, now) == [speaks_spanish]


def test_only_volunteers_of_the_gender_asked_for_are_paged(department, now):
    walk_in = IntakeFactory(department=department, companion_gender="woman", arrived_at=now)
    woman = volunteer_on_call(department, now=now, gender="woman")
    volunteer_on_call(department, now=now, gender="man")
    volunteer_on_call(department, now=now, gender="")

    assert paged(walk_in, now) == [woman]


def test_without_a_gender_asked_for_any_volunteer_may_be_paged(department, walk_in, now):
    volunteers = [volunteer_on_call(department, now=now, gender=gender) for gender in ("woman", "man", "")]

    assert sorted(v.pk for v in paged(walk_in, now)) == sorted(v.pk for v in volunteers)


@pytest.mark.parametrize("status", [Offer.Status.PENDING, Offer.Status.DECLINED, Offer.Status.EXPIRED])
def test_a_volunteer_already_paged_for_this_walk_in_is_not_paged_again(department, walk_in, now, status):
    fresh = volunteer_on_call(department, now=now)
    already = volunteer_on_call(department, now=now)
    OfferFactory(
        intake=walk_in,
        volunteer=already,
        status=status,
        responded_at=None if status == Offer.Status.PENDING else now,
    )

    assert paged(walk_in, now) == [fresh]
    assert already not in paged(walk_in, now, require_on_call=False)


def test_paging_by_hand_may_reach_a_vetted_volunteer_who_is_off_shift(department, walk_in, now):
    on_shift = volunteer_on_call(department, now=now)
    off_shift = volunteer_on_call(department, on_shift=False)
    asleep = any_time(department, quiet_hours_start=time(0), quiet_hours_end=time(23, 59))
    unvetted = volunteer_on_call(department, on_shift=False, training_completed_on=None)

    assert paged(walk_in, now) == [on_shift]
    by_hand = paged(walk_in, now, require_on_call=False)
    assert set(by_hand) == {on_shift, off_shift, asleep}
    assert unvetted not in by_hand


# --- the score ----------------------------------------------------------------------------------


def test_a_volunteer_with_nothing_in_particular_scores_zero(department, walk_in, now):
    any_time(department)

    candidate = only_candidate(walk_in, now)

    assert candidate.score == 0
    assert candidate.reasons == ["speaks English", "on call any time", "0 assignments in 30 days"]


def test_lived_experience_adds_three(department, walk_in, now):
    any_time(department, lived_experience=True)

    candidate = only_candidate(walk_in, now)

    assert candidate.score == 3
    assert "lived experience of recovery" in candidate.reasons


@pytest.mark.parametrize("person_is_veteran, bonus", [(True, 3), (False, 0), (None, 0)])
def test_a_veteran_adds_three_only_when_the_person_is_a_veteran(department, now, person_is_veteran, bonus):
    person = PersonFactory(department=department, veteran=person_is_veteran)
    walk_in = IntakeFactory(department=department, person=person, arrived_at=now)
    any_time(department, veteran=True)

    candidate = only_candidate(walk_in, now)

    assert candidate.score == bonus
    assert ("a veteran, like the person" in candidate.reasons) is bool(bonus)


def test_living_in_the_person_town_adds_two(department, now):
    person = PersonFactory(department=department, town="Rockport")
    walk_in = IntakeFactory(department=department, person=person, arrived_at=now)
    neighbour = any_time(department, home_town="rockport")
    station_town = any_time(department, home_town="Gloucester")

    scores = {c.volunteer: c for c in rank_volunteers(intake=walk_in, now=now)}

    assert scores[neighbour].score == 2
    assert "lives in rockport" in scores[neighbour].reasons
    assert scores[station_town].score == 0
    assert not any(reason.startswith("lives in") for reason in scores[station_town].reasons)


def test_without_the_person_town_living_in_the_station_town_adds_two(department, walk_in, now):
    assert walk_in.person.town == ""
    local_volunteer = any_time(department, home_town="Gloucester")
    any_time(department, home_town="Salem")
    any_time(department, home_town="")

    ranked = rank_volunteers(intake=walk_in, now=now)

    assert [c.score for c in ranked] == [2, 0, 0]
    assert ranked[0].volunteer == local_volunteer
    assert "lives in Gloucester" in ranked[0].reasons


def test_being_on_shift_adds_one(department, walk_in, now):
    on_shift = volunteer_on_call(department, now=now)
    any_time(department)

    ranked = rank_volunteers(intake=walk_in, now=now)

    assert (ranked[0].volunteer, ranked[0].score) == (on_shift, 1)
    assert "on shift now" in ranked[0].reasons
    assert "on call any time" in ranked[1].reasons


def _past_assignment(volunteer, *, department, days_ago: int, now) -> None:
    OfferFactory(
        intake=IntakeFactory(department=department, status=Status.PLACED, companion_needed_at=None),
        volunteer=volunteer,
        status=Offer.Status.ACCEPTED,
        created_at=now - timedelta(days=days_ago),
        responded_at=now - timedelta(days=days_ago),
    )


def _past_decline(volunteer, *, department, days_ago: int, now) -> None:
    OfferFactory(
        intake=IntakeFactory(department=department),
        volunteer=volunteer,
        status=Offer.Status.DECLINED,
        created_at=now - timedelta(days=days_ago),
        responded_at=now - timedelta(days=days_ago),
    )


def test_each_assignment_in_the_last_30_days_takes_one_off(department, walk_in, now):
    volunteer = any_time(department, lived_experience=True)
    for days_ago in (1, 29):
        _past_assignment(volunteer, department=department, days_ago=days_ago, now=now)
    _past_assignment(volunteer, department=department, days_ago=31, now=now)

    candidate = only_candidate(walk_in, now)

    assert candidate.score == 3 - 2
    assert "2 assignments in 30 days" in candidate.reasons


def test_one_assignment_reads_in_the_singular(department, walk_in, now):
    volunteer = any_time(department)
    _past_assignment(volunteer, department=department, days_ago=3, now=now)

    candidate = only_candidate(walk_in, now)

    assert candidate.score == -1
    assert "1 assignment in 30 days" in candidate.reasons


def test_each_decline_in_the_last_7_days_takes_one_off(department, walk_in, now):
    volunteer = any_time(department, lived_experience=True)
    for days_ago in (1, 6):
        _past_decline(volunteer, department=department, days_ago=days_ago, now=now)
    _past_decline(volunteer, department=department, days_ago=8, now=now)

    candidate = only_candidate(walk_in, now)

    assert candidate.score == 3 - 2
    assert "declined 2 times this week" in candidate.reasons


def test_no_declines_this_week_says_nothing_about_declines(department, walk_in, now):
    volunteer = any_time(department)
    _past_decline(volunteer, department=department, days_ago=8, now=now)

    assert not any("declined" in reason for reason in only_candidate(walk_in, now).reasons)


def test_the_score_adds_every_reason_up(department, now):
    person = PersonFactory(department=department, veteran=True, town="Essex")
    walk_in = IntakeFactory(department=department, person=person, companion_language="es", arrived_at=now)
    volunteer = volunteer_on_call(
        department, now=now, lived_experience=True, veteran=True, home_town="Essex", languages=["es"]
    )
    _past_assignment(volunteer, department=department, days_ago=2, now=now)
    _past_decline(volunteer, department=department, days_ago=2, now=now)

    candidate = only_candidate(walk_in, now)

    assert candidate.score == 3 + 3 + 2 + 1 - 1 - 1
    assert candidate.reasons_text == (
        "speaks Spanish; on shift now; lived experience of recovery; a veteran, like the person; "
        "lives in Essex; 1 assignment in 30 days; declined 1 time this week"
    )


def test_a_volunteer_with_several_shifts_departments_and_answers_is_ranked_once_and_counted_once(
    department, other_department, walk_in, now
):
    volunteer = volunteer_on_call(department, now=now)
    volunteer.departments.add(other_department)
    ShiftFactory(volunteer=volunteer, department=department, starts_at=now - timedelta(hours=30))
    ShiftFactory(volunteer=volunteer, department=other_department, starts_at=now + timedelta(hours=8))
    for served in (department, other_department):
        _past_assignment(volunteer, department=served, days_ago=3, now=now)
        _past_decline(volunteer, department=served, days_ago=2, now=now)
        _past_decline(volunteer, department=served, days_ago=20, now=now)
    for status in (Offer.Status.EXPIRED, Offer.Status.WITHDRAWN):
        OfferFactory(
            intake=IntakeFactory(department=department),
            volunteer=volunteer,
            status=status,
            responded_at=now - timedelta(days=1),
        )
    any_time(department)

    ranked = rank_volunteers(intake=walk_in, now=now)

    assert len(ranked) == 2
    (candidate,) = [c for c in ranked if c.volunteer == volunteer]
    assert candidate.score == 1 - 2 - 2
    assert "2 assignments in 30 days" in candidate.reasons
    assert "declined 2 times this week" in candidate.reasons


def test_without_any_town_to_compare_nobody_lives_in_it(department, walk_in, now):
    department.town = ""
    department.save()
    assert walk_in.person.town == ""
    any_time(department, home_town="")

    candidate = only_candidate(walk_in, now)

    assert candidate.score == 0
    assert not any(reason.startswith("lives in") for reason in candidate.reasons)


def test_the_reasons_say_the_gender_was_asked_for(department, now):
    walk_in = IntakeFactory(department=department, companion_gender="woman", arrived_at=now)
    any_time(department, gender="woman")

    assert "is a woman, as asked" in only_candidate(walk_in, now).reasons_text


def test_volunteers_are_ranked_best_score_first(department, walk_in, now):
    plain = any_time(department)
    lived = any_time(department, lived_experience=True)
    on_shift = volunteer_on_call(department, now=now)

    assert paged(walk_in, now) == [lived, on_shift, plain]


def test_a_tie_goes_to_the_volunteer_with_fewer_recent_assignments(department, walk_in, now):
    # Both score 0: 3 for lived experience less 3 assignments, against nothing at all.
    busy_lately = any_time(department, lived_experience=True)
    for days_ago in (1, 2, 3):
        _past_assignment(busy_lately, department=department, days_ago=days_ago, now=now)
    rested = any_time(department)

    ranked = rank_volunteers(intake=walk_in, now=now)

    assert [(c.volunteer, c.score) for c in ranked] == [(rested, 0), (busy_lately, 0)]


def test_then_a_tie_goes_to_the_longest_standing_volunteer(department, walk_in, now):
    newer = any_time(department)
    older = any_time(department)
    Volunteer.objects.filter(pk=older.pk).update(created_at=now - timedelta(days=400))
    Volunteer.objects.filter(pk=newer.pk).update(created_at=now - timedelta(days=10))

    assert paged(walk_in, now) == [older, newer]


def test_limit_keeps_the_best(department, walk_in, now):
    for _ in range(3):
        any_time(department)
    best = any_time(department, lived_experience=True)
    second = volunteer_on_call(department, now=now)

    assert paged(walk_in, now, limit=2) == [best, second]


@pytest.mark.parametrize("count", [3, 60])
def test_ranking_is_one_query_however_many_volunteers(department, now, count):
    walk_in = IntakeFactory(department=department, arrived_at=now)
    for n in range(count):
        volunteer = VolunteerFactory(call_any_time=True, home_town="Gloucester" if n % 2 else "")
        volunteer.departments.add(department)
        if n % 3 == 0:
            ShiftFactory(volunteer=volunteer, department=department, starts_at=now - timedelta(hours=1))
        if n % 5 == 0:
            _past_assignment(volunteer, department=department, days_ago=2, now=now)
            _past_decline(volunteer, department=department, days_ago=2, now=now)
    walk_in = Intake.objects.select_related("department", "person").get(pk=walk_in.pk)

    with CaptureQueriesContext(connection) as queries:
        ranked = rank_volunteers(intake=walk_in, now=now)
        reasons = [candidate.reasons_text for candidate in ranked]
        names = [str(candidate.volunteer) for candidate in ranked]

    assert len(ranked) == len(reasons) == len(names) == count
    assert len(queries) == 1
