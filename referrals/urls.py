"""The referrals app's URLs, one namespace (``referrals:``) over the directory and placements.
The dashboard and the public summaries (``referrals.reports``) have namespaces of their own."""

from referrals.directory.urls import urlpatterns as directory_urlpatterns
from referrals.placement.urls import urlpatterns as placement_urlpatterns

app_name = "referrals"

urlpatterns = directory_urlpatterns + placement_urlpatterns
