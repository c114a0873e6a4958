from django.conf import settings
from django.core.checks import Error, Info, Tags, Warning, register

from .models import Membership


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


@register(Tags.security, deploy=True)
def lockout_is_on(app_configs, **kwargs):
    """Without django-axes' lockout a password can be guessed at the speed of the server."""
    if not getattr(settings, "AXES_ENABLED", True):
        return [
            Error(
                "AXES_ENABLED is false: repeated failed sign-ins no longer lock the account.",
                hint="Remove AXES_ENABLED from the environment (it is for tests and benchmarks only).",
                id="harbor.E004",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def benchmark_instruments_are_off(app_configs, **kwargs):
    """The benchmark's query counter and trivial page are for `make bench`, never production."""
    if getattr(settings, "HARBOR_BENCHMARK", False):
        return [
            Error(
                "HARBOR_BENCHMARK is on: every response carries query counts and /bench/trivial is served.",
                hint="Remove HARBOR_BENCHMARK from the environment.",
                id="harbor.E005",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def no_superuser_in_a_department(app_configs, **kwargs):
    """A superuser sees every department's records through the admin: superuser is for the
    operator's own account (``manage.py create_operator``), never a department member's."""
    from django.db import DatabaseError

    try:
        usernames = sorted(
            Membership.objects.filter(user__is_superuser=True)
            .values_list("user__username", flat=True)
            .distinct()
        )
    except DatabaseError:  # no database yet, or not migrated: nobody can hold a membership
        return []
    if usernames:
        return [
            Warning(
                f"{len(usernames)} superuser account(s) hold a department membership: "
                f"{', '.join(usernames[:10])}.",
                hint=(
                    "Give a department's administrators the administrator role without superuser "
                    "status (in the admin, or `manage.py shell`: user.is_superuser = False); keep "
                    "superuser for the operator's account made by `manage.py create_operator`."
                ),
                id="harbor.W006",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def hsts_preload_recommended(app_configs, **kwargs):
    """Preloading HSTS is the department's choice (it is hard to undo): a recommendation, not
    a failure. Replaces Django's security.W021 (silenced in settings)."""
    if settings.SECURE_HSTS_SECONDS and not settings.SECURE_HSTS_PRELOAD:
        return [
            Info(
                "SECURE_HSTS_PRELOAD is off: browsers learn to use HTTPS only after a first visit.",
                hint=(
                    "Once every subdomain is served over HTTPS for good, set "
                    "DJANGO_SECURE_HSTS_PRELOAD=true and submit the domain to hstspreload.org."
                ),
                id="harbor.I001",
            )
        ]
    return []
