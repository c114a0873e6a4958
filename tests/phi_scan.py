"""Watches the whole test run for personal health information where it must never be.

Every person the tests create (``intake.Person`` saves) adds their name, their emergency
contact's name, their insurance member id and their date of birth to a list of identifiers.
Everything Harbor writes outward during the run is collected: log records (with exception
text), notification subjects and bodies, text messages and emails handed to the backends,
Celery task arguments, and the URLs of every request. After each test, the texts of that test
are searched for every identifier seen so far; a hit fails the test with where it leaked.

The identifiers are chosen to be specific (full names, ids of four or more characters, dates
of birth in two spellings) so that a common word never counts as a leak.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

MIN_PART = 3  # a name part shorter than this ("Al", an alias "J") is not specific enough


@dataclass
class Leak:
    source: str
    identifier: str
    text: str

    def __str__(self) -> str:
        excerpt = self.text if len(self.text) < 300 else self.text[:300] + "…"
        return f"{self.source}: {self.identifier!r} in {excerpt!r}"


@dataclass
class PhiScanner:
    identifiers: set[str] = field(default_factory=set)
    texts: list[tuple[str, str]] = field(default_factory=list)

    # --- what must not leak --------------------------------------------------------------------

    def add_person(self, person) -> None:
        if getattr(person, "anonymised_at", None):
            return
        self._add_name(person.first_name, person.last_name)
        contact = (person.emergency_contact_name or "").split()
        if len(contact) >= 2:
            self._add_name(contact[0], contact[-1])
        member_id = (person.insurance_member_id or "").strip()
        if len(member_id) >= 4:
            self.identifiers.add(member_id)
        if person.date_of_birth:
            dob = person.date_of_birth
            self.identifiers.add(dob.isoformat())
            self.identifiers.add(f"{dob.month:02d}/{dob.day:02d}/{dob.year}")

    def _add_name(self, first: str, last: str) -> None:
        first, last = (first or "").strip(), (last or "").strip()
        if all(len(part) >= MIN_PART and any(c.isalpha() for c in part) for part in (first, last)):
            self.identifiers.add(f"{first} {last}")
            self.identifiers.add(f"{last}, {first}")

    # --- what goes out ---------------------------------------------------------------------------

    def add_text(self, source: str, text: object) -> None:
        if text:
            self.texts.append((source, str(text)))

    def leaks(self) -> list[Leak]:
        if not self.identifiers or not self.texts:
            return []
        pattern = re.compile(
            "|".join(re.escape(i) for i in sorted(self.identifiers, key=len, reverse=True)), re.IGNORECASE
        )
        found = []
        for source, text in self.texts:
            # Whitespace is normalised: a name split over two lines is still the name.
            match = pattern.search(" ".join(text.split()))
            if match:
                found.append(Leak(source=source, identifier=match.group(0), text=text))
        return found

    def clear_texts(self) -> None:
        self.texts.clear()


class ScannerLogHandler(logging.Handler):
    """Collects every log record that reaches the root logger, formatted as it would be shown."""

    def __init__(self, scanner: PhiScanner) -> None:
        super().__init__(level=logging.NOTSET)
        self.scanner = scanner
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a record that cannot be formatted is shown as its raw parts
            text = f"{record.msg} {record.args}"
        extra = {k: v for k, v in record.__dict__.items() if k not in _STANDARD_RECORD_KEYS}
        self.scanner.add_text(f"log {record.name}", f"{text} {extra}" if extra else text)


_STANDARD_RECORD_KEYS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


# What Harbor answers to its provider (TwiML: text replies, what a phone call says) is outward
# text too. The test settings add this middleware; the session fixture points it at the scanner.
ACTIVE_SCANNER: PhiScanner | None = None


class ProviderReplyScanMiddleware:
    """Tests only: every XML response (TwiML) is collected for the scan."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if ACTIVE_SCANNER is not None and "xml" in content_type and not response.streaming:
            ACTIVE_SCANNER.add_text(f"reply to {request.path}", response.content.decode(errors="replace"))
        return response
