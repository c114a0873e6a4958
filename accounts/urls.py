from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/confirm/", views.reauthenticate, name="reauthenticate"),
    path("accounts/two-factor/", views.two_factor_verify_view, name="two_factor_verify"),
    path("accounts/two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("accounts/two-factor/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("accounts/locked-out/", views.locked_out_list, name="locked_out_list"),
    path("accounts/locked-out/<int:user_id>/unlock/", views.account_unlock_view, name="account_unlock"),
]
