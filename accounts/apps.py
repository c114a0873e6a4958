from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and departments"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deploy checks)
