from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and departments"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import checks  # noqa: F401  (registers the deploy checks)
        from .middleware import mark_login_on_sign_in

        # Every way of signing in (the login page, the admin's, tests' force_login) starts the
        # session policy's clock; only the session is written, in the same save as the login.
        user_logged_in.connect(mark_login_on_sign_in, dispatch_uid="harbor_mark_login")
