"""Input parsing for the placement pages: a phone's worth of fields each. No side effects here.

Times are typed in the department's time zone (the views activate it); the rules that hold
whatever the input (arrival after departure, nothing in the future) are the services' too, so a
form error and a service error say the same thing.
"""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from config.forms import DATETIME_INPUT, CleanTextFormMixin, CrispyFormMixin
from referrals.directory.models import Facility, LevelOfCare

from .models import FollowUp, Placement, PlacementAttempt
from .selectors import DEFAULT_SHEET_ITEMS, SHEET_ITEMS
from .services import FUTURE_TOLERANCE


def active_facilities():
    return Facility.objects.filter(is_active=True).only("pk", "name", "town").order_by("name", "pk")


class FacilityChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Facility) -> str:
        return f"{obj.name} — {obj.town}"


def _not_in_future(value: datetime | None, what: str) -> datetime | None:
    if value and value > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError(f"{what} cannot be in the future.")
    return value


class PlacementAttemptForm(CleanTextFormMixin, CrispyFormMixin, forms.Form):
    """One call to a facility: who, when, what they said."""

    facility = FacilityChoiceField(queryset=active_facilities(), empty_label="Choose a facility…")
    outcome = forms.ChoiceField(
        label="What did they say?",
        choices=PlacementAttempt.Outcome.choices,
        widget=forms.RadioSelect,
    )
    attempted_at = forms.DateTimeField(label="When", widget=DATETIME_INPUT)
    note = forms.CharField(
        label="Note (optional, no health details)",
        max_length=500,
        required=False,
        help_text="For example: call back after 2 PM, ask for the intake nurse.",
    )

    def clean_attempted_at(self):
        return _not_in_future(self.cleaned_data.get("attempted_at"), "The call")


class PlacementForm(CleanTextFormMixin, CrispyFormMixin, forms.Form):
    """Where the person is going."""

    facility = FacilityChoiceField(queryset=active_facilities(), empty_label="Choose a facility…")
    level_of_care = forms.ChoiceField(
        label="Level of care", choices=[("", "Choose the level of care…"), *LevelOfCare.choices]
    )
    bed_held_until = forms.DateTimeField(
        label="Bed held until (optional)", required=False, widget=DATETIME_INPUT
    )


class TransportForm(CleanTextFormMixin, CrispyFormMixin, forms.Form):
    """Getting there: how, who drives, when they left and arrived."""

    transport_mode = forms.ChoiceField(
        label="How are they getting there?", choices=[("", "Choose…"), *Placement.Transport.choices]
    )
    transport_by = forms.CharField(
        label="Driven or accompanied by (optional)", max_length=150, required=False
    )
    departed_at = forms.DateTimeField(label="Left the station at", required=False, widget=DATETIME_INPUT)
    arrived_at = forms.DateTimeField(
        label="Arrived at the facility at", required=False, widget=DATETIME_INPUT
    )

    @staticmethod
    def initial_for(placement: Placement) -> dict:
        return {
            "transport_mode": placement.transport_mode,
            "transport_by": placement.transport_by,
            "departed_at": placement.departed_at,
            "arrived_at": placement.arrived_at,
        }

    def clean_departed_at(self):
        return _not_in_future(self.cleaned_data.get("departed_at"), "The departure")

    def clean_arrived_at(self):
        return _not_in_future(self.cleaned_data.get("arrived_at"), "The arrival")

    def clean(self):
        data = super().clean()
        departed, arrived = data.get("departed_at"), data.get("arrived_at")
        if arrived and not departed and not self.has_error("departed_at"):
            self.add_error("departed_at", "Record when they left before when they arrived.")
        elif arrived and departed and arrived < departed:
            self.add_error("arrived_at", "The arrival cannot be before the departure.")
        return data


class AdmissionForm(CleanTextFormMixin, CrispyFormMixin, forms.Form):
    admitted_at = forms.DateTimeField(label="Admitted at", widget=DATETIME_INPUT)
    confirmed = forms.BooleanField(label="The facility confirmed that the person was admitted.")

    def clean_admitted_at(self):
        return _not_in_future(self.cleaned_data.get("admitted_at"), "The admission")


class DisclosureForm(CleanTextFormMixin, CrispyFormMixin, forms.Form):
    """What to share with a facility, and why. The consent check is the service's."""

    facility = FacilityChoiceField(queryset=active_facilities(), empty_label="Choose a facility…")
    items = forms.MultipleChoiceField(
        label="What to share (the minimum the facility needs)",
        choices=[(item.key, item.label) for item in SHEET_ITEMS],
        initial=DEFAULT_SHEET_ITEMS,
        widget=forms.CheckboxSelectMultiple,
    )
    level_of_care = forms.ChoiceField(
        label="Level of care needed",
        choices=[("", "Not stated"), *LevelOfCare.choices],
        required=False,
    )
    purpose = forms.CharField(max_length=300, initial="Referral for a treatment placement")

    def clean(self):
        data = super().clean()
        if "level_of_care" in data.get("items", []) and not data.get("level_of_care"):
            self.add_error("level_of_care", "Choose the level of care needed, or do not share it.")
        return data


class FollowUpForm(CleanTextFormMixin, CrispyFormMixin, forms.Form):
    outcome = forms.ChoiceField(choices=FollowUp.Outcome.choices, widget=forms.RadioSelect)
    completed_at = forms.DateTimeField(label="When you checked", widget=DATETIME_INPUT)
    note = forms.CharField(label="Note (optional)", max_length=500, required=False)

    def clean_completed_at(self):
        return _not_in_future(self.cleaned_data.get("completed_at"), "The follow-up")
