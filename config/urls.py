from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from intake.urls import urlpatterns as intake_urlpatterns
from referrals.dashboard_urls import public_urlpatterns
from volunteers.paging.urls import walk_in_urlpatterns

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # The walk-in is logged and closed through paging (which starts and stops with it); its pages
    # keep the intake namespace.
    path("intake/", include((walk_in_urlpatterns + intake_urlpatterns, "intake"))),
    path("volunteers/", include("volunteers.urls")),
    path("notifications/", include("notifications.urls")),
    path("referrals/", include("referrals.urls")),
    path("dashboard/", include("referrals.dashboard_urls")),
    path("public/", include((public_urlpatterns, "public"))),
    path("", include("accounts.urls")),
]

# A POST body sent to a page that does not exist is never read (config.views.page_not_found).
handler404 = "config.views.page_not_found"

if settings.HARBOR_BENCHMARK:  # bench/: the trivial page the key pages are compared with
    urlpatterns.insert(1, path("bench/trivial", views.bench_trivial, name="bench_trivial"))
