"""Harbor's URLs plus one view that fails, for the 500 page test (tests/test_error_pages.py)."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from config.urls import urlpatterns as harbor_urlpatterns


@login_not_required
def broken(request):
    raise RuntimeError("a bug, for the test of the 500 page")


urlpatterns = [path("broken/", broken), *harbor_urlpatterns]
