"""Form behaviour every Harbor form shares."""

from __future__ import annotations

import unicodedata

from crispy_forms.helper import FormHelper
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator

ALLOWED_CONTROL_CHARACTERS = {"\n", "\r", "\t"}
# Free text without a column limit (notes, needs) is still bounded: nobody types more at a desk.
DEFAULT_TEXT_LIMIT = 5000


def reject_control_characters(value: object) -> None:
    """Refuse invisible control characters (a pasted terminal escape, a NUL byte…).

    Some text fields clean to an object (a phone number field gives a ``PhoneNumber``): its text
    is what is checked.
    """
    for char in str(value):
        if unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co"} and char not in ALLOWED_CONTROL_CHARACTERS:
            raise ValidationError("Please remove the invisible control characters from this text.")


class CleanTextFormMixin:
    """Bound every text field's length and refuse control characters (single-line fields: newlines)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                if field.max_length is None:
                    field.max_length = DEFAULT_TEXT_LIMIT
                    field.validators.append(MaxLengthValidator(DEFAULT_TEXT_LIMIT))
                    field.widget.attrs.setdefault("maxlength", str(DEFAULT_TEXT_LIMIT))
                field.validators.append(reject_control_characters)
                if not isinstance(field.widget, forms.Textarea):
                    field.validators.append(_single_line)


def _single_line(value: object) -> None:
    text = str(value)
    if "\n" in text or "\r" in text:
        raise ValidationError("Please keep this to one line.")


DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class CrispyFormMixin:
    """Render with crispy-forms, fields only (templates own the <form> tag and buttons)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's <form> carries the token
