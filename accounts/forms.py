from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.http import HttpRequest

from config.forms import CrispyFormMixin


class LoginForm(CrispyFormMixin, AuthenticationForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # AuthenticationForm sets max_length without its validator: an overlong username would
        # reach the lockout's failed-attempt record (255 characters) and fail there with a 500.
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))


class ReauthenticateForm(CrispyFormMixin, forms.Form):
    """Confirm it is still you: the signed-in user's password, checked through ``authenticate``
    so failures count towards the lockout like any other sign-in."""

    password = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autofocus": True})
    )

    def __init__(self, *args, request: HttpRequest, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user_cache = None

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        self.user_cache = authenticate(
            self.request, username=self.request.user.get_username(), password=password
        )
        if self.user_cache is None or self.user_cache.pk != self.request.user.pk:
            raise forms.ValidationError("That is not your password. Please try again.")
        return password


class TwoFactorCodeForm(CrispyFormMixin, forms.Form):
    """The code from the authenticator app (or, at sign-in, a recovery code)."""

    otp_token = forms.CharField(
        label="6-digit code",
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, numeric: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if numeric:  # enrolment takes only the app's code: a phone shows the number pad
            self.fields["otp_token"].widget.attrs["inputmode"] = "numeric"
        else:
            self.fields["otp_token"].help_text = "From your authenticator app, or one of your recovery codes."
