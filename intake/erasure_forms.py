"""The confirmation of an erasure on request (intake.services.retention.person_erase). No side effects."""

from __future__ import annotations

from django import forms

from config.forms import CrispyFormMixin

CONFIRMATION_WORD = "ERASE"


class PersonEraseForm(CrispyFormMixin, forms.Form):
    """Confirmed twice: that the person asked, and the word typed out."""

    requested_by_person = forms.BooleanField(
        label="The person asked the program to erase their records (42 CFR 2.26-style request)",
        error_messages={"required": "Confirm that the person asked for this."},
    )
    confirmation = forms.CharField(
        label=f"Type {CONFIRMATION_WORD} to confirm: this cannot be undone",
        max_length=20,
        error_messages={"required": f"Type {CONFIRMATION_WORD} to confirm."},
    )

    def clean_confirmation(self) -> str:
        typed = self.cleaned_data["confirmation"].strip()
        if typed != CONFIRMATION_WORD:
            raise forms.ValidationError(f"Type {CONFIRMATION_WORD} (in capitals) to confirm.")
        return typed
