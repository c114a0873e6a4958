"""The desk's pages under /intake/, in the ``intake:`` namespace: logging and closing a walk-in
(paging starts and stops with it, so those views live here) and the intake app's own pages."""

from intake.urls import urlpatterns as intake_urlpatterns

from .urls import walk_in_urlpatterns

app_name = "intake"

urlpatterns = walk_in_urlpatterns + intake_urlpatterns
