from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = "Walk-in intake"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        post_migrate.connect(_guard_history_tables, sender=self)


def _guard_history_tables(sender, using="default", **kwargs) -> None:
    """After every ``migrate``: the history tables added since are guarded too (config.history)."""
    from django.db import connections

    from config.history import install_history_guards

    install_history_guards(connections[using])
