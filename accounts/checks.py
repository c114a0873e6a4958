from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.database, deploy=True)
def embedded_database_not_in_production(app_configs, **kwargs):
    """The embedded PostgreSQL is for a newcomer's laptop and the tests, never for real records."""
    if getattr(settings, "EMBEDDED_POSTGRES", False):
        return [
            Error(
                "DATABASE_URL is unset, so Harbor is using its embedded development PostgreSQL.",
                hint="Set DATABASE_URL to the production PostgreSQL server.",
                id="harbor.E001",
            )
        ]
    return []


TWO_FACTOR_MIDDLEWARE = ["django_otp.middleware.OTPMiddleware", "accounts.middleware.TwoFactorMiddleware"]


@register(Tags.security)
def two_factor_cannot_be_turned_off(app_configs, **kwargs):
    """Two-factor sign-in has no off switch: removing its middleware is an error, not a choice."""
    missing = [name for name in TWO_FACTOR_MIDDLEWARE if name not in settings.MIDDLEWARE]
    if missing:
        return [
            Error(
                f"Two-factor sign-in is off: {', '.join(missing)} missing from MIDDLEWARE.",
                hint="Desk officers, coordinators and administrators must use two-factor sign-in.",
                id="harbor.E002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def field_encryption_key_not_the_development_one(app_configs, **kwargs):
    """The development encryption key is in the repository: with it, encryption at rest hides nothing."""
    if (
        not settings.DEBUG
        and settings.HARBOR_DEV_FIELD_ENCRYPTION_KEY in settings.HARBOR_FIELD_ENCRYPTION_KEYS
    ):
        return [
            Error(
                "HARBOR_FIELD_ENCRYPTION_KEYS is unset or holds the development key, so the encrypted "
                "fields are readable by anyone who has the source code.",
                hint=(
                    "Set HARBOR_FIELD_ENCRYPTION_KEYS to a key of your own (see .env.example); to move "
                    "data off the development key, put the new key first, run "
                    "`manage.py rotate_field_encryption`, then remove the development key."
                ),
                id="harbor.E003",
            )
        ]
    return []
