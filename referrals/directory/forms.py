"""Input parsing and validation for the treatment directory's pages. No side effects here.

Placement forms live in ``placement_forms``.
"""

from __future__ import annotations

from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from config.forms import CleanTextFormMixin, CrispyFormMixin

from . import hsds
from .models import FACILITY_FIELDS, MAX_BEDS, Facility, GenderServed, LevelOfCare, Medication, Payment
from .selectors import FacilityFilters
from .states import US_STATES

MAX_AGE = 130


def _checkboxes(choices, label: str, *, required: bool, help_text: str = "") -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        choices=choices,
        widget=forms.CheckboxSelectMultiple,
        required=required,
        help_text=help_text,
    )


class FacilityForm(CleanTextFormMixin, CrispyFormMixin, forms.ModelForm):
    """A facility's details. The bed count is given here only when adding a facility; after
    that, the quick "beds free now" form records it with who and when."""

    levels_of_care = _checkboxes(
        LevelOfCare.choices,
        "Levels of care (ASAM)",
        required=True,
        help_text="WM: withdrawal management (detox).",
    )
    medications = _checkboxes(Medication.choices, "Medications for opioid use disorder", required=False)
    payment_accepted = _checkboxes(Payment.choices, "Payment accepted", required=True)
    state = forms.ChoiceField(choices=sorted(US_STATES.items()), initial="MA")
    website = forms.URLField(label="Website", max_length=200, required=False, assume_scheme="https")
    beds_available = forms.IntegerField(
        label="Beds free now (optional)", required=False, min_value=0, max_value=MAX_BEDS
    )

    class Meta:
        model = Facility
        fields = list(FACILITY_FIELDS)
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        labels = {
            "organization_name": "Organization",
            "hours": "Hours (for intake calls)",
            "gender_served": "Gender served",
            "serves_pregnant_women": "Serves pregnant women",
            "beds_maximum": "Beds in all",
            "is_active": "Active (listed in the facility search)",
            "contact_name": "Contact (admissions)",
        }

    def __init__(self, *args, adding: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["minimum_age"].widget.attrs["max"] = MAX_AGE
        self.fields["maximum_age"].widget.attrs["max"] = MAX_AGE
        self.fields["beds_maximum"].widget.attrs["max"] = MAX_BEDS
        if not adding:
            del self.fields["beds_available"]

    def clean_minimum_age(self):
        return self._bounded("minimum_age", MAX_AGE)

    def clean_maximum_age(self):
        return self._bounded("maximum_age", MAX_AGE)

    def clean_beds_maximum(self):
        return self._bounded("beds_maximum", MAX_BEDS)

    def _bounded(self, name: str, maximum: int):
        value = self.cleaned_data.get(name)
        if value is not None and value > maximum:
            raise ValidationError(f"Ensure this value is less than or equal to {maximum}.")
        return value

    def clean(self):
        data = super().clean()
        minimum, maximum = data.get("minimum_age"), data.get("maximum_age")
        if minimum is not None and maximum is not None and maximum < minimum:
            self.add_error("maximum_age", "The maximum age is below the minimum age.")
        beds, total = data.get("beds_available"), data.get("beds_maximum")
        if beds is not None and total is not None and beds > total:
            self.add_error("beds_available", f"More beds free than the {total} beds in all.")
        return data


class BedsForm(forms.Form):
    """How many beds a facility has free now (a phone call's answer)."""

    beds_available = forms.IntegerField(label="Beds free now", min_value=0, max_value=MAX_BEDS)

    def __init__(self, *args, facility: Facility, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.facility = facility

    def clean_beds_available(self):
        value = self.cleaned_data["beds_available"]
        total = self.facility.beds_maximum
        if total is not None and value > total:
            raise ValidationError(
                f"{self.facility.name} has {total} beds in all. If it has more now, edit the facility first."
            )
        return value


class FacilitySearchForm(CleanTextFormMixin, CrispyFormMixin, forms.Form):
    """What a person needs from a facility. Blank fields match every facility. For a walk-in it
    is POSTed (the filters come from the person's record); the directory's copy is a GET form."""

    level_of_care = forms.ChoiceField(
        label="Level of care", choices=[("", "Any"), *LevelOfCare.choices], required=False
    )
    payment = forms.ChoiceField(label="Payment", choices=[("", "Any"), *Payment.choices], required=False)
    gender = forms.ChoiceField(
        label="Serves",
        choices=[("", "Anyone"), (GenderServed.WOMEN, "Women"), (GenderServed.MEN, "Men")],
        required=False,
    )
    medication = forms.ChoiceField(
        label="Medication (MOUD)", choices=[("", "Any"), *Medication.choices], required=False
    )
    pregnant = forms.BooleanField(label="Serves pregnant women", required=False)
    beds_only = forms.BooleanField(label="Beds free only", required=False)

    LAYOUT_FIELDS = ("level_of_care", "payment", "gender", "medication", "pregnant", "beds_only")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper.layout = Layout(
            Row(*(Column(name, css_class="col-sm-6 col-lg") for name in self.LAYOUT_FIELDS), css_class="g-2")
        )

    def filters(self) -> FacilityFilters:
        """The filters to apply: none of an invalid field (a tampered URL shows everything)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return FacilityFilters(
            level_of_care=data.get("level_of_care", ""),
            payment=data.get("payment", ""),
            gender=data.get("gender", ""),
            medication=data.get("medication", ""),
            beds_only=data.get("beds_only", False),
            pregnant=data.get("pregnant", False),
            text=data.get("text", ""),
            include_inactive=data.get("include_inactive", False),
        )


class DirectoryFilterForm(FacilitySearchForm):
    """The directory page's filters: the search's, a name or town, and retired facilities."""

    text = forms.CharField(label="Name or town", max_length=100, required=False)
    include_inactive = forms.BooleanField(label="Include inactive", required=False)

    LAYOUT_FIELDS = ("text", *FacilitySearchForm.LAYOUT_FIELDS, "include_inactive")


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern): cleans to a list."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list[UploadedFile]:
        clean_one = super().clean
        items = list(data) if isinstance(data, list | tuple) else [data]
        return [clean_one(item, initial) for item in items] if items else [clean_one(None, initial)]


class HsdsUploadForm(CrispyFormMixin, forms.Form):
    """One zip of HSDS CSV files, or the CSV files themselves."""

    files = MultipleFileField(
        label="HSDS files",
        widget=MultipleFileInput(attrs={"accept": ".zip,.csv"}),
        help_text="A .zip of the CSV files, or the CSV files themselves (select several).",
    )
    dry_run = forms.BooleanField(label="Only check the files: change nothing", required=False)

    def clean_files(self) -> list[UploadedFile]:
        uploads = self.cleaned_data["files"]
        total = sum(upload.size or 0 for upload in uploads)
        if total > hsds.MAX_UPLOAD_BYTES:
            raise ValidationError(
                f"The files are too large ({total / 2**20:.1f} MB): at most "
                f"{hsds.MAX_UPLOAD_BYTES // 2**20} MB. Zip them, or split the import."
            )
        return uploads

    def read_files(self) -> dict[str, bytes]:
        """The HSDS files by name. Raises ``hsds.HsdsFilesError`` for an unreadable upload."""
        return hsds.files_from_uploads(
            (upload.name or "", upload.read()) for upload in self.cleaned_data["files"]
        )
