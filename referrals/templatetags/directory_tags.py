"""Labels for the directory's coded lists (payment, medications) in templates."""

from django import template

from referrals.models import GenderServed, Medication, Payment

register = template.Library()


def _labels(codes, choices) -> str:
    labels = dict(choices)
    return ", ".join(str(labels.get(code, code)) for code in codes or [])


@register.filter
def payment_labels(codes) -> str:
    return _labels(codes, Payment.choices)


@register.filter
def medication_labels(codes) -> str:
    return _labels(codes, Medication.choices)


@register.filter
def gender_served_label(code) -> str:
    return str(dict(GenderServed.choices).get(code, code))
