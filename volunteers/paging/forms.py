"""Paging's forms: a coordinator's one-press "Page Tom anyway"."""

from __future__ import annotations

from django import forms

from .explain import RULES


class NearFitForm(forms.Form):
    volunteer = forms.IntegerField(min_value=1, max_value=2**31 - 1)
    rule = forms.ChoiceField(choices=[(rule.key, rule.key) for rule in RULES if rule.relaxable])
