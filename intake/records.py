"""What of another app's rows belongs to a person's record.

Rows of higher apps hold parts of a person's record: a placement's driver, a call's note, what a
disclosure said. Intake owns the record, its retention and its erasure on request, but may not
import those apps (docs/ARCHITECTURE.md "Layers"). So each such model declares, as its
``person_record`` class attribute, how it reaches the person, which of its columns are contact
with the person, and what its free text becomes when the person is anonymised;
``intake.services.retention`` finds every declaring model through Django's app registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.db import models

# Stands, in ``PersonRecord.anonymised``, for the words saying why the record was anonymised
# (the retention period ran out, or the person asked).
REASON = object()


@dataclass(frozen=True)
class PersonRecord:
    """How one model's rows belong to a person's record."""

    # The lookup from the model to its ``intake.Person``: "person", or "intake__person".
    person: str
    # Column → value it takes when the person is anonymised (``REASON``: the reason's words).
    anonymised: dict[str, object] = field(default_factory=dict)
    # Date-time columns that are contact with the person (they count towards the last contact).
    contact: tuple[str, ...] = ()

    @property
    def via(self) -> str:
        """The model's own column the person is reached through: "person" or "intake"."""
        return self.person.split("__", 1)[0]


def person_record_models() -> list[type[models.Model]]:
    """Every model of another app that declares a ``person_record``, in a stable order."""
    found = [
        model
        for model in apps.get_models()
        if isinstance(getattr(model, "person_record", None), PersonRecord)
    ]
    return sorted(found, key=lambda model: model._meta.label)
