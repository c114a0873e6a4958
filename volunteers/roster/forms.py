"""Input parsing and validation for the roster pages. No side effects here.

Times are entered on the department's clock. A shift that ends at or before the time it starts
ends the next day ("10 PM to 6 AM"; the same time twice is 24 hours).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Department
from config.forms import DATE_INPUT, CleanTextFormMixin, CrispyFormMixin
from volunteers.roster.models import ShiftSeries, Volunteer

from .selectors import MAX_DAYS_AHEAD, exists_on_clock, local_moment

TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
WEEKDAYS = ShiftSeries._meta.get_field("weekday").choices
SKIPPED_TIME = "The clocks go forward that night, so {} does not exist. Please choose another time."


def _clock_span(start: time, end: time) -> timedelta:
    """From ``start`` to ``end`` on the clock; ending at or before the start means the next day."""
    span = datetime.combine(date.min, end) - datetime.combine(date.min, start)
    return span if span > timedelta(0) else span + timedelta(days=1)


class _DepartmentChoiceMixin:
    """A department field limited to ``departments`` when there are several; with one, that one
    is used without asking."""

    def _add_department_field(self, departments) -> None:
        self.departments = list(departments)
        if len(self.departments) > 1:
            self.fields["department"] = forms.ModelChoiceField(
                queryset=self._department_queryset(self.departments), empty_label="Choose…"
            )
            self.order_fields(["department"])

    def _chosen_department(self, data: dict):
        if len(self.departments) == 1:
            data["department"] = self.departments[0]
        return data.get("department")

    @staticmethod
    def _department_queryset(departments):
        return Department.objects.filter(pk__in=[d.pk for d in departments])


def _check_date_in_range(form: forms.Form, name: str, value: date | None, *, today: date) -> None:
    if value is None or form.has_error(name):
        return
    if value < today:
        form.add_error(name, "That day has passed.")
    elif value > today + timedelta(days=MAX_DAYS_AHEAD):
        form.add_error(name, "Shifts can be planned up to a year ahead.")


def _check_on_clock(form: forms.Form, name: str, day: date, at: time, tz) -> None:
    if not exists_on_clock(day, at, tz):
        form.add_error(name, SKIPPED_TIME.format(at.strftime("%H:%M")))


class ShiftForm(CleanTextFormMixin, CrispyFormMixin, _DepartmentChoiceMixin, forms.Form):
    """One on-call shift: a day, a start and an end time."""

    day = forms.DateField(label="Day", widget=DATE_INPUT)
    start = forms.TimeField(label="From", widget=TIME_INPUT)
    end = forms.TimeField(
        label="To", widget=TIME_INPUT, help_text="Earlier than the start time? It ends the next day."
    )

    def __init__(self, *args, departments, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._add_department_field(departments)

    def clean(self):
        data = super().clean()
        department = self._chosen_department(data)
        day, start, end = (data.get(k) for k in ("day", "start", "end"))
        if department is None or day is None or start is None or end is None:
            return data
        tz = department.tzinfo
        _check_date_in_range(self, "day", day, today=timezone.localdate(timezone=tz))
        end_day = day if end > start else day + timedelta(days=1)
        _check_on_clock(self, "start", day, start, tz)
        _check_on_clock(self, "end", end_day, end, tz)
        data["starts_at"] = local_moment(day, start, tz)
        data["ends_at"] = local_moment(end_day, end, tz)
        return data


class WeeklyShiftForm(CleanTextFormMixin, CrispyFormMixin, _DepartmentChoiceMixin, forms.Form):
    """The same shift every week."""

    weekday = forms.TypedChoiceField(label="Every", choices=WEEKDAYS, coerce=int)
    start = forms.TimeField(label="From", widget=TIME_INPUT)
    end = forms.TimeField(
        label="To", widget=TIME_INPUT, help_text="Earlier than the start time? It ends the next day."
    )
    starts_on = forms.DateField(label="Starting", widget=DATE_INPUT)
    ends_on = forms.DateField(label="Until (optional)", widget=DATE_INPUT, required=False)

    def __init__(self, *args, departments, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._add_department_field(departments)
        self.fields["starts_on"].initial = timezone.localdate()

    def clean(self):
        data = super().clean()
        department = self._chosen_department(data)
        if department is None:
            return data
        today = timezone.localdate(timezone=department.tzinfo)
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        _check_date_in_range(self, "starts_on", starts_on, today=today)
        if starts_on and ends_on and ends_on < starts_on and not self.has_error("ends_on"):
            self.add_error("ends_on", "The last day cannot be before the first.")
        if data.get("start") and data.get("end"):
            data["duration"] = _clock_span(data["start"], data["end"])
        return data


class AssignShiftForm(ShiftForm):
    """A coordinator puts a volunteer of their department on call, once or every week."""

    ONCE, WEEKLY = "once", "weekly"

    volunteer = forms.ModelChoiceField(queryset=Volunteer.objects.none(), empty_label="Choose a volunteer…")
    repeat = forms.ChoiceField(
        label="Repeat",
        choices=[(ONCE, "Just this once"), (WEEKLY, "Every week on this day")],
        initial=ONCE,
        widget=forms.RadioSelect,
    )
    until = forms.DateField(label="Until (optional, weekly only)", widget=DATE_INPUT, required=False)

    def __init__(self, *args, departments, volunteers, **kwargs) -> None:
        super().__init__(*args, departments=departments, **kwargs)
        self.fields["volunteer"].queryset = volunteers.select_related("user").order_by(
            "user__last_name", "user__first_name", "user__username"
        )
        self.fields["volunteer"].label_from_instance = lambda v: (
            f"{v} ({v.home_town})" if v.home_town else str(v)
        )
        self.order_fields(["department", "volunteer", "day", "start", "end", "repeat", "until"])

    def clean(self):
        data = super().clean()
        volunteer, department = data.get("volunteer"), data.get("department")
        if volunteer and department and not volunteer.departments.filter(pk=department.pk).exists():
            self.add_error("volunteer", f"{volunteer} does not serve {department.name}.")
        until, day = data.get("until"), data.get("day")
        if data.get("repeat") == self.WEEKLY and until and day and until < day:
            self.add_error("until", "The last day cannot be before the first.")
        if data.get("start") and data.get("end"):
            data["duration"] = _clock_span(data["start"], data["end"])
        return data


class CoverageForm(CleanTextFormMixin, forms.Form):
    """Which department and fortnight the coverage grid shows (query string)."""

    department = forms.ModelChoiceField(queryset=None, required=False)
    start = forms.DateField(required=False, widget=DATE_INPUT, label="From")

    def __init__(self, *args, departments, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.departments = list(departments)
        self.fields["department"].queryset = _DepartmentChoiceMixin._department_queryset(self.departments)
        self.fields["department"].empty_label = None

    def clean_start(self):
        value = self.cleaned_data.get("start")
        today = timezone.localdate()
        if value and abs((value - today).days) > MAX_DAYS_AHEAD:
            raise ValidationError("Choose a day within a year of today.")
        return value

    def chosen(self) -> tuple:
        """The department and first day to show; the defaults where the input was not valid."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        department = data.get("department") or self.departments[0]
        start = data.get("start") or timezone.localdate(timezone=department.tzinfo)
        return department, start


class PreferencesForm(CleanTextFormMixin, CrispyFormMixin, forms.ModelForm):
    """The volunteer's own: how to reach them, when not to, and what matching may use."""

    languages = forms.MultipleChoiceField(
        choices=Volunteer._meta.get_field("languages").base_field.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="People are matched with a companion who speaks their language.",
    )

    class Meta:
        model = Volunteer
        fields = [
            "phone",
            "channels",
            "call_any_time",
            "quiet_hours_start",
            "quiet_hours_end",
            "languages",
            "gender",
            "lived_experience",
            "veteran",
            "home_town",
        ]
        widgets = {"quiet_hours_start": TIME_INPUT, "quiet_hours_end": TIME_INPUT}
        labels = {"channels": "Page me by", "call_any_time": "Call me any time, even when I'm not on a shift"}
        help_texts = {
            "quiet_hours_start": "No texts that a request was filled or cancelled in these hours. "
            "Requests while you are on call always come through (by a call, if you choose "
            "\u201ca call at night\u201d).",
            "channels": "A call says only the station's name; press 1 to accept or 2 to decline.",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phone"].help_text = "A mobile number for text messages, e.g. (978) 555-0123."

    def clean(self):
        data = super().clean()
        start, end = data.get("quiet_hours_start"), data.get("quiet_hours_end")
        if (start is None) != (end is None):
            self.add_error(
                "quiet_hours_end", "Give both the start and the end of your quiet hours, or neither."
            )
        elif start is not None and start == end:
            self.add_error("quiet_hours_end", "Quiet hours must end at a different time than they start.")
        channels = data.get("channels")
        if channels in (Volunteer.Channels.SMS, Volunteer.Channels.BOTH) and not data.get("phone"):
            self.add_error("phone", "A phone number is needed to be paged by text message.")
        if channels in (Volunteer.Channels.VOICE, Volunteer.Channels.SMS_CALL_AT_NIGHT) and not data.get(
            "phone"
        ):
            self.add_error("phone", "A phone number is needed to be paged by phone call.")
        if (
            channels == Volunteer.Channels.SMS_CALL_AT_NIGHT
            and start is None
            and not self.has_error("quiet_hours_end")
        ):
            self.add_error(
                "quiet_hours_start", "Give your quiet hours: that is when we call instead of texting."
            )
        if channels in (Volunteer.Channels.EMAIL, Volunteer.Channels.BOTH) and not self.instance.user.email:
            self.add_error("channels", "Your account has no email address; ask your coordinator to add one.")
        return data


class VettingForm(CleanTextFormMixin, CrispyFormMixin, forms.ModelForm):
    """The coordinator's record: background check, training, confidentiality agreement."""

    class Meta:
        model = Volunteer
        fields = [
            "is_active",
            "background_check_on",
            "training_completed_on",
            "confidentiality_agreement_signed_on",
        ]
        widgets = {
            "background_check_on": DATE_INPUT,
            "training_completed_on": DATE_INPUT,
            "confidentiality_agreement_signed_on": DATE_INPUT,
        }
        labels = {
            "is_active": "Active (may be paged)",
            "background_check_on": "Background check passed on",
            "training_completed_on": "Training completed on",
            "confidentiality_agreement_signed_on": "Confidentiality agreement signed on",
        }

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        for name in ("background_check_on", "training_completed_on", "confidentiality_agreement_signed_on"):
            value = data.get(name)
            if value is not None and value > today:
                self.add_error(name, "This date cannot be in the future.")
            elif value is not None and value.year < 1990:
                self.add_error(name, "Please check the year.")
        return data
