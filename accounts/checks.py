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
