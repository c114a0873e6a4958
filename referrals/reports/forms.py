"""The dashboard's filters (query string): which departments, and which days. No side effects."""

from __future__ import annotations

from datetime import date, datetime

from django import forms
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from accounts.models import Department
from config.forms import DATE_INPUT

from .figures import Period, default_period
from .public import EARLIEST_WALK_IN

# A decade of weeks is already 520 bars; the bounds also keep hostile dates in range.
MAX_PERIOD_DAYS = 366 * 10
EARLIEST = EARLIEST_WALK_IN
LATEST = date(2100, 12, 31)
SELECTED = mark_safe(" selected")


class DepartmentFilterForm(forms.Form):
    """Departments among ``departments`` (the coordinator's); none ticked means all of them. An
    id outside ``departments`` is an error: the choice is never silently widened or narrowed."""

    # Up to this many departments are checkboxes; a network's are a list to choose from (200
    # checkboxes were unusable, and rendering a widget template each was most of the network
    # board's time).
    CHECKBOX_LIMIT = 12

    department = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        label="Departments",
    )

    def __init__(self, data=None, *, departments: list[Department], now: datetime | None = None) -> None:
        super().__init__(data)
        self.departments = departments
        self.now = now
        field = self.fields["department"]
        field.choices = [(department.pk, department.name) for department in departments]
        field.error_messages["invalid_choice"] = "You can only choose departments you coordinate."

    def department_options(self) -> str:
        """The ``<option>`` elements of the list to choose from, the chosen ones selected: one
        line each for a network's 200 departments (a template loop took 4 ms of every page)."""
        chosen = set(self.cleaned_data.get("department") or []) if hasattr(self, "cleaned_data") else set()
        return format_html_join(
            "\n",
            '<option value="{}"{}>{}</option>',
            (
                (department.pk, SELECTED if department.pk in chosen else "", department.name)
                for department in self.departments
            ),
        )

    def chosen_departments(self) -> list[Department]:
        """The ticked departments (after cleaning); all of them when none is ticked."""
        ids = set(self.cleaned_data.get("department") or [])
        return [department for department in self.departments if department.pk in ids] or self.departments


class FiguresFilterForm(DepartmentFilterForm):
    """Departments, and the first and last day of the period (both included)."""

    start = forms.DateField(required=False, widget=DATE_INPUT, label="From")
    end = forms.DateField(required=False, widget=DATE_INPUT, label="To")

    def clean(self) -> dict:
        data = super().clean()
        for name in ("start", "end"):
            value = data.get(name)
            if value is not None and not EARLIEST <= value <= LATEST:
                self.add_error(name, f"Choose a day between {EARLIEST.year} and {LATEST.year}.")
        if self.errors:
            return data
        default = default_period(departments=self.chosen_departments(), now=self.now)
        start, end = data.get("start") or default.start, data.get("end") or default.end
        blame = "end" if data.get("end") else "start"
        if end < start:
            self.add_error(blame, "The last day must be on or after the first day.")
        elif (end - start).days > MAX_PERIOD_DAYS:
            self.add_error(blame, "Choose a period of at most ten years.")
        else:
            self.period = Period(start=start, end=end, time_zone=default.time_zone)
        return data

    def chosen_period(self) -> Period:
        """The chosen days (after ``is_valid``), read on the first chosen department's clock.
        A missing end is today; a missing start, the first day of the month eleven months ago."""
        return self.period
