from django.contrib.admin.apps import AdminConfig


class HarborAdminConfig(AdminConfig):
    """The Django admin, on Harbor's own site: administrators only, after two-factor sign-in."""

    default_site = "config.admin.HarborAdminSite"
