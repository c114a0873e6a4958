"""Input of the contact verification forms (shared by the volunteer's and the staff's settings).

No side effects here."""

from __future__ import annotations

from django import forms
from phonenumber_field.formfields import PhoneNumberField

from config.forms import CleanTextFormMixin, CrispyFormMixin

from .models import Notification

CHANNELS = [(Notification.Channel.SMS, "Phone"), (Notification.Channel.EMAIL, "E-mail")]


class ContactCodeSendForm(forms.Form):
    """Which contact method to send a code to (the value is the one on record, never posted)."""

    channel = forms.ChoiceField(choices=CHANNELS)


class ContactCodeForm(CleanTextFormMixin, forms.Form):
    """The code the person received, for the contact method it was sent to."""

    channel = forms.ChoiceField(choices=CHANNELS, widget=forms.HiddenInput)
    code = forms.CharField(
        label="Code",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split()).replace("-", "")
        if len(code) != 6 or not code.isascii() or not code.isdigit():
            raise forms.ValidationError("Enter the 6-digit code we sent you.")
        return code


class StaffPhoneForm(CleanTextFormMixin, CrispyFormMixin, forms.Form):
    """A coordinator's own mobile number, where they are paged when nobody accepts."""

    phone = PhoneNumberField(
        required=False,
        help_text="A mobile number for urgent texts, e.g. (978) 555-0123. Leave empty to be e-mailed only.",
    )
