"""Open Referral HSDS 3 tabular data (CSV files) in and out of the treatment directory.

One facility is one HSDS *service at a location*: it is found again by its service id and
location id, so importing the same data twice updates the facilities instead of adding copies.
A facility a coordinator entered by hand is linked to the import when the service has the same
name and the location the same street address and town.

What is read (file names may be singular or plural: ``service.csv`` or ``services.csv``):

- required: ``services.csv`` (name, description, url → website, email, status → active,
  minimum_age, maximum_age), ``locations.csv`` and ``service_at_location.csv``;
- optional: ``organizations.csv`` (name), ``service_capacity.csv`` (available → beds available,
  maximum → beds in all, updated → when counted; one count per service, so every location of a
  service gets it), ``units.csv`` (to say when a capacity is not counted in beds),
  ``addresses.csv`` (address_1 and address_2, city, state_province, postal_code; the physical
  address first), ``phones.csv``, ``contacts.csv`` (name), ``schedules.csv`` (description, or
  opening times → hours), and ``attributes.csv`` with ``taxonomy_terms.csv``: HSDS has no
  columns for ASAM levels of care, medications for opioid use disorder, payment or the people
  served, so Harbor reads (and writes) them as attributes of the service with the taxonomy
  terms ``asam:3.7-WM``, ``moud:buprenorphine``, ``payment:medicaid``, ``gender-served:women``
  and ``population:pregnant-women``. A service with at least one such attribute gets exactly
  those (none → empty lists, all genders, not for pregnant women); a service without any keeps
  what coordinators entered, so for imported data they fill them in. Every other file and
  column is ignored.

Errors and warnings. Every row is checked and every problem is reported as "file, row, column:
problem" (row 1 is the header, as a spreadsheet shows it). An *error* refuses the whole import
and nothing changes: an unreadable or missing file, a missing or duplicate id, a reference to an
id that is not there (between services, locations, organizations and service_at_location), a
missing name, text that is too long or holds control characters, a number that is not a whole
number ≥ 0, a date that does not parse or lies in the future (or before 2000), an unknown status
or Harbor term.
A *warning* does not stop the import; the value it names is left out: a phone number, email, web
address, state or postal code Harbor cannot read, a location without an address, hours that were
shortened, a capacity counted in something other than beds (read as beds), a capacity with more
available than in all (kept as given), a capacity for a service that is neither in the files nor
in the directory (skipped), and a count older than the one the directory already has (the newer
one is kept).

A blank cell never erases what the directory holds: an import fills in and updates. Facilities
that are not in the files are left alone (never deleted or deactivated).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import uuid
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .models import MAX_BEDS, Facility, GenderServed, LevelOfCare, Medication, Payment
from .states import us_state_code

# --- limits -----------------------------------------------------------------------------------

# A statewide directory of 2,000 facilities is well under 1 MB of CSV.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 25 * 1024 * 1024
MAX_FILES = 60
MAX_ROWS = 50_000
MAX_TEXT = 10_000
MAX_AGE = 130
# A count "updated" a little in the future is a clock difference; more is a mistake.
CLOCK_SKEW = timedelta(minutes=5)
# No count of free beds is that old (and year 1 does not survive the conversion to UTC).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)

# Harbor's own ids for what it exports without an HSDS id, and for its taxonomy: stable, so an
# export imported again finds the same rows.
HARBOR_NAMESPACE = uuid.UUID("ef4acd40-030e-4fe7-b07a-5fe13ac73f16")
# One import at a time (pg_advisory_xact_lock key: "HSDS" in ASCII).
IMPORT_LOCK_KEY = 0x48534453

# --- files ------------------------------------------------------------------------------------

REQUIRED_FILES = ("services.csv", "locations.csv", "service_at_location.csv")
# Each file Harbor reads, with the columns it cannot do without.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "organizations.csv": ("id", "name"),
    "services.csv": ("id", "name"),
    "locations.csv": ("id",),
    "service_at_location.csv": ("service_id", "location_id"),
    "service_capacity.csv": ("service_id", "available"),
    "units.csv": ("id",),
    "addresses.csv": ("location_id",),
    "phones.csv": ("number",),
    "contacts.csv": ("name",),
    "schedules.csv": (),
    "attributes.csv": ("link_id", "taxonomy_term_id"),
    "taxonomy_terms.csv": ("id", "code"),
}
SINGULAR_NAMES = {
    "organization.csv": "organizations.csv",
    "service.csv": "services.csv",
    "location.csv": "locations.csv",
    "service_at_locations.csv": "service_at_location.csv",
    "service_capacities.csv": "service_capacity.csv",
    "unit.csv": "units.csv",
    "address.csv": "addresses.csv",
    "phone.csv": "phones.csv",
    "contact.csv": "contacts.csv",
    "schedule.csv": "schedules.csv",
    "attribute.csv": "attributes.csv",
    "taxonomy_term.csv": "taxonomy_terms.csv",
}

ACTIVE_STATUSES = {"active": True, "inactive": False, "defunct": False, "temporarily closed": False}
BED_UNIT = re.compile(r"\bbeds?\b", re.IGNORECASE)
WHOLE_NUMBER = re.compile(r"[0-9]+")

# Harbor's taxonomy terms: prefix → the values they may take.
TERM_PREFIXES: dict[str, dict[str, str]] = {
    "asam": {value.casefold(): value for value in LevelOfCare.values},
    "moud": {value.casefold(): value for value in Medication.values},
    "payment": {value.casefold(): value for value in Payment.values},
    "gender-served": {value.casefold(): value for value in GenderServed.values},
    "population": {"pregnant-women": "pregnant-women"},
}
TAXONOMY_NAME = "Harbor treatment directory"


class HsdsFilesError(Exception):
    """The upload or folder cannot be read at all (not a zip, too large…). The message is for the user."""


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = [self.file] if self.file else []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass
class ImportReport:
    """What an import found and did. ``applied`` is True only when the directory was changed."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    applied: bool = False
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, file: str, row: int | None, column: str, message: str) -> None:
        self.errors.append(Problem(file, row, column, message))

    def warn(self, file: str, row: int | None, column: str, message: str) -> None:
        self.warnings.append(Problem(file, row, column, message))

    def summary(self) -> str:
        if not self.ok:
            count = len(self.errors)
            return f"Import refused: {count} problem{'s' if count != 1 else ''}. Nothing was changed."
        verb = "Would create" if self.dry_run else "Created"
        return (
            f"{verb} {self.created}, {'would update' if self.dry_run else 'updated'} {self.updated}, "
            f"unchanged {self.unchanged} facilit{'y' if self.unchanged == 1 else 'ies'}."
        )


# --- reading files ----------------------------------------------------------------------------


def canonical_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lower()
    return SINGULAR_NAMES.get(base, base)


def _add_file(files: dict[str, bytes], name: str, data: bytes) -> None:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    for existing in files:
        if canonical_name(existing) == canonical_name(base):
            also = "" if existing == base else f" (as {existing} too)"
            raise HsdsFilesError(f"{base} is there twice{also}. Send each file once.")
    if len(files) >= MAX_FILES:
        raise HsdsFilesError(f"Too many files: at most {MAX_FILES}.")
    files[base] = data


def files_from_folder(folder: Path) -> dict[str, bytes]:
    """The CSV files directly inside ``folder`` (what ``manage.py import_hsds`` reads)."""
    if not folder.is_dir():
        raise HsdsFilesError(f"{folder} is not a folder.")
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() == ".csv":
            total += path.stat().st_size
            if total > MAX_UNPACKED_BYTES:
                raise HsdsFilesError(f"The CSV files add up to more than {MAX_UNPACKED_BYTES // 2**20} MB.")
            _add_file(files, path.name, path.read_bytes())
    return files


def files_from_zip(data: bytes) -> dict[str, bytes]:
    """The CSV files in a zip (in any folder of it); other files are ignored.

    Sizes are checked as the files are unpacked, not trusted from the zip's directory, so a
    "zip bomb" is stopped at ``MAX_UNPACKED_BYTES``.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as error:
        raise HsdsFilesError("This is not a zip file that can be opened.") from error
    files: dict[str, bytes] = {}
    remaining = MAX_UNPACKED_BYTES
    with archive:
        for info in archive.infolist():
            name = info.filename.replace("\\", "/")
            base = name.rsplit("/", 1)[-1]
            if info.is_dir() or name.startswith("__MACOSX/") or base.startswith("."):
                continue
            if not base.lower().endswith(".csv"):
                continue
            try:
                with archive.open(info) as member:
                    content = member.read(remaining + 1)
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError) as error:
                raise HsdsFilesError(
                    f"{base} cannot be unpacked from the zip (damaged or password-protected)."
                ) from error
            remaining -= len(content)
            if remaining < 0:
                raise HsdsFilesError(
                    f"The files in the zip add up to more than {MAX_UNPACKED_BYTES // 2**20} MB unpacked."
                )
            _add_file(files, base, content)
    if not files:
        raise HsdsFilesError("The zip holds no CSV files.")
    return files


def files_from_uploads(uploads: Iterable[tuple[str, bytes]]) -> dict[str, bytes]:
    """Uploaded CSV files and the CSV files of uploaded zips, by file name."""
    files: dict[str, bytes] = {}
    for name, data in uploads:
        if name.lower().endswith(".zip"):
            for inner, content in files_from_zip(data).items():
                _add_file(files, inner, content)
        elif name.lower().endswith(".csv"):
            _add_file(files, name, data)
        else:
            raise HsdsFilesError(f"{name} is neither a .csv file nor a .zip of CSV files.")
    return files


@dataclass
class Row:
    number: int  # as a spreadsheet shows it: the header is row 1
    values: dict[str, str]


@dataclass
class Table:
    file: str  # the name the user gave it, for messages
    columns: set[str]
    rows: list[Row]


def _decode(file: str, data: bytes, report: ImportReport) -> str | None:
    if b"\x00" in data:
        report.error(file, None, "", "This is not a CSV text file (it holds binary data).")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = data[: error.start].count(b"\n") + 1
        report.error(
            file,
            None,
            "",
            f"This file is not UTF-8 text (byte 0x{data[error.start]:02x} on row "
            f"{row}). Save it as “CSV UTF-8”.",
        )
        return None


def read_table(file: str, data: bytes, report: ImportReport) -> Table | None:
    """Parse one CSV file; report what makes it unreadable. Header names are lower-cased."""
    text = _decode(file, data, report)
    if text is None:
        return None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 0  # the last row read
    try:
        header = next(reader, None)
        number = 1
        if not header or not any(cell.strip() for cell in header):
            report.error(file, None, "", "The file is empty: the first row must name the columns.")
            return None
        columns = [cell.strip().lower() for cell in header]
        duplicates = sorted({c for c in columns if c and columns.count(c) > 1})
        if duplicates:
            report.error(file, 1, ", ".join(duplicates), "This column is named twice in the header.")
            return None
        rows: list[Row] = []
        for cells in reader:
            number += 1
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            if len(rows) >= MAX_ROWS:
                report.error(file, number, "", f"Too many rows: at most {MAX_ROWS:,} per file.")
                return None
            if len(cells) != len(columns):
                report.error(
                    file,
                    number,
                    "",
                    f"This row has {len(cells)} value{'s' if len(cells) != 1 else ''} but the header names "
                    f"{len(columns)} columns "
                    "(a missing or extra comma, or a cut-off file?).",
                )
                continue
            rows.append(Row(number, {c: v.strip() for c, v in zip(columns, cells, strict=True) if c}))
    except csv.Error as error:
        report.error(
            file, number + 1, "", f"The CSV cannot be read from this row on: {error} (a quote not closed?)."
        )
        return None
    missing = [c for c in REQUIRED_COLUMNS.get(canonical_name(file), ()) if c not in columns]
    if missing:
        for column in missing:
            report.error(file, 1, column, "This required column is missing from the header.")
        return None
    return Table(file=file, columns=set(columns), rows=rows)


def read_tables(files: Mapping[str, bytes], report: ImportReport) -> dict[str, Table]:
    """The tables Harbor reads, by canonical name; the rest are listed as ignored."""
    tables: dict[str, Table] = {}
    for name in sorted(files):
        canonical = canonical_name(name)
        if canonical not in REQUIRED_COLUMNS:
            report.ignored_files.append(name)
            continue
        report.files.append(name)
        table = read_table(name, files[name], report)
        if table is not None:
            tables[canonical] = table
    present = {canonical_name(name) for name in files}
    for required in REQUIRED_FILES:
        if required not in present:
            report.error(required, None, "", "This file is required and was not sent.")
    return tables


# --- checking values --------------------------------------------------------------------------


def _has_control_characters(value: str, *, multiline: bool) -> bool:
    allowed = {"\t", "\n", "\r"} if multiline else {"\t"}
    return any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"} and ch not in allowed for ch in value)


class Checker:
    """Reads typed values out of rows, reporting every problem once, at its file, row and column."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report

    def text(
        self,
        table: Table,
        row: Row,
        column: str,
        *,
        max_length: int = MAX_TEXT,
        required: bool = False,
        multiline: bool = False,
        warn_only: bool = False,
    ) -> str | None:
        """The cell as text (single-line unless ``multiline``), or None when it is unusable."""
        problem = self.report.warn if warn_only else self.report.error
        value = row.values.get(column, "")
        if not multiline:
            value = " ".join(value.split())
        if _has_control_characters(value, multiline=multiline):
            problem(table.file, row.number, column, "Remove the invisible control characters from this text.")
            return None
        if len(value) > max_length:
            problem(
                table.file,
                row.number,
                column,
                f"Too long: at most {max_length} characters (it has {len(value)})"
                + ("; left out." if warn_only else "."),
            )
            return None
        if required and not value:
            problem(table.file, row.number, column, "This value is required.")
            return None
        return value

    def identifier(self, table: Table, row: Row, column: str = "id") -> str | None:
        return self.text(table, row, column, max_length=100, required=True)

    def whole_number(self, table: Table, row: Row, column: str, *, maximum: int) -> int | None:
        """None for a blank cell (and for a reported error: check ``report.errors``)."""
        value = row.values.get(column, "")
        if not value:
            return None
        if not WHOLE_NUMBER.fullmatch(value):
            self.report.error(table.file, row.number, column, f"“{value[:40]}” is not a whole number ≥ 0.")
            return None
        number = int(value)
        if number > maximum:
            self.report.error(table.file, row.number, column, f"{number} is more than {maximum}: a typo?")
            return None
        return number

    def moment(self, table: Table, row: Row, column: str) -> datetime | None:
        value = row.values.get(column, "")
        if not value:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.report.error(
                table.file,
                row.number,
                column,
                f"“{value[:40]}” is not a date and time (ISO 8601, like 2024-09-25T14:23:06+01:00).",
            )
            return None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        if moment > timezone.now() + CLOCK_SKEW:
            self.report.error(table.file, row.number, column, f"{value} is in the future.")
            return None
        if moment < EARLIEST:
            self.report.error(table.file, row.number, column, f"{value} is before {EARLIEST.year}: a typo?")
            return None
        return moment


def _index_unique_ids(
    table: Table | None, check: Checker, on_row: Callable[[str, Row], None] | None = None
) -> dict[str, Row]:
    """Rows by their ``id``, reporting missing and duplicate ids."""
    rows: dict[str, Row] = {}
    if table is None:
        return rows
    for row in table.rows:
        row_id = check.identifier(table, row)
        if row_id is None:
            continue
        if row_id in rows:
            check.report.error(
                table.file, row.number, "id", f"The id {row_id} is already used on row {rows[row_id].number}."
            )
            continue
        rows[row_id] = row
        if on_row is not None:
            on_row(row_id, row)
    return rows


# --- what the files say -----------------------------------------------------------------------


@dataclass
class Capacity:
    row: Row
    available: int
    maximum: int | None
    updated: datetime | None


@dataclass
class Classification:
    levels_of_care: list[str] = field(default_factory=list)
    medications: list[str] = field(default_factory=list)
    payment_accepted: list[str] = field(default_factory=list)
    gender_served: str = GenderServed.ALL
    serves_pregnant_women: bool = False

    def values(self) -> dict[str, Any]:
        order = {
            "levels_of_care": LevelOfCare.values,
            "medications": Medication.values,
            "payment_accepted": Payment.values,
        }
        values: dict[str, Any] = {
            name: sorted(set(getattr(self, name)), key=known.index) for name, known in order.items()
        }
        values["gender_served"] = self.gender_served
        values["serves_pregnant_women"] = self.serves_pregnant_women
        return values


@dataclass
class Planned:
    """One service at a location: the facility it becomes, and the values the files give it."""

    row: Row
    service_id: str
    location_id: str
    values: dict[str, Any]
    facility: Facility | None = None  # the directory's, when it has it already


class Reader:
    """Checks every table and turns the rows into facility values."""

    def __init__(self, tables: dict[str, Table], report: ImportReport) -> None:
        self.tables = tables
        self.report = report
        self.check = Checker(report)

    def table(self, name: str) -> Table | None:
        return self.tables.get(name)

    # Each ``read_*`` reports its problems and returns what it could read.

    def read_organizations(self) -> dict[str, str] | None:
        table = self.table("organizations.csv")
        if table is None:
            return None
        names: dict[str, str] = {}

        def on_row(org_id: str, row: Row) -> None:
            name = self.check.text(table, row, "name", max_length=200, required=True)
            if name is not None:
                names[org_id] = name

        _index_unique_ids(table, self.check, on_row)
        return names

    def read_services(self, organizations: dict[str, str] | None) -> dict[str, dict[str, Any]]:
        table = self.tables["services.csv"]
        services: dict[str, dict[str, Any]] = {}

        def on_row(service_id: str, row: Row) -> None:
            check = self.check
            values: dict[str, Any] = {}
            name = check.text(table, row, "name", max_length=200, required=True)
            if name:
                values["name"] = name
            org_id = check.text(table, row, "organization_id", max_length=100)
            if org_id:
                values["hsds_organization_id"] = org_id
                if organizations is not None and org_id in organizations:
                    values["organization_name"] = organizations[org_id]
                elif organizations is not None:
                    self.report.error(
                        table.file,
                        row.number,
                        "organization_id",
                        f"No organization {org_id} in organizations.csv.",
                    )
            description = check.text(table, row, "description", multiline=True)
            if description:
                values["description"] = description
            self._read_email(table, row, "email", values)
            self._read_website(table, row, values)
            status = row.values.get("status", "").replace("_", " ").casefold()
            if status:
                if status in ACTIVE_STATUSES:
                    values["is_active"] = ACTIVE_STATUSES[status]
                else:
                    self.report.error(
                        table.file,
                        row.number,
                        "status",
                        f"“{row.values['status'][:40]}” is not an HSDS status "
                        "(active, inactive, defunct, temporarily closed).",
                    )
            minimum = check.whole_number(table, row, "minimum_age", maximum=MAX_AGE)
            maximum = check.whole_number(table, row, "maximum_age", maximum=MAX_AGE)
            if minimum is not None and maximum is not None and minimum > maximum:
                self.report.error(
                    table.file,
                    row.number,
                    "maximum_age",
                    f"The maximum age {maximum} is below the minimum {minimum}.",
                )
            if minimum is not None:
                values["minimum_age"] = minimum
            if maximum is not None:
                values["maximum_age"] = maximum
            services[service_id] = values

        _index_unique_ids(table, self.check, on_row)
        return services

    def _read_email(self, table: Table, row: Row, column: str, values: dict[str, Any]) -> None:
        email = self.check.text(table, row, column, max_length=254, warn_only=True)
        if not email:
            return
        try:
            EmailValidator()(email)
        except ValidationError:
            self.report.warn(
                table.file, row.number, column, f"“{email[:60]}” is not an email address; left out."
            )
        else:
            values["email"] = email

    def _read_website(self, table: Table, row: Row, values: dict[str, Any]) -> None:
        url = self.check.text(table, row, "url", max_length=200, warn_only=True)
        if not url:
            return
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            self.report.warn(table.file, row.number, "url", f"“{url[:60]}” is not a web address; left out.")
        else:
            values["website"] = url

    def read_locations(self) -> set[str]:
        return set(_index_unique_ids(self.tables["locations.csv"], self.check))

    def read_service_at_location(self, services: dict[str, Any], locations: set[str]) -> list[Planned]:
        table = self.tables["service_at_location.csv"]
        planned: list[Planned] = []
        seen_ids: dict[str, int] = {}
        seen_pairs: dict[tuple[str, str], int] = {}
        for row in table.rows:
            if "id" in table.columns:
                sal_id = self.check.identifier(table, row)
                if sal_id is not None:
                    if sal_id in seen_ids:
                        self.report.error(
                            table.file,
                            row.number,
                            "id",
                            f"The id {sal_id} is already used on row {seen_ids[sal_id]}.",
                        )
                    seen_ids[sal_id] = row.number
            service_id = self.check.identifier(table, row, "service_id")
            location_id = self.check.identifier(table, row, "location_id")
            if service_id is not None and service_id not in services:
                self.report.error(
                    table.file, row.number, "service_id", f"No service {service_id} in services.csv."
                )
                service_id = None
            if location_id is not None and location_id not in locations:
                self.report.error(
                    table.file, row.number, "location_id", f"No location {location_id} in locations.csv."
                )
                location_id = None
            if service_id is None or location_id is None:
                continue
            pair = (service_id, location_id)
            if pair in seen_pairs:
                self.report.error(
                    table.file,
                    row.number,
                    "",
                    f"This service is already at this location on row {seen_pairs[pair]}.",
                )
                continue
            seen_pairs[pair] = row.number
            values = {"hsds_service_id": service_id, "hsds_location_id": location_id, **services[service_id]}
            planned.append(Planned(row=row, service_id=service_id, location_id=location_id, values=values))
        return planned

    def read_addresses(self) -> dict[str, dict[str, Any]]:
        """The address of each location: its physical address if it has one, else the first."""
        table = self.table("addresses.csv")
        addresses: dict[str, dict[str, Any]] = {}
        if table is None:
            return addresses
        physical: set[str] = set()
        for row in table.rows:
            location_id = row.values.get("location_id", "")
            is_physical = row.values.get("address_type", "").casefold() == "physical"
            if not location_id or location_id in physical or (location_id in addresses and not is_physical):
                continue
            values: dict[str, Any] = {}
            check = self.check
            parts = [
                check.text(table, row, c, max_length=200, warn_only=True) for c in ("address_1", "address_2")
            ]
            street = ", ".join(part for part in parts if part)
            if len(street) > 200:
                self.report.warn(
                    table.file,
                    row.number,
                    "address_2",
                    "The street address is over 200 characters; left out.",
                )
            elif street:
                values["street_address"] = street
            town = check.text(table, row, "city", max_length=100, warn_only=True)
            if town:
                values["town"] = town
            state = check.text(table, row, "state_province", max_length=100, warn_only=True)
            if state:
                code = us_state_code(state)
                if code:
                    values["state"] = code
                else:
                    self.report.warn(
                        table.file,
                        row.number,
                        "state_province",
                        f"“{state[:40]}” is not a US state or its two-letter code; left out (check the "
                        "facility's state).",
                    )
            postal_code = check.text(table, row, "postal_code", max_length=10, warn_only=True)
            if postal_code:
                values["postal_code"] = postal_code
            addresses[location_id] = values
            if is_physical:
                physical.add(location_id)
        return addresses

    def read_attached(self, name: str, read: Callable[[Table, Row], dict[str, Any]]) -> _Attached:
        """A table whose rows belong to a service at a location, a service or a location."""
        attached = _Attached()
        table = self.table(name)
        if table is None:
            return attached
        for row in table.rows:
            keys = [row.values.get(c, "") for c in ("service_at_location_id", "service_id", "location_id")]
            if not any(keys):
                continue
            values = read(table, row)
            if values:
                attached.add(*keys, values=values)
        return attached

    def read_phone(self, table: Table, row: Row) -> dict[str, Any]:
        number = self.check.text(table, row, "number", max_length=100, warn_only=True)
        number = (number or "").strip("\"' ")
        if not number:
            return {}
        try:
            parsed = phonenumbers.parse(number, settings.PHONENUMBER_DEFAULT_REGION)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is None or not phonenumbers.is_valid_number(parsed):
            self.report.warn(
                table.file, row.number, "number", f"“{number[:40]}” is not a phone number; left out."
            )
            return {}
        return {"phone": phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)}

    def read_contact(self, table: Table, row: Row) -> dict[str, Any]:
        name = self.check.text(table, row, "name", max_length=150, warn_only=True)
        return {"contact_name": name} if name else {}

    def read_schedule(self, table: Table, row: Row) -> dict[str, Any]:
        hours = self.check.text(table, row, "description", max_length=MAX_TEXT, warn_only=True)
        if not hours:
            opens, closes = row.values.get("opens_at", ""), row.values.get("closes_at", "")
            days = row.values.get("byday", "")
            if opens or closes:
                hours = " ".join(
                    part for part in (days, f"{_short_time(opens)}–{_short_time(closes)}") if part
                )
        if not hours or _has_control_characters(hours, multiline=False):
            return {}
        if len(hours) > 200:
            self.report.warn(
                table.file, row.number, "description", "Hours over 200 characters were shortened."
            )
            hours = hours[:199].rstrip() + "…"
        return {"hours": hours}

    def read_capacities(self, units: dict[str, Row]) -> dict[str, Capacity]:
        """One count per service: the most recently updated row."""
        table = self.table("service_capacity.csv")
        capacities: dict[str, Capacity] = {}
        if table is None:
            return capacities
        for row in table.rows:
            errors_before = len(self.report.errors)
            service_id = self.check.identifier(table, row, "service_id")
            if "id" in table.columns:
                self.check.identifier(table, row)
            available = self.check.whole_number(table, row, "available", maximum=MAX_BEDS)
            if available is None and row.values.get("available", "") == "":
                self.report.error(table.file, row.number, "available", "This value is required.")
            maximum = self.check.whole_number(table, row, "maximum", maximum=MAX_BEDS)
            updated = self.check.moment(table, row, "updated")
            if len(self.report.errors) > errors_before or service_id is None or available is None:
                continue
            if maximum is not None and available > maximum:
                self.report.warn(
                    table.file,
                    row.number,
                    "available",
                    f"{available} available is more than the maximum of {maximum}; kept as given.",
                )
            self._note_unit(table, row, units)
            capacity = Capacity(row=row, available=available, maximum=maximum, updated=updated)
            earlier = capacities.get(service_id)
            if earlier is not None:
                newer, older = sorted((earlier, capacity), key=_capacity_age, reverse=True)
                self.report.warn(
                    table.file,
                    older.row.number,
                    "service_id",
                    f"Another count of this service (row {newer.row.number}) is more recent; "
                    "this one was not used.",
                )
                capacity = newer
            capacities[service_id] = capacity
        return capacities

    def _note_unit(self, table: Table, row: Row, units: dict[str, Row]) -> None:
        unit_id = row.values.get("unit_id", "")
        if not unit_id:
            return
        unit = units.get(unit_id)
        if unit is None:
            if "units.csv" in self.tables:
                self.report.warn(
                    table.file, row.number, "unit_id", f"No unit {unit_id} in units.csv; counted as beds."
                )
            return
        label = " ".join(unit.values.get(c, "") for c in ("name", "identifier"))
        if not BED_UNIT.search(label):
            self.report.warn(
                table.file,
                row.number,
                "unit_id",
                f"Counted in “{unit.values.get('name', '')[:40]}”, not beds; read as beds.",
            )

    def read_classifications(self, services: dict[str, Any]) -> dict[str, Classification]:
        """Harbor's attributes of each service, through ``taxonomy_terms.csv``."""
        attributes, terms_table = self.table("attributes.csv"), self.table("taxonomy_terms.csv")
        if (attributes is None) != (terms_table is None):
            present = "attributes.csv" if attributes is not None else "taxonomy_terms.csv"
            self.report.warn(
                present,
                None,
                "",
                "attributes.csv and taxonomy_terms.csv are read together; this one was ignored.",
            )
            return {}
        if attributes is None or terms_table is None:
            return {}
        terms: dict[str, tuple[str, str]] = {}

        def on_term(term_id: str, row: Row) -> None:
            code = row.values.get("code", "")
            prefix, _, value = code.partition(":")
            known = TERM_PREFIXES.get(prefix.casefold())
            if known is None:
                return  # somebody else's taxonomy
            if value.casefold() not in known:
                self.report.error(
                    terms_table.file,
                    row.number,
                    "code",
                    f"“{code[:40]}” is not a Harbor term: {prefix} takes {', '.join(known.values())}.",
                )
                return
            terms[term_id] = (prefix.casefold(), known[value.casefold()])

        _index_unique_ids(terms_table, self.check, on_term)
        classifications: dict[str, Classification] = {}
        for row in attributes.rows:
            term = terms.get(row.values.get("taxonomy_term_id", ""))
            service_id = row.values.get("link_id", "")
            entity = row.values.get("link_entity", "service").casefold() or "service"
            if term is None or entity != "service" or service_id not in services:
                continue
            found = classifications.setdefault(service_id, Classification())
            prefix, value = term
            if prefix == "asam":
                found.levels_of_care.append(value)
            elif prefix == "moud":
                found.medications.append(value)
            elif prefix == "payment":
                found.payment_accepted.append(value)
            elif prefix == "gender-served":
                found.gender_served = value
            else:
                found.serves_pregnant_women = True
        return classifications


class _Attached:
    """Rows found by service at location, then by service, then by location: the first wins."""

    def __init__(self) -> None:
        self.by_key: list[dict[str, dict[str, Any]]] = [{}, {}, {}]

    def add(self, *keys: str, values: dict[str, Any]) -> None:
        for index, key in enumerate(keys):
            if key:
                self.by_key[index].setdefault(key, values)

    def find(self, sal_id: str, service_id: str, location_id: str) -> dict[str, Any]:
        for index, key in enumerate((sal_id, service_id, location_id)):
            if key and key in self.by_key[index]:
                return self.by_key[index][key]
        return {}


def _short_time(value: str) -> str:
    try:
        return time.fromisoformat(value).strftime("%H:%M")
    except ValueError:
        return value[:8]


def _capacity_age(capacity: Capacity) -> tuple[bool, datetime]:
    return (capacity.updated is not None, capacity.updated or datetime.min.replace(tzinfo=UTC))


# --- the import -------------------------------------------------------------------------------


def _comparable(name: str, value: Any) -> Any:
    if name == "phone":
        return getattr(value, "as_e164", None) or str(value or "")
    return value


class Plan:
    """The facilities the files describe, matched with the directory's, checked, ready to save."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.planned: list[Planned] = []
        self.new: list[Facility] = []
        self.changed: dict[int, Facility] = {}
        self.changed_fields: set[str] = set()

    def build(self, tables: dict[str, Table]) -> None:
        reader = Reader(tables, self.report)
        organizations = reader.read_organizations()
        services = reader.read_services(organizations)
        locations = reader.read_locations()
        planned = reader.read_service_at_location(services, locations)
        addresses = reader.read_addresses()
        phones = reader.read_attached("phones.csv", reader.read_phone)
        contacts = reader.read_attached("contacts.csv", reader.read_contact)
        schedules = reader.read_attached("schedules.csv", reader.read_schedule)
        units = _index_unique_ids(tables.get("units.csv"), Checker(ImportReport()))
        capacities = reader.read_capacities(units)
        classifications = reader.read_classifications(services)
        sal_ids = {
            (row.values.get("service_id", ""), row.values.get("location_id", "")): row.values.get("id", "")
            for row in tables["service_at_location.csv"].rows
        }
        for item in planned:
            sal_id = sal_ids.get((item.service_id, item.location_id), "")
            address = addresses.get(item.location_id)
            if address is None or not address.get("street_address") or not address.get("town"):
                self.report.warn(
                    tables["service_at_location.csv"].file,
                    item.row.number,
                    "location_id",
                    f"Location {item.location_id} has no full address in addresses.csv; "
                    "add it in the directory.",
                )
            item.values.update(address or {})
            for attached in (phones, contacts, schedules):
                item.values.update(attached.find(sal_id, item.service_id, item.location_id))
            if item.service_id in classifications:
                item.values.update(classifications[item.service_id].values())
        self.planned = planned
        if self.report.errors:
            return
        self._match()
        self._check_names_and_addresses(tables["service_at_location.csv"].file)
        self._apply_capacities(capacities, tables.get("service_capacity.csv"))
        self._diff()

    def _match(self) -> None:
        """Find each service at a location in the directory: by its HSDS ids, else by name and address."""
        service_ids = {p.service_id for p in self.planned}
        existing = {
            (f.hsds_service_id, f.hsds_location_id): f
            for f in Facility.objects.select_for_update().filter(hsds_service_id__in=service_ids)
        }
        unmatched = [p for p in self.planned if (p.service_id, p.location_id) not in existing]
        by_address = {
            (f.name, f.street_address, f.town): f
            for f in Facility.objects.select_for_update().filter(
                hsds_service_id="", name__in={p.values.get("name", "") for p in unmatched}
            )
        }
        for item in self.planned:
            item.facility = existing.get((item.service_id, item.location_id))
            if item.facility is None:
                key = (
                    item.values.get("name", ""),
                    item.values.get("street_address", ""),
                    item.values.get("town", ""),
                )
                item.facility = by_address.pop(key, None)

    def _final(self, item: Planned, name: str) -> Any:
        if name in item.values:
            return item.values[name]
        return getattr(item.facility, name) if item.facility is not None else ""

    def _check_names_and_addresses(self, file: str) -> None:
        """The directory allows one facility of a name at an address; say which rows would break that."""
        seen: dict[tuple[str, str, str], Planned] = {}
        for item in self.planned:
            key = (self._final(item, "name"), self._final(item, "street_address"), self._final(item, "town"))
            if key in seen:
                self.report.error(
                    file,
                    item.row.number,
                    "",
                    f"This would be a second facility named “{key[0]}” at the same address as row "
                    f"{seen[key].row.number}.",
                )
            seen[key] = item
        planned_pks = {item.facility.pk for item in self.planned if item.facility is not None}
        others = Facility.objects.filter(name__in={key[0] for key in seen}).exclude(pk__in=planned_pks)
        for other in others.only("pk", "name", "street_address", "town"):
            item = seen.get((other.name, other.street_address, other.town))
            if item is not None:
                self.report.error(
                    file,
                    item.row.number,
                    "",
                    f"The directory already has another facility named “{other.name}” at "
                    f"{other.street_address or 'no address'}, {other.town or 'no town'} (not from this "
                    "service and location). Rename one of them.",
                )

    def _apply_capacities(self, capacities: dict[str, Capacity], table: Table | None) -> None:
        """Put each count on the facilities of its service, unless the directory's is newer."""
        if table is None:
            return
        by_service: dict[str, list[tuple[Planned | None, Facility | None]]] = {}
        for item in self.planned:
            by_service.setdefault(item.service_id, []).append((item, item.facility))
        elsewhere = [sid for sid in capacities if sid not in by_service]
        planned_pks = {item.facility.pk for item in self.planned if item.facility is not None}
        for facility in (
            Facility.objects.select_for_update()
            .filter(hsds_service_id__in=elsewhere)
            .exclude(pk__in=planned_pks)
        ):
            by_service.setdefault(facility.hsds_service_id, []).append((None, facility))
        for service_id, capacity in capacities.items():
            targets = by_service.get(service_id)
            if not targets:
                self.report.warn(
                    table.file,
                    capacity.row.number,
                    "service_id",
                    f"No service {service_id} in services.csv or in the directory; this count was skipped.",
                )
                continue
            for item, facility in targets:
                current = facility.capacity_updated_at if facility is not None else None
                if current is not None and (capacity.updated is None or capacity.updated < current):
                    self.report.warn(
                        table.file,
                        capacity.row.number,
                        "updated",
                        f"The directory has a more recent count for {facility.name} "
                        f"({timezone.localtime(current):%Y-%m-%d %H:%M}); kept it.",
                    )
                    continue
                values = {"beds_available": capacity.available, "capacity_updated_at": capacity.updated}
                if capacity.maximum is not None:
                    values["beds_maximum"] = capacity.maximum
                if item is not None:
                    item.values.update(values)
                else:
                    self.planned.append(
                        Planned(
                            row=capacity.row,
                            service_id=service_id,
                            location_id="",
                            values=values,
                            facility=facility,
                        )
                    )

    def _diff(self) -> None:
        """Count what is new, what changes and what is already so."""
        for item in self.planned:
            if item.facility is None:
                self.new.append(Facility(**item.values))
                continue
            facility = item.facility
            changed = [
                name
                for name, value in item.values.items()
                if _comparable(name, getattr(facility, name)) != _comparable(name, value)
            ]
            if "beds_available" in changed or "capacity_updated_at" in changed:
                item.values["capacity_updated_by"] = None  # the count is the source's now
                changed.append("capacity_updated_by")
            for name in changed:
                setattr(facility, name, item.values[name])
            if changed:
                self.changed[facility.pk] = facility
                self.changed_fields.update(changed)
        matched = {item.facility.pk for item in self.planned if item.facility is not None}
        self.report.created = len(self.new)
        self.report.updated = len(self.changed)
        self.report.unchanged = len(matched) - len(self.changed)

    def apply(self) -> None:
        Facility.objects.bulk_create(self.new, batch_size=500)
        if self.changed:
            Facility.objects.bulk_update(
                list(self.changed.values()), sorted(self.changed_fields), batch_size=500
            )


def hsds_import(*, files: Mapping[str, bytes], dry_run: bool = False) -> ImportReport:
    """Import HSDS CSV files (name → content) into the directory, all or nothing.

    Every row of every file is checked first; with any error, nothing is written and the report
    lists them all. Otherwise the directory is updated in one transaction. Imports run one at a
    time (a transaction-level advisory lock), and the facilities they touch are locked, so a
    coordinator's bed update at the same moment is neither lost nor overwritten by an older
    count. ``dry_run`` checks and counts without writing.
    """
    report = ImportReport(dry_run=dry_run)
    tables = read_tables(files, report)
    if any(name not in tables for name in REQUIRED_FILES):
        return report
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK_KEY])
            plan = Plan(report)
            plan.build(tables)
            if report.errors or dry_run:
                return report
            plan.apply()
            report.applied = True
    except IntegrityError:
        # A coordinator saved a facility with the same name and address a moment ago.
        report.applied = False
        report.created = report.updated = report.unchanged = 0
        report.error("", None, "", "The directory changed while importing. Nothing was imported; try again.")
    return report


# --- the export -------------------------------------------------------------------------------

EXPORT_COLUMNS: dict[str, list[str]] = {
    "organizations.csv": ["id", "name"],
    "services.csv": [
        "id",
        "organization_id",
        "name",
        "description",
        "url",
        "email",
        "status",
        "minimum_age",
        "maximum_age",
    ],
    "locations.csv": ["id", "organization_id", "location_type", "name"],
    "service_at_location.csv": ["id", "service_id", "location_id"],
    "service_capacity.csv": ["id", "service_id", "unit_id", "available", "maximum", "description", "updated"],
    "units.csv": ["id", "name", "scheme", "identifier", "uri"],
    "addresses.csv": [
        "id",
        "location_id",
        "address_1",
        "address_2",
        "city",
        "state_province",
        "postal_code",
        "country",
        "address_type",
    ],
    "phones.csv": ["id", "service_at_location_id", "service_id", "location_id", "number", "type"],
    "contacts.csv": ["id", "service_at_location_id", "name"],
    "schedules.csv": ["id", "service_at_location_id", "description"],
    "taxonomies.csv": ["id", "name", "description", "uri", "version"],
    "taxonomy_terms.csv": ["id", "code", "name", "description", "taxonomy", "taxonomy_id"],
    "attributes.csv": ["id", "link_id", "taxonomy_term_id", "link_type", "link_entity", "value", "label"],
}


def _harbor_id(*parts: object) -> str:
    return str(uuid.uuid5(HARBOR_NAMESPACE, ":".join(str(p) for p in parts)))


def _facility_terms(facility: Facility) -> list[tuple[str, str]]:
    """(code, label) of each Harbor term of the facility."""
    terms = [(f"asam:{v}", LevelOfCare(v).label) for v in facility.levels_of_care]
    terms += [(f"moud:{v}", Medication(v).label) for v in facility.medications]
    terms += [(f"payment:{v}", Payment(v).label) for v in facility.payment_accepted]
    terms.append((f"gender-served:{facility.gender_served}", GenderServed(facility.gender_served).label))
    if facility.serves_pregnant_women:
        terms.append(("population:pregnant-women", "Serves pregnant women"))
    return terms


def hsds_export() -> dict[str, bytes]:
    """The whole directory as HSDS 3 CSV files (name → UTF-8 content), ready to import anywhere.

    Facilities keep the HSDS ids they were imported with; the others get stable ids derived
    from their primary key. A service shared by several facilities is written once (from the
    first), with one count. Harbor's levels of care, medications, payment and people served are
    written as attributes of the service (see the module docstring).
    """
    rows: dict[str, list[list[str]]] = {name: [] for name in EXPORT_COLUMNS}
    seen: dict[str, set[str]] = {"organizations.csv": set(), "services.csv": set(), "locations.csv": set()}
    unit_id = _harbor_id("unit", "bed")
    taxonomy_id = _harbor_id("taxonomy")
    rows["units.csv"].append([unit_id, "Bed", "Harbor", "bed", ""])
    rows["taxonomies.csv"].append(
        [taxonomy_id, TAXONOMY_NAME, "Levels of care (ASAM), medications for opioid use disorder, "
         "payment accepted and people served, as Harbor records them.", "", "1"]
    )  # fmt: skip
    terms_written: set[str] = set()

    for facility in Facility.objects.order_by("pk"):
        service_id = facility.hsds_service_id or _harbor_id("facility", facility.pk, "service")
        location_id = facility.hsds_location_id or _harbor_id("facility", facility.pk, "location")
        sal_id = _harbor_id("service_at_location", service_id, location_id)
        organization_id = ""
        if facility.organization_name:
            organization_id = facility.hsds_organization_id or _harbor_id(
                "organization", facility.organization_name
            )
            if organization_id not in seen["organizations.csv"]:
                seen["organizations.csv"].add(organization_id)
                rows["organizations.csv"].append([organization_id, facility.organization_name])
        if service_id not in seen["services.csv"]:
            seen["services.csv"].add(service_id)
            rows["services.csv"].append(
                [
                    service_id,
                    organization_id,
                    facility.name,
                    facility.description,
                    facility.website,
                    facility.email,
                    "active" if facility.is_active else "inactive",
                    str(facility.minimum_age),
                    "" if facility.maximum_age is None else str(facility.maximum_age),
                ]
            )
            if facility.beds_available is not None:
                rows["service_capacity.csv"].append(
                    [
                        _harbor_id("capacity", service_id),
                        service_id,
                        unit_id,
                        str(facility.beds_available),
                        "" if facility.beds_maximum is None else str(facility.beds_maximum),
                        "Beds available",
                        facility.capacity_updated_at.isoformat() if facility.capacity_updated_at else "",
                    ]
                )
            for code, label in _facility_terms(facility):
                term_id = _harbor_id("term", code)
                if term_id not in terms_written:
                    terms_written.add(term_id)
                    rows["taxonomy_terms.csv"].append([term_id, code, label, "", TAXONOMY_NAME, taxonomy_id])
                rows["attributes.csv"].append(
                    [_harbor_id("attribute", service_id, code), service_id, term_id, "", "service", "", label]
                )
        if location_id not in seen["locations.csv"]:
            seen["locations.csv"].add(location_id)
            rows["locations.csv"].append([location_id, organization_id, "physical", facility.name])
            if facility.street_address or facility.town:
                rows["addresses.csv"].append(
                    [
                        _harbor_id("address", location_id),
                        location_id,
                        facility.street_address,
                        "",
                        facility.town,
                        facility.state,
                        facility.postal_code,
                        "US",
                        "physical",
                    ]
                )
        rows["service_at_location.csv"].append([sal_id, service_id, location_id])
        if facility.phone:
            rows["phones.csv"].append(
                [_harbor_id("phone", sal_id), sal_id, "", "", facility.phone.as_e164, "voice"]
            )
        if facility.contact_name:
            rows["contacts.csv"].append([_harbor_id("contact", sal_id), sal_id, facility.contact_name])
        if facility.hours:
            rows["schedules.csv"].append([_harbor_id("schedule", sal_id), sal_id, facility.hours])

    files = {}
    for name, columns in EXPORT_COLUMNS.items():
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(rows[name])
        files[name] = out.getvalue().encode("utf-8")
    return files


ATTRIBUTION = (
    "Exported from Harbor's treatment directory as Open Referral HSDS 3 tabular data.\n"
    "Facilities imported from other sources remain under their sources' terms.\n"
)


def hsds_export_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in hsds_export().items():
            archive.writestr(name, content)
        archive.writestr("README.txt", ATTRIBUTION)
    return buffer.getvalue()
