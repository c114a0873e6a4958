"""An index for matching's count of each volunteer's recent answers.

``volunteers.paging.matching.rank_volunteers`` joins every eligible volunteer's offers answered in the
last 30 days (accepted or declined) and counts them per volunteer. With only
``offer_vol_status_responded_idx`` (volunteer, status, responded_at), each volunteer costs one
index descent per status: about 6 buffers a volunteer, 6,100 for a department of 1,000. This
partial index holds only answered offers, in (volunteer, responded_at) order with the status
alongside, so each volunteer is one range read: about 3 buffers a volunteer (measured on a copy
of the benchmark database: 11,000 buffers for the whole ranking query before, 8,000 after).

Built concurrently: the offers table is written by every page and every answer, which a plain
CREATE INDEX would block while it builds.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("volunteers", "0005_matching_and_board_indexes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="offer",
            index=models.Index(
                condition=models.Q(("status__in", ["accepted", "declined"])),
                fields=["volunteer", "responded_at"],
                include=("status",),
                name="offer_vol_answered_idx",
            ),
        ),
    ]
