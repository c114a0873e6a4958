"""The volunteers app's URLs, one namespace (``volunteers:``) over its two parts."""

from volunteers.paging.urls import urlpatterns as paging_urlpatterns
from volunteers.roster.urls import urlpatterns as roster_urlpatterns

app_name = "volunteers"

urlpatterns = roster_urlpatterns + paging_urlpatterns
