from django.contrib.admin.apps import AdminConfig


class HarborAdminConfig(AdminConfig):
    """The Django admin, on Harbor's own site: administrators only, after two-factor sign-in."""

    default_site = "accounts.admin_site.HarborAdminSite"
