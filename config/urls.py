from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # The walk-in is logged and closed through paging (which starts and stops with it); its pages
    # keep the intake namespace (volunteers/paging/desk_urls.py).
    path("intake/", include("volunteers.paging.desk_urls")),
    path("volunteers/", include("volunteers.urls")),
    path("notifications/", include("intake.notification_urls")),
    path("referrals/", include("referrals.urls")),
    path("dashboard/", include("referrals.reports.urls")),
    path("public/", include("referrals.reports.public_urls")),
    path("", include("accounts.urls")),
]

# A POST body sent to a page that does not exist is never read (config.views.page_not_found).
handler404 = "config.views.page_not_found"

if settings.HARBOR_BENCHMARK:  # bench/: the trivial page the key pages are compared with
    urlpatterns.insert(1, path("bench/trivial", views.bench_trivial, name="bench_trivial"))
