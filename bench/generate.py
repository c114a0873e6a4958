"""A statewide data set, written by PostgreSQL itself (INSERT … SELECT over generate_series).

    DATABASE_URL=postgres://…/harbor_bench_small python -m bench.generate --size small

Run against a freshly migrated, empty database (``bench.run`` does both). Nothing goes through
the ORM one row at a time: each table is one or two set-based statements, so the full size
(200 departments, 5,000 volunteers, 2,000 facilities, 200,000 walk-ins over five years with their
events, offers, notifications, placements, attempts and follow-ups: about 3.5 million rows)
takes minutes. Every statement names its columns, so columns added later with a default do
not break it. Free-text and protected fields (notes, insurance member ids, needs) stay empty.

The shape, chosen for what the benchmark measures:

- Department 1 is a large city served by ``matching_volunteers`` volunteers (1,000 at the full
  and small sizes), every one eligible now (vetted, "call me any time", no quiet hours, English),
  and none busy: no walk-in of department 1 is open. ``bench.matching`` times matching there.
- Every volunteer has a daily eight-hour on-call shift from a week ago to two weeks ahead
  (three staggered start times, so a third is on shift at any moment; the exclusion constraint
  holds). 30% of the others are on call any time.
- Walk-ins skew towards low department numbers (a few big cities, many small towns); 75% of
  people walk in once and the rest come back. A walk-in older than a day is placed (64%, 85% of
  them with admission confirmed and four follow-ups) or closed (medical transfer 6%, otherwise
  after the companion came or nobody accepted). The newest few hundred, outside department 1,
  are open (waiting, companion on the way, arrived, searching), for the board.
- Every offer has its text message in the outbox, sent; withdrawn offers also their "filled".
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass

from bench.two_factor import BENCH_TOTP_KEY_HEX

# One password for every generated account (the locust users sign in with it).
BENCH_PASSWORD = "harbor-bench-password"  # noqa: S105 (a benchmark account, on loopback only)


@dataclass(frozen=True)
class Size:
    name: str
    departments: int
    volunteers: int
    facilities: int
    intakes: int
    years: int = 5
    officers_per_department: int = 3
    coordinators_per_department: int = 2
    matching_volunteers: int = 1000
    # The newest walk-ins (outside department 1) that are still open, for the board.
    open_intakes: int = 300


SIZES = {
    "full": Size("full", departments=200, volunteers=5000, facilities=2000, intakes=200_000),
    "small": Size("small", departments=20, volunteers=1500, facilities=200, intakes=10_000, open_intakes=100),
    # For the smoke test: seconds, not minutes.
    "tiny": Size(
        "tiny",
        departments=3,
        volunteers=40,
        facilities=10,
        intakes=300,
        matching_volunteers=20,
        open_intakes=12,
    ),
}

LEVELS = ["1", "2.1", "2.5", "3.1", "3.3", "3.5", "3.7", "4", "1-WM", "2-WM", "3.2-WM", "3.7-WM", "4-WM"]
FIRST_NAMES = [
    "Alex", "Sam", "Jordan", "Taylor", "Casey", "Riley", "Morgan", "Jamie", "Avery", "Quinn",
    "Maria", "Jose", "Ana", "Luis", "Sean", "Kevin", "Erin", "Megan", "Tom", "Liz",
]  # fmt: skip
LAST_NAMES = [
    "Silva", "Murphy", "Nguyen", "Smith", "Santos", "Oliveira", "Sullivan", "Kelly", "Pereira",
    "Walsh", "Brown", "Garcia", "Lopez", "Costa", "Ryan", "Doherty", "Tran", "Moore", "Lee", "Fox",
]  # fmt: skip


def _array(values: list[str]) -> str:
    """A text[] literal of fixed, known strings (never user input)."""
    return "(ARRAY[" + ",".join(f"'{v}'" for v in values) + "]::text[])"


def statements(size: Size, password_hash: str) -> list[tuple[str, str, tuple]]:
    """(label, SQL, params) in order. Integers are formatted in; the only parameter is the hash."""
    D, V, F, N, M = size.departments, size.volunteers, size.facilities, size.intakes, size.matching_volunteers
    P = max(1, round(N * 0.75))  # people
    R = size.open_intakes
    years = size.years
    first, last = _array(FIRST_NAMES), _array(LAST_NAMES)
    levels = _array(LEVELS)
    return [
        ("seed", "SELECT setseed(0.42)", ()),
        (
            "departments",
            f"""
            INSERT INTO accounts_department (name, street_address, town, state, postal_code, phone,
                time_zone, wave_size, wave_minutes, escalate_after_waves, escalate_after_minutes,
                expected_arrival_minutes, follow_up_days, retention_years, created_at)
            SELECT format('Bench Police Department %s', lpad(d::text, 3, '0')),
                   format('%s Main Street', d), format('Town %s', d), 'MA', '01930',
                   '+1978283' || lpad(d::text, 4, '0'), 'America/New_York', 3, 5, 2, 15, 30,
                   '{{1,7,30,90}}', 7, now() - interval '{years + 1} years'
            FROM generate_series(1, {D}) AS d
            """,
            (),
        ),
        (
            "department map",
            """
            CREATE TEMP TABLE g_dept AS
            SELECT row_number() OVER (ORDER BY id)::int AS d, id FROM accounts_department
            WHERE name LIKE 'Bench Police Department %'
            """,
            (),
        ),
        (
            "users",
            f"""
            INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email,
                is_staff, is_active, date_joined, display_name, phone)
            SELECT %s, false, u.username, u.first_name, 'Bench', u.username || '@bench.invalid',
                   false, true, now() - interval '{years + 1} years', '', ''
            FROM (
                SELECT 'officer-' || d || '-' || k AS username, 'Officer' AS first_name
                FROM generate_series(1, {D}) d, generate_series(1, {size.officers_per_department}) k
                UNION ALL
                SELECT 'coordinator-' || d || '-' || k, 'Coordinator'
                FROM generate_series(1, {D}) d, generate_series(1, {size.coordinators_per_department}) k
                UNION ALL
                SELECT 'coordinator-network', 'Network'
                UNION ALL
                SELECT 'volunteer-' || n, 'Volunteer' FROM generate_series(1, {V}) n
            ) AS u
            """,
            (password_hash,),
        ),
        (
            "memberships",
            f"""
            INSERT INTO accounts_membership (user_id, department_id, role, created_at)
            SELECT u.id, g.id, m.role, now() - interval '{years} years'
            FROM (
                SELECT format('officer-%s-%s', d, k) AS username, d, 'desk_officer' AS role
                FROM generate_series(1, {D}) d, generate_series(1, {size.officers_per_department}) k
                UNION ALL
                SELECT format('coordinator-%s-%s', d, k), d, 'coordinator'
                FROM generate_series(1, {D}) d, generate_series(1, {size.coordinators_per_department}) k
                UNION ALL
                SELECT 'coordinator-network', d, 'coordinator' FROM generate_series(1, {D}) d
                UNION ALL
                SELECT format('volunteer-%s', n), ((n - 1) % {D}) + 1, 'volunteer'
                FROM generate_series(1, {V}) n
            ) AS m
            JOIN accounts_user u ON u.username = m.username
            JOIN g_dept g ON g.d = m.d
            """,
            (),
        ),
        (
            # Staff sign in with two-factor sign-in: one known authenticator key (bench.two_factor).
            "two-factor devices",
            """
            INSERT INTO otp_totp_totpdevice (name, confirmed, key, step, t0, digits, tolerance, drift,
                last_t, user_id, throttling_failure_count, created_at)
            SELECT 'Bench phone', true, %s, 30, 0, 6, 1, 0, -1, u.id, 0, now()
            FROM accounts_user u
            WHERE EXISTS (
                SELECT 1 FROM accounts_membership m WHERE m.user_id = u.id AND m.role <> 'volunteer'
            )
            """,
            (BENCH_TOTP_KEY_HEX,),
        ),
        (
            "volunteers",
            f"""
            INSERT INTO volunteers_volunteer (user_id, phone, languages, gender, lived_experience, veteran,
                channels, quiet_hours_start, quiet_hours_end, home_town, call_any_time, is_active,
                calendar_token, background_check_on, training_completed_on,
                confidentiality_agreement_signed_on, created_at)
            SELECT u.id, '+1617' || lpad(n::text, 7, '0'),
                   CASE WHEN n % 5 = 0 THEN ARRAY['en', 'es'] WHEN n % 17 = 0 THEN ARRAY['en', 'pt']
                        ELSE ARRAY['en'] END,
                   (ARRAY['woman', 'man', 'nonbinary'])[1 + n % 3], n % 4 = 0, n % 9 = 0, 'sms',
                   NULL, NULL, format('Town %s', ((n - 1) % {D}) + 1),
                   n <= {M} OR random() < 0.3, true, md5('bench-calendar-' || n),
                   -- vetted, but one in twenty of the others has a lapsed background check
                   current_date - CASE WHEN n > {M} AND n % 20 = 0 THEN 900 ELSE 100 END,
                   current_date - 90, current_date - 90, now() - interval '{years} years'
            FROM generate_series(1, {V}) n
            JOIN accounts_user u ON u.username = format('volunteer-%s', n)
            """,
            (),
        ),
        (
            "volunteer map",
            """
            CREATE TEMP TABLE g_vol AS
            SELECT substr(u.username, 11)::int AS n, v.id, v.user_id, v.phone
            FROM volunteers_volunteer v JOIN accounts_user u ON u.id = v.user_id
            WHERE u.username LIKE 'volunteer-%'
            """,
            (),
        ),
        (
            "volunteer departments",
            f"""
            INSERT INTO volunteers_volunteer_departments (volunteer_id, department_id)
            SELECT v.id, g.id FROM g_vol v JOIN g_dept g ON g.d = ((v.n - 1) % {D}) + 1
            UNION
            SELECT v.id, g.id FROM g_vol v JOIN g_dept g ON g.d = 1 WHERE v.n <= {M}
            """,
            (),
        ),
        (
            "shifts",
            f"""
            INSERT INTO volunteers_shift (volunteer_id, department_id, series_id, starts_at, ends_at,
                created_at)
            SELECT v.id, g.id, NULL, s.starts_at, s.starts_at + interval '8 hours', now() - interval '30 days'
            FROM g_vol v
            JOIN g_dept g ON g.d = CASE WHEN v.n <= {M} THEN 1 ELSE ((v.n - 1) % {D}) + 1 END
            CROSS JOIN LATERAL (
                SELECT date_trunc('day', now()) + day * interval '1 day' + (v.n % 3) * interval '8 hours'
                       AS starts_at
                FROM generate_series(-7, 14) AS day
            ) AS s
            """,
            (),
        ),
        (
            "facilities",
            f"""
            INSERT INTO referrals_facility (name, organization_name, description, email, contact_name,
                is_active, hsds_service_id, hsds_location_id, hsds_organization_id, street_address, town,
                state, postal_code, phone, hours, website, levels_of_care, medications, gender_served,
                minimum_age, maximum_age, serves_pregnant_women, payment_accepted, beds_available,
                beds_maximum, capacity_updated_at, capacity_updated_by_id, created_at)
            SELECT format('Bench Recovery Center %s', i), format('Bench Health %s', i % 50), '', '', '',
                   i % 25 <> 0, '', '', '', format('%s Harbor Road', i), format('Town %s', 1 + i % {D}),
                   'MA', '01930', '', '24/7', '',
                   ARRAY(SELECT l FROM unnest({levels}) WITH ORDINALITY AS x(l, o)
                         WHERE o = 1 + i % 13 OR random() < 0.25 + 0 * i),
                   ARRAY(SELECT m FROM unnest(ARRAY['methadone', 'buprenorphine', 'naltrexone']) AS m
                         WHERE random() < 0.4 + 0 * i),
                   (ARRAY['all', 'all', 'all', 'women', 'men'])[1 + i % 5], 18, NULL, i % 7 = 0,
                   ARRAY(SELECT p FROM unnest(ARRAY['medicaid', 'medicare', 'private', 'self_pay', 'free'])
                         WITH ORDINALITY AS x(p, o) WHERE o = 1 + i % 3 OR random() < 0.4 + 0 * i),
                   CASE WHEN i % 5 = 0 THEN NULL ELSE (random() * 12)::int END, 30,
                   CASE WHEN i % 5 = 0 THEN NULL ELSE now() - random() * interval '60 hours' END,
                   NULL, now() - interval '{years} years'
            FROM generate_series(1, {F}) i
            """,
            (),
        ),
        (
            "facility map",
            "CREATE TEMP TABLE g_fac AS "
            "SELECT row_number() OVER (ORDER BY id)::int AS f, id FROM referrals_facility "
            "WHERE name LIKE 'Bench Recovery Center %'; CREATE INDEX ON g_fac (f)",
            (),
        ),
        (
            "staff map",
            f"""
            -- The volunteers each department's past walk-ins paged: department 1 only its matching
            -- volunteers, the others never those (so that none of them is busy with an open walk-in).
            CREATE TEMP TABLE g_dv AS
            SELECT g.d, (row_number() OVER (PARTITION BY g.d ORDER BY v.id) - 1)::int AS k,
                   v.id AS volunteer_id, v.user_id, v.phone
            FROM g_dept g
            JOIN volunteers_volunteer_departments vd ON vd.department_id = g.id
            JOIN g_vol v ON v.id = vd.volunteer_id
            WHERE (g.d = 1) = (v.n <= {M});
            CREATE INDEX ON g_dv (d, k);
            CREATE TEMP TABLE g_staff AS
            SELECT g.d, g.id AS department_id,
                   (SELECT id FROM accounts_user WHERE username = 'officer-' || g.d || '-1') AS officer_id,
                   (SELECT id FROM accounts_user WHERE username = 'coordinator-' || g.d || '-1')
                       AS coordinator_id,
                   (SELECT count(*) FROM g_dv WHERE g_dv.d = g.d)::int AS volunteers
            FROM g_dept g;
            ANALYZE g_dv
            """,
            (),
        ),
        (
            "people",
            f"""
            CREATE TEMP TABLE g_person AS
            SELECT p, gen_random_uuid() AS id,
                   1 + least({D} - 1, floor({D} * power(random(), 1.5))::int) AS d
            FROM generate_series(1, {P}) p;
            CREATE INDEX ON g_person (p);
            INSERT INTO intake_person (id, department_id, first_name, last_name, date_of_birth,
                approximate_age, gender, pronouns, preferred_language, phone, town, insurance,
                insurance_member_id, veteran, emergency_contact_name, emergency_contact_phone,
                anonymised_at, created_at, updated_at)
            SELECT gp.id, g.id, {first}[1 + (p * 7) % 20], {last}[1 + (p * 13) % 20],
                   date '1950-01-01' + (random() * 19000)::int, NULL,
                   (ARRAY['woman', 'man', 'man', 'nonbinary', ''])[1 + p % 5], '',
                   CASE WHEN p % 10 = 0 THEN 'es' ELSE 'en' END, '', format('Town %s', gp.d),
                   (ARRAY['medicaid', 'medicaid', 'medicare', 'private', 'none', ''])[1 + p % 6], '',
                   CASE WHEN p % 11 = 0 THEN true ELSE NULL END, '', '', NULL,
                   now() - interval '{years} years', now() - interval '{years} years'
            FROM g_person gp JOIN g_dept g ON g.d = gp.d
            """,
            (),
        ),
        (
            "walk-in plan",
            f"""
            CREATE TEMP TABLE g_intake AS
            WITH base AS (
                SELECT i, gen_random_uuid() AS id, 1 + floor(random() * {P})::int AS p, random() AS r,
                       random() AS r2, abs(hashtext(i::text)) AS h
                FROM generate_series(1, {N}) i
            ), placed AS (
                SELECT b.*, gp.d, gp.id AS person_id,
                       CASE WHEN b.i <= {R} AND gp.d > 1
                            THEN now() - random() * interval '6 hours'
                            ELSE now() - interval '1 day' - random() * interval '{years * 365 - 1} days'
                       END AS arrived_at,
                       b.i <= {R} AND gp.d > 1 AS open
                FROM base b JOIN g_person gp ON gp.p = b.p
            )
            SELECT *,
                   CASE
                     WHEN open THEN (ARRAY['waiting_for_companion', 'companion_assigned',
                                           'companion_assigned', 'companion_arrived', 'searching_placement',
                                           'searching_placement'])[1 + h % 6]
                     WHEN r < 0.06 THEN 'closed'
                     WHEN r < 0.36 THEN 'closed'
                     ELSE 'placed'
                   END AS status,
                   CASE
                     WHEN open THEN ''
                     WHEN r < 0.06 THEN 'medical_transfer'
                     WHEN r < 0.08 THEN 'duplicate'
                     WHEN r < 0.36 THEN (ARRAY['declined_treatment', 'left_before_placement', 'ineligible',
                                               'referred_elsewhere'])[1 + h % 4]
                     ELSE ''
                   END AS close_reason,
                   -- how far the walk-in got: 0 waiting, 1 companion accepted, 2 arrived, 3 searching,
                   -- 4 placed, 5 admitted
                   CASE
                     WHEN open THEN (ARRAY[0, 1, 1, 2, 3, 3])[1 + h % 6]
                     WHEN r < 0.06 THEN -1
                     WHEN r < 0.36 THEN (ARRAY[0, 1, 2, 3, 3])[1 + h % 5]
                     WHEN r2 < 0.85 THEN 5
                     ELSE 4
                   END AS reached,
                   arrived_at + (2 + random() * 25) * interval '1 minute' AS t_assigned,
                   (10 + random() * 35) * interval '1 minute' AS d_arrived,
                   (5 + random() * 30) * interval '1 minute' AS d_search,
                   (20 + random() * 240) * interval '1 minute' AS d_placed,
                   (1 + random() * 20) * interval '1 hour' AS d_admitted,
                   1 + (h % 3) AS attempts
            FROM placed;
            ALTER TABLE g_intake ADD COLUMN t_arrived timestamptz, ADD COLUMN t_search timestamptz,
                ADD COLUMN t_placed timestamptz, ADD COLUMN t_admitted timestamptz,
                ADD COLUMN t_closed timestamptz;
            UPDATE g_intake SET t_arrived = t_assigned + d_arrived,
                                t_search = t_assigned + d_arrived + d_search,
                                t_placed = t_assigned + d_arrived + d_search + d_placed,
                                t_admitted = t_assigned + d_arrived + d_search + d_placed + d_admitted;
            -- The open ones have not got further than now.
            UPDATE g_intake SET t_assigned = least(t_assigned, now() - interval '3 minutes'),
                                t_arrived = least(t_arrived, now() - interval '2 minutes'),
                                t_search = least(t_search, now() - interval '1 minute')
            WHERE open;
            UPDATE g_intake SET t_closed = CASE reached WHEN -1 THEN arrived_at
                                                        WHEN 0 THEN arrived_at + interval '70 minutes'
                                                        WHEN 1 THEN t_assigned + interval '15 minutes'
                                                        WHEN 2 THEN t_arrived + interval '20 minutes'
                                                        ELSE t_search + interval '90 minutes' END
            WHERE status = 'closed';
            CREATE INDEX ON g_intake (id);
            ANALYZE g_intake
            """,
            (),
        ),
        (
            "walk-ins",
            """
            INSERT INTO intake_intake (id, department_id, person_id, arrived_at, logged_by_id, status,
                close_reason, closed_at, companion_needed_at, paging_escalated_at, needs_emergency_care,
                warrant_check, weapons_on_person, under_18, guardian_name, guardian_relationship,
                guardian_consent_at, items_surrendered, surrendered_item_types, surrendered_items_disposed,
                substances, last_use_at, overdose_history, medical_concerns, mental_health_concerns,
                pregnancy, companion_language, companion_gender, needs, notes, created_at, updated_at)
            SELECT gi.id, s.department_id, gi.person_id, gi.arrived_at, s.officer_id, gi.status,
                   gi.close_reason, gi.t_closed, NULL, NULL, gi.close_reason = 'medical_transfer',
                   (ARRAY['none', 'none', 'not_checked', 'proceed'])[1 + gi.h % 4], false, false, '', '',
                   NULL, gi.h % 7 = 0,
                   CASE WHEN gi.h % 7 = 0 THEN ARRAY['syringes'] ELSE ARRAY[]::varchar[] END, gi.h % 7 = 0,
                   (CASE gi.h % 4 WHEN 0 THEN ARRAY['opioids'] WHEN 1 THEN ARRAY['alcohol']
                                  WHEN 2 THEN ARRAY['opioids', 'stimulants'] ELSE ARRAY['benzodiazepines']
                    END)::varchar[],
                   NULL, '', '', '', '', 'en', '', '', '',
                   gi.arrived_at, coalesce(gi.t_closed, gi.arrived_at)
            FROM g_intake gi JOIN g_staff s ON s.d = gi.d
            """,
            (),
        ),
        (
            "events",
            """
            INSERT INTO intake_intakeevent (intake_id, from_status, to_status, close_reason, actor_id, at)
            SELECT gi.id, e.from_status, e.to_status, e.close_reason, s.officer_id, e.at
            FROM g_intake gi JOIN g_staff s ON s.d = gi.d
            CROSS JOIN LATERAL (VALUES
                (0, '', 'waiting_for_companion', '', gi.arrived_at),
                (1, 'waiting_for_companion', 'companion_assigned', '', gi.t_assigned),
                (2, 'companion_assigned', 'companion_arrived', '', gi.t_arrived),
                (3, 'companion_arrived', 'searching_placement', '', gi.t_search),
                (4, 'searching_placement', 'placed', '', gi.t_placed)
            ) AS e(step, from_status, to_status, close_reason, at)
            WHERE e.step <= greatest(gi.reached, 0) AND e.step <= 4
            UNION ALL
            SELECT gi.id, CASE greatest(gi.reached, 0) WHEN 0 THEN 'waiting_for_companion'
                                                       WHEN 1 THEN 'companion_assigned'
                                                       WHEN 2 THEN 'companion_arrived'
                                                       ELSE 'searching_placement' END,
                   'closed', gi.close_reason, s.officer_id, gi.t_closed
            FROM g_intake gi JOIN g_staff s ON s.d = gi.d
            WHERE gi.status = 'closed'
            """,
            (),
        ),
        (
            "offers",
            """
            INSERT INTO volunteers_offer (department_id, intake_id, volunteer_id, wave, source, reasons,
                status, created_at, expires_at, responded_at, expected_arrival_at, arrived_at,
                arrival_check_at, arrival_reminded_at, arrival_escalated_at)
            SELECT s.department_id, gi.id, dv.volunteer_id, 1, 'wave', 'speaks English; on call any time',
                   o.status, gi.arrived_at, gi.arrived_at + interval '60 minutes', o.responded_at,
                   CASE WHEN o.status = 'accepted' THEN gi.t_assigned + interval '30 minutes' END,
                   CASE WHEN o.status = 'accepted' AND gi.reached >= 2 THEN gi.t_arrived END,
                   NULL, NULL, NULL
            FROM g_intake gi JOIN g_staff s ON s.d = gi.d
            CROSS JOIN LATERAL (
                SELECT j,
                       CASE WHEN gi.reached >= 1 THEN (CASE WHEN j = 0 THEN 'accepted' ELSE 'withdrawn' END)
                            WHEN gi.open THEN 'declined'
                            ELSE 'expired' END AS status,
                       CASE WHEN gi.reached >= 1 THEN gi.t_assigned
                            WHEN gi.open THEN gi.arrived_at + interval '1 minute'
                            ELSE gi.arrived_at + interval '60 minutes' END AS responded_at
                FROM generate_series(0, 2) AS j
            ) AS o
            JOIN g_dv dv ON dv.d = gi.d AND dv.k = (gi.h + o.j) % s.volunteers
            WHERE gi.reached >= 0
            """,
            (),
        ),
        (
            "notifications",
            """
            INSERT INTO notifications_notification (department_id, intake_id, offer_id, recipient_id, channel,
                kind, "to", subject, body, idempotency_key, status, attempts, next_attempt_at, claimed_at,
                provider_message_id, last_error, created_at, sent_at)
            SELECT o.department_id, o.intake_id, o.id, v.user_id, 'sms', n.kind, v.phone, '', n.body,
                   format('offer:%s:%s:sms', o.id, n.kind), 'sent', 1, n.at, n.at,
                   format('bench-%s-%s', o.id, n.kind), '', n.at, n.at + interval '1 second'
            FROM volunteers_offer o JOIN volunteers_volunteer v ON v.id = o.volunteer_id
            CROSS JOIN LATERAL (VALUES
                ('offer', 'Someone needs a companion at the station. Open: (link)', o.created_at),
                ('filled', 'Thank you: someone else is on the way.', o.responded_at)
            ) AS n(kind, body, at)
            WHERE n.kind = 'offer' OR o.status = 'withdrawn'
            """,
            (),
        ),
        (
            "placement attempts",
            f"""
            INSERT INTO referrals_placementattempt (department_id, intake_id, facility_id, attempted_at,
                attempted_by_id, outcome, note)
            SELECT s.department_id, gi.id, f.id, least(gi.t_search + a * interval '10 minutes', now()),
                   s.coordinator_id,
                   CASE WHEN gi.reached >= 4 AND a = gi.attempts THEN 'bed_offered'
                        ELSE (ARRAY['no_bed', 'no_bed', 'insurance_not_accepted', 'waitlist', 'no_answer',
                                    'level_of_care_mismatch', 'person_declined'])[1 + (gi.h + a) % 7] END,
                   ''
            FROM g_intake gi JOIN g_staff s ON s.d = gi.d
            CROSS JOIN LATERAL generate_series(1, gi.attempts) AS a
            JOIN g_fac f ON f.f = 1 + (gi.h + a * 7) % {F}
            WHERE gi.reached >= 3
            """,
            (),
        ),
        (
            "placements",
            f"""
            INSERT INTO referrals_placement (department_id, intake_id, facility_id, level_of_care,
                bed_held_until, placed_at, placed_by_id, transport_mode, transport_by, departed_at,
                arrived_at, admitted_at, admission_confirmed_by_id)
            SELECT s.department_id, gi.id, f.id, {levels}[1 + gi.h % 13], NULL, gi.t_placed, s.coordinator_id,
                   (ARRAY['volunteer', 'police', 'family', 'ride_service', 'ambulance'])[1 + gi.h % 5], '',
                   gi.t_placed + interval '30 minutes', gi.t_placed + interval '70 minutes',
                   CASE WHEN gi.reached = 5 THEN gi.t_admitted END,
                   CASE WHEN gi.reached = 5 THEN s.coordinator_id END
            FROM g_intake gi JOIN g_staff s ON s.d = gi.d
            JOIN g_fac f ON f.f = 1 + (gi.h + gi.attempts * 7) % {F}
            WHERE gi.reached >= 4
            """,
            (),
        ),
        (
            "follow-ups",
            """
            INSERT INTO referrals_followup (department_id, intake_id, days_after_admission, due_on,
                responsible_id, outcome, note, completed_at, completed_by_id, last_reminded_on)
            SELECT s.department_id, gi.id, x.days, x.due_on, s.coordinator_id,
                   CASE WHEN x.done THEN (ARRAY['in_treatment', 'in_treatment', 'completed', 'left_treatment',
                                                'relapsed', 'lost_contact'])[1 + (gi.h + x.days) % 6]
                        ELSE '' END,
                   '', CASE WHEN x.done THEN x.due_on + time '10:00' END,
                   CASE WHEN x.done THEN s.coordinator_id END, NULL
            FROM g_intake gi JOIN g_staff s ON s.d = gi.d
            CROSS JOIN LATERAL (
                SELECT days, (gi.t_admitted AT TIME ZONE 'America/New_York')::date + days AS due_on,
                       (gi.t_admitted AT TIME ZONE 'America/New_York')::date + days < current_date - 2
                       AND (gi.h + days) % 50 <> 0 AS done
                FROM unnest(ARRAY[1, 7, 30, 90]) AS days
            ) AS x
            WHERE gi.reached = 5
            """,
            (),
        ),
        ("analyze", "ANALYZE", ()),
    ]


def generate(*, size: Size, out=sys.stdout) -> dict[str, float]:
    """Write the data set through Django's connection (settings name the database). Returns the
    seconds each step took."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    timings: dict[str, float] = {}
    password_hash = make_password(BENCH_PASSWORD)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_department WHERE name LIKE 'Bench Police Department %'")
        if cursor.fetchone()[0]:
            raise SystemExit("This database already holds a bench data set: use a fresh one.")
        cursor.execute("SET LOCAL synchronous_commit = off")
        # Triggers are off for the load, as for a restore (pg_restore does the same): the data set
        # is past records loaded in bulk, so the change history (django-pghistory) starts after
        # it, as it does for records older than its migration; a row-by-row history of millions
        # of generated rows only slowed the load (50 s for the small size's offers). Foreign keys
        # hold by construction (every id comes from a join on the rows just written), and the
        # smoke test checks the constraints after a load. Needs a superuser, as on loopback.
        cursor.execute("SET LOCAL session_replication_role = replica")
        for label, sql, params in statements(size, password_hash):
            if label == "analyze":
                continue  # ANALYZE runs after the commit, below
            started = time.perf_counter()
            cursor.execute(sql, params or None)
            timings[label] = time.perf_counter() - started
            print(f"  {label:<22} {timings[label]:7.1f} s", file=out, flush=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    timings["analyze"] = time.perf_counter() - started
    return timings


def row_counts() -> dict[str, int]:
    from django.db import connection

    tables = {
        "departments": "accounts_department",
        "users": "accounts_user",
        "volunteers": "volunteers_volunteer",
        "shifts": "volunteers_shift",
        "facilities": "referrals_facility",
        "people": "intake_person",
        "intakes": "intake_intake",
        "events": "intake_intakeevent",
        "offers": "volunteers_offer",
        "notifications": "notifications_notification",
        "placements": "referrals_placement",
        "placement_attempts": "referrals_placementattempt",
        "follow_ups": "referrals_followup",
    }
    with connection.cursor() as cursor:
        counts = {}
        for name, table in tables.items():
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[name] = cursor.fetchone()[0]
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    size = SIZES[args.size]
    started = time.perf_counter()
    print(f"Generating the {size.name} data set…", flush=True)
    generate(size=size)
    print(f"Done in {time.perf_counter() - started:.0f} s: {row_counts()}", flush=True)


if __name__ == "__main__":
    main()
