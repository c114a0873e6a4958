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
