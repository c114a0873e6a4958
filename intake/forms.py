"""Input parsing and validation for the desk and the intake page. No side effects here."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from config.forms import DATE_INPUT, DATETIME_INPUT, CleanTextFormMixin, CrispyFormMixin

from .choices import Language, SurrenderedItem
from .models import ADULT_AGE, MAX_AGE, Consent, Intake, Person, age_on


def validate_date_of_birth(value: date) -> None:
    today = timezone.localdate()
    if value > today:
        raise ValidationError("The date of birth cannot be in the future.")
    if age_on(value, today) > MAX_AGE:
        raise ValidationError(f"Please check the year: that would make them older than {MAX_AGE}.")


def require_date_of_birth_or_age(form: forms.Form, data: dict) -> None:
    """One of the two is needed; say so once, unless a field already shows its own error."""
    missing = data.get("date_of_birth") is None and data.get("approximate_age") is None
    if missing and not form.has_error("date_of_birth") and not form.has_error("approximate_age"):
        form.add_error("date_of_birth", "Enter a date of birth, or an approximate age.")


class WalkInForm(CleanTextFormMixin, CrispyFormMixin, forms.Form):
    """The two-minute form at the desk: only what is needed to page a companion, and safety.

    No lookup: whether the person is already known is never shown here (repeat visits are
    suggested to coordinators after the walk-in is saved)."""

    first_name = forms.CharField(label="First name or alias", max_length=100)
    last_name = forms.CharField(label="Last name (optional)", max_length=100, required=False)
    date_of_birth = forms.DateField(required=False, widget=DATE_INPUT, validators=[validate_date_of_birth])
    approximate_age = forms.IntegerField(
        label="Or approximate age", required=False, min_value=1, max_value=MAX_AGE
    )
    preferred_language = forms.ChoiceField(choices=Language.choices, initial=Language.ENGLISH)
    companion_gender = forms.ChoiceField(
        label="Would they prefer a companion of a particular gender?",
        choices=Intake._meta.get_field("companion_gender").choices,
        required=False,
    )

    needs_emergency_care = forms.BooleanField(
        label="Needs emergency medical care now (overdose signs, chest pain, unresponsive…)", required=False
    )
    warrant_check = forms.ChoiceField(
        label="Outstanding warrant (record the outcome only, never the details)",
        choices=Intake._meta.get_field("warrant_check").choices,
    )
    weapons_on_person = forms.BooleanField(label="Had a weapon on them (now secured)", required=False)
    under_18 = forms.BooleanField(label="Under 18", required=False)
    guardian_name = forms.CharField(label="Parent or guardian's name", max_length=150, required=False)
    guardian_relationship = forms.CharField(label="Relationship", max_length=60, required=False)
    guardian_consent = forms.BooleanField(
        label="The parent or guardian has given consent for the program to help", required=False
    )
    items_surrendered = forms.BooleanField(label="Drugs or equipment surrendered (no charge)", required=False)
    surrendered_item_types = forms.MultipleChoiceField(
        label="What kind (type only)",
        choices=SurrenderedItem.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    surrendered_items_disposed = forms.BooleanField(label="Disposed of", required=False)

    def __init__(self, *args, departments=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.departments = departments
        if departments is not None and len(departments) > 1:
            self.fields["department"] = forms.ModelChoiceField(queryset=departments, empty_label=None)
            self.order_fields(["department"])

    def clean(self):
        data = super().clean()
        require_date_of_birth_or_age(self, data)
        dob, approximate_age = data.get("date_of_birth"), data.get("approximate_age")
        age = age_on(dob, timezone.localdate()) if dob else approximate_age
        if age is not None and age < ADULT_AGE:
            data["under_18"] = True
        # Emergency care comes first: a minor sent to the ER is recorded without waiting for a
        # guardian (the intake is closed as a medical transfer and nobody is paged).
        if data.get("under_18") and not data.get("needs_emergency_care"):
            for field in ("guardian_name", "guardian_relationship"):
                if not data.get(field):
                    self.add_error(field, "Required for someone under 18.")
            if not data.get("guardian_consent"):
                self.add_error(
                    "guardian_consent",
                    "Someone under 18 needs a parent or guardian's consent before we continue.",
                )
        if data.get("items_surrendered") and not data.get("surrendered_item_types"):
            self.add_error("surrendered_item_types", "Say what kind of items were surrendered (type only).")
        return data

    def chosen_department(self):
        if "department" in self.cleaned_data:
            return self.cleaned_data["department"]
        return self.departments[0]

    def person_data(self) -> dict:
        data = self.cleaned_data
        return {
            "first_name": data["first_name"],
            "last_name": data["last_name"],
            "date_of_birth": data["date_of_birth"],
            "approximate_age": None if data["date_of_birth"] else data["approximate_age"],
            "preferred_language": data["preferred_language"],
        }

    def intake_data(self) -> dict:
        data = self.cleaned_data
        under_18 = data["under_18"]
        surrendered = data["items_surrendered"]
        return {
            "companion_language": data["preferred_language"],
            "companion_gender": data["companion_gender"],
            "needs_emergency_care": data["needs_emergency_care"],
            "warrant_check": data["warrant_check"],
            "weapons_on_person": data["weapons_on_person"],
            "under_18": under_18,
            "guardian_name": data["guardian_name"] if under_18 else "",
            "guardian_relationship": data["guardian_relationship"] if under_18 else "",
            "items_surrendered": surrendered,
            "surrendered_item_types": data["surrendered_item_types"] if surrendered else [],
            "surrendered_items_disposed": data["surrendered_items_disposed"] if surrendered else False,
        }


class PersonDetailsForm(CleanTextFormMixin, CrispyFormMixin, forms.ModelForm):
    class Meta:
        model = Person
        fields = [
            "first_name",
            "last_name",
            "date_of_birth",
            "approximate_age",
            "gender",
            "pronouns",
            "preferred_language",
            "phone",
            "town",
            "insurance",
            "insurance_member_id",
            "veteran",
            "emergency_contact_name",
            "emergency_contact_phone",
        ]
        widgets = {
            "date_of_birth": DATE_INPUT,
            "veteran": forms.NullBooleanSelect,
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["date_of_birth"].validators.append(validate_date_of_birth)

    def clean(self):
        data = super().clean()
        require_date_of_birth_or_age(self, data)
        return data


class IntakeDetailsForm(CleanTextFormMixin, CrispyFormMixin, forms.ModelForm):
    class Meta:
        model = Intake
        fields = [
            "substances",
            "last_use_at",
            "overdose_history",
            "medical_concerns",
            "mental_health_concerns",
            "pregnancy",
            "companion_language",
            "companion_gender",
            "needs",
            "notes",
            "guardian_name",
            "guardian_relationship",
        ]
        widgets = {
            "last_use_at": DATETIME_INPUT,
            "medical_concerns": forms.Textarea(attrs={"rows": 2}),
            "mental_health_concerns": forms.Textarea(attrs={"rows": 2}),
            "needs": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    substances = forms.MultipleChoiceField(
        choices=Intake._meta.get_field("substances").base_field.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    # Asked for when a corrected date of birth shows the person is under 18.
    guardian_consent = forms.BooleanField(
        label="The parent or guardian has given consent for the program to help", required=False
    )

    def clean_last_use_at(self):
        value = self.cleaned_data.get("last_use_at")
        if value and value > timezone.now() + timedelta(minutes=5):
            raise ValidationError("The last use cannot be in the future.")
        return value


class CompanionDetailsForm(CleanTextFormMixin, CrispyFormMixin, forms.Form):
    """What the companion may correct (minimum necessary): the first name the person goes by, the
    language to speak with them, and what they need from a companion."""

    first_name = forms.CharField(max_length=Person._meta.get_field("first_name").max_length)
    companion_language = forms.ChoiceField(
        label="Language", choices=Intake._meta.get_field("companion_language").choices
    )
    needs = forms.CharField(
        label="Needs and preferences",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    @staticmethod
    def initial_for(intake: Intake) -> dict:
        return {
            "first_name": intake.person.first_name,
            "companion_language": intake.companion_language,
            "needs": intake.needs,
        }


class CloseIntakeForm(forms.Form):
    reason = forms.ChoiceField(choices=[("", "Choose a reason…"), *Intake.CloseReason.choices])


class ConsentForm(CleanTextFormMixin, CrispyFormMixin, forms.ModelForm):
    """The 42 CFR 2.31 consent, prefilled with the program's usual terms, read by the person."""

    class Meta:
        model = Consent
        fields = [
            "patient_name",
            "disclosing_party",
            "information",
            "recipients",
            "purpose",
            "expires_on",
            "expiry_event",
            "notice_acknowledged",
            "signer",
            "signature",
        ]
        widgets = {
            "information": forms.Textarea(attrs={"rows": 2}),
            "recipients": forms.Textarea(attrs={"rows": 2}),
            "purpose": forms.Textarea(attrs={"rows": 2}),
            "expires_on": DATE_INPUT,
        }
        help_texts = {
            "expires_on": "A date when this consent ends…",
            "expiry_event": "…or instead, an event that ends it (for example: “when I finish treatment”).",
        }
        labels = {
            "notice_acknowledged": "I have read the notice above about the confidentiality of my records.",
            "signature": "Signature: type your full name",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["notice_acknowledged"].required = True

    def clean_expires_on(self):
        value = self.cleaned_data.get("expires_on")
        if value and value < timezone.localdate():
            raise ValidationError("The expiry date cannot be in the past.")
        return value

    def clean(self):
        data = super().clean()
        if not data.get("expires_on") and not data.get("expiry_event") and not self.has_error("expires_on"):
            self.add_error("expires_on", "Give an expiry date or an event that ends this consent.")
        return data

    @staticmethod
    def initial_for(intake: Intake) -> dict:
        person = intake.person
        return {
            "patient_name": f"{person.first_name} {person.last_name}".strip(),
            "disclosing_party": f"{intake.department.name} — the walk-in recovery program (Harbor)",
            "information": (
                "That I asked for help with substance use, my contact details, insurance, and the "
                "information needed to find me a treatment placement and follow up with me."
            ),
            "recipients": (
                "Treatment programs and facilities the program refers me to, and the volunteer "
                "companion assigned to help me."
            ),
            "purpose": "To find me a place in treatment, get me there, and check on me afterwards.",
            "expires_on": timezone.localdate() + timedelta(days=365),
            "expiry_event": "",
            "signer": Consent.Signer.GUARDIAN if intake.under_18 else Consent.Signer.PERSON,
        }


class RevokeConsentForm(CleanTextFormMixin, forms.Form):
    note = forms.CharField(label="How the person asked (optional)", max_length=300, required=False)


class RepeatVisitDecisionForm(forms.Form):
    """A coordinator's answer to a possible repeat visit (the buttons of the intake page)."""

    decision = forms.ChoiceField(choices=[("link", "Same person: link"), ("dismiss", "Not the same person")])
