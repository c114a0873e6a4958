"""Before a run: a quiet outbox, the hand-off table, and the fixtures the load test consumes.

    python -m bench.prepare --size small --out manifest.json [--race-intakes 100 --race-volunteers 20]

Runs in Django (the settings name the benchmark database and the run's secret key, so the
offer links it signs are valid on the server it will be used against). It:

- stops whatever earlier runs left in flight (paging timers, pending messages, arrival checks),
  so the run measures only its own work, and closes the walk-ins they left open (their fixtures,
  and the load's walk-ins nobody accepted), as a coordinator would: the generated history has
  none open, and without this every run added some 700 people "waiting" to the next run's board
  and to matching's "busy" set;
- (re)creates ``bench_sms_handoff``, where ``bench.sms_backend`` records each hand-off;
- creates, for each volunteer the load test signs in as, walk-ins waiting for a companion with a
  pending offer to that volunteer (their signed links go in the manifest), and optionally the
  race fixtures for ``bench.chaos`` (intakes each offered to the same twenty volunteers);
- writes the manifest: who signs in as what, and the links and ids each user needs.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import timedelta


def quiesce() -> None:
    from django.db import connection

    from intake.models import Intake

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE intake_intake SET status = 'closed', close_reason = %s, closed_at = now() "
            "WHERE status = ANY(%s)",
            [Intake.CloseReason.LEFT_BEFORE_PLACEMENT, list(Intake.OPEN_STATUSES)],
        )
        cursor.execute(
            "UPDATE intake_intake SET companion_needed_at = NULL WHERE companion_needed_at IS NOT NULL"
        )
        cursor.execute(
            "UPDATE notifications_notification SET status = 'failed', last_error = 'bench: reset' "
            "WHERE status IN ('pending', 'sending')"
        )
        cursor.execute(
            "UPDATE volunteers_offer SET arrival_check_at = NULL WHERE arrival_check_at IS NOT NULL"
        )
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_sms_handoff (id bigserial PRIMARY KEY, "
            "idempotency_key varchar(200) NOT NULL, handed_at timestamptz NOT NULL, pid integer)"
        )
        cursor.execute("TRUNCATE bench_sms_handoff")
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS bench_sms_handoff_key ON bench_sms_handoff (idempotency_key)"
        )


def _waiting_intakes_with_offers(*, department, officer, volunteers, count: int, now) -> list[list]:
    """``count`` walk-ins waiting in ``department`` (no paging timer: nobody else is paged), each
    with a pending offer to every one of ``volunteers``. Returns the offers, per intake."""
    from intake.models import Intake, IntakeEvent, Person
    from volunteers.models import OFFER_OPEN_FOR, Offer

    people = Person.objects.bulk_create(
        Person(department=department, first_name="Fixture", approximate_age=30 + i % 40) for i in range(count)
    )
    intakes = Intake.objects.bulk_create(
        Intake(department=department, person=person, logged_by=officer, arrived_at=now) for person in people
    )
    IntakeEvent.objects.bulk_create(
        IntakeEvent(intake=intake, to_status=Intake.Status.WAITING_FOR_COMPANION, actor=officer, at=now)
        for intake in intakes
    )
    offers = Offer.objects.bulk_create(
        Offer(
            department=department,
            intake=intake,
            volunteer=volunteer,
            wave=1,
            reasons="bench fixture",
            created_at=now,
            expires_at=now + OFFER_OPEN_FOR,
        )
        for intake in intakes
        for volunteer in volunteers
    )
    per = len(volunteers)
    return [offers[i * per : (i + 1) * per] for i in range(len(intakes))]


def build_manifest(
    *,
    size_name: str,
    officers: int = 6,
    volunteers: int = 6,
    coordinators: int = 4,
    offers_per_volunteer: int = 80,
    race_intakes: int = 0,
    race_volunteers: int = 20,
) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Department, User
    from intake.models import Intake
    from volunteers.models import Volunteer
    from volunteers.paging.tokens import offer_link

    from .generate import BENCH_PASSWORD, SIZES

    size = SIZES[size_name]
    departments = list(Department.objects.filter(name__startswith="Bench Police Department").order_by("pk"))
    D = len(departments)
    now = timezone.now()
    manifest: dict = {"password": BENCH_PASSWORD, "departments": D}

    def dept(d: int):  # 1-based, wrapping for the tiny size
        return departments[(d - 1) % D]

    with transaction.atomic():
        manifest["officers"] = [
            {"username": f"officer-{(k % D) + 1}-1", "department": dept((k % D) + 1).pk}
            for k in range(officers)
        ]
        # Coordinators of department 1 (the largest) first, then the next ones.
        manifest["coordinators"] = []
        for k in range(coordinators):
            d = (k % D) + 1
            recent = list(
                Intake.objects.filter(department=dept(d))
                .order_by("-arrived_at")
                .values_list("pk", flat=True)[:20]
            )
            manifest["coordinators"].append(
                {
                    "username": f"coordinator-{d}-2",
                    "department": dept(d).pk,
                    "intakes": [str(i) for i in recent],
                }
            )
        manifest["network_coordinator"] = {"username": "coordinator-network"}

        # Volunteers who accept: not among department 1's matching volunteers, in departments 2….
        manifest["volunteers"] = []
        n = size.matching_volunteers
        for _ in range(volunteers):
            n += 1
            if n % 20 == 0:  # the generator lapses these volunteers' background checks
                n += 1
            d = (n - 1) % D + 1  # the volunteer's home department
            user = User.objects.get(username=f"volunteer-{n}")
            volunteer = Volunteer.objects.get(user=user)
            officer = User.objects.get(username=f"officer-{d}-3")
            per_intake = _waiting_intakes_with_offers(
                department=dept(d),
                officer=officer,
                volunteers=[volunteer],
                count=offers_per_volunteer,
                now=now,
            )
            manifest["volunteers"].append(
                {"username": user.username, "offer_links": [offer_link(offers[0]) for offers in per_intake]}
            )

        if race_intakes:
            race = [User.objects.get(username=f"volunteer-{n}") for n in range(1, race_volunteers + 1)]
            race_offers = _waiting_intakes_with_offers(
                department=dept(1),
                officer=User.objects.get(username="officer-1-3"),
                volunteers=[Volunteer.objects.get(user=user) for user in race],
                count=race_intakes,
                now=now,
            )
            manifest["race"] = {
                "volunteers": [user.username for user in race],
                "intakes": [
                    {"intake": str(offers[0].intake_id), "offer_links": [offer_link(o) for o in offers]}
                    for offers in race_offers
                ],
            }
    manifest["prepared_at"] = now.isoformat()
    manifest["offers_expire_at"] = (now + timedelta(minutes=60)).isoformat()
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small")
    parser.add_argument("--out", required=True)
    parser.add_argument("--officers", type=int, default=6)
    parser.add_argument("--volunteers", type=int, default=6)
    parser.add_argument("--coordinators", type=int, default=4)
    parser.add_argument("--offers-per-volunteer", type=int, default=80)
    parser.add_argument("--race-intakes", type=int, default=0)
    parser.add_argument("--race-volunteers", type=int, default=20)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    quiesce()
    manifest = build_manifest(
        size_name=args.size,
        officers=args.officers,
        volunteers=args.volunteers,
        coordinators=args.coordinators,
        offers_per_volunteer=args.offers_per_volunteer,
        race_intakes=args.race_intakes,
        race_volunteers=args.race_volunteers,
    )
    with open(args.out, "w") as out:
        json.dump(manifest, out, indent=1)


if __name__ == "__main__":
    main()
