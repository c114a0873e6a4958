"""What the forms of the intake pages post, and how to tell that nothing was written."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from intake.models import Consent, Intake, IntakeEvent, Person


def walk_in_data(**overrides) -> dict:
    """The two-minute desk form as an officer fills it in: the minimum, an adult, no flags."""
    data = {
        "first_name": "Tamsin",
        "last_name": "",
        "date_of_birth": "",
        "approximate_age": "34",
        "preferred_language": "en",
        "companion_gender": "",
        "warrant_check": "none",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def edit_data(intake: Intake, **overrides) -> dict:
    """The "complete the record" form as it is shown for ``intake``, with ``overrides``."""
    person = intake.person
    data = {
        "person-first_name": person.first_name,
        "person-last_name": person.last_name,
        "person-date_of_birth": person.date_of_birth.isoformat() if person.date_of_birth else "",
        "person-approximate_age": person.approximate_age or "",
        "person-gender": "",
        "person-pronouns": "",
        "person-preferred_language": person.preferred_language,
        "person-phone": "",
        "person-town": "Gloucester",
        "person-insurance": "medicaid",
        "person-insurance_member_id": "",
        "person-veteran": "unknown",
        "person-emergency_contact_name": "",
        "person-emergency_contact_phone": "",
        "intake-substances": ["opioids"],
        "intake-last_use_at": "",
        "intake-overdose_history": "",
        "intake-medical_concerns": "",
        "intake-mental_health_concerns": "",
        "intake-pregnancy": "",
        "intake-companion_language": intake.companion_language,
        "intake-companion_gender": "",
        "intake-needs": "Somewhere quiet to wait",
        "intake-notes": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def consent_data(**overrides) -> dict:
    """A complete 42 CFR 2.31 consent, signed by the person."""
    data = {
        "patient_name": "Tamsin Okafor",
        "disclosing_party": "Gloucester Police Department walk-in program",
        "information": "That I asked for help, my contact details and treatment needs",
        "recipients": "Treatment facilities the program refers me to",
        "purpose": "To find me a treatment placement and follow up",
        "expires_on": (timezone.localdate() + timedelta(days=180)).isoformat(),
        "expiry_event": "",
        "notice_acknowledged": "on",
        "signer": "person",
        "signature": "Tamsin Okafor",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def record_counts() -> dict[str, int]:
    return {
        "people": Person.objects.count(),
        "intakes": Intake.objects.count(),
        "events": IntakeEvent.objects.count(),
        "consents": Consent.objects.count(),
    }
