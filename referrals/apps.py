from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Treatment directory and placements"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from intake.models import Intake
        from volunteers.models import Offer, Shift

        from .models import FollowUp, Placement, PlacementAttempt
        from .reports.services import figures_changed_on_commit

        # A change the program figures count makes the kept copy out of date and queues its
        # refresh, on commit (dashboard.figures_changed).
        for model in (Intake, Offer, Shift, Placement, PlacementAttempt, FollowUp):
            post_save.connect(
                figures_changed_on_commit, sender=model, dispatch_uid=f"figures_{model.__name__}"
            )
            post_delete.connect(
                figures_changed_on_commit, sender=model, dispatch_uid=f"figures_del_{model.__name__}"
            )
