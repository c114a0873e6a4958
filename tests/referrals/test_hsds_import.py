"""Importing Open Referral HSDS 3 files: the published examples, mapping, re-import, and every
kind of bad file refused whole, with each refused row named and the directory left unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from referrals.directory import hsds
from referrals.directory.hsds import hsds_import
from referrals.models import Facility, GenderServed, LevelOfCare, Medication, Payment
from tests.factories import FacilityFactory

from .directory_helpers import (
    EXAMPLE_LOCATION,
    EXAMPLE_ORGANIZATION,
    EXAMPLE_SERVICE,
    csv_bytes,
    directory_snapshot,
    example_files,
    two_facility_files,
    zipped,
)

pytestmark = pytest.mark.django_db


def _messages(problems) -> list[str]:
    return [str(problem) for problem in problems]


# --- the Open Referral example files ----------------------------------------------------------


def test_the_hsds_example_files_import():
    report = hsds_import(files=example_files())

    assert report.ok, _messages(report.errors)
    assert report.applied
    assert (report.created, report.updated, report.unchanged) == (1, 0, 0)
    facility = Facility.objects.get()
    assert facility.name == "Community Counselling"
    assert facility.organization_name == "Example Organization Inc."
    assert (facility.hsds_service_id, facility.hsds_location_id, facility.hsds_organization_id) == (
        EXAMPLE_SERVICE,
        EXAMPLE_LOCATION,
        EXAMPLE_ORGANIZATION,
    )
    assert facility.description.startswith("Counselling Services provided by trained professionals.")
    assert facility.website == "http://example.com/counselling"
    assert facility.email == "email@example.com"
    assert facility.is_active
    assert (facility.minimum_age, facility.maximum_age) == (12, 100)
    assert facility.street_address == "1-30 Main Street, MyVillage"
    assert facility.town == "MyCity"
    assert facility.postal_code == "ABC 1234"
    assert facility.phone.as_e164 == "+441234234567"
    assert facility.contact_name == "Ann Persona"
    assert facility.hours.startswith("The service is available from 10 am to 6pm weekdays.")
    # The example has no Harbor terms: coordinators fill these in.
    assert facility.levels_of_care == [] and facility.payment_accepted == [] and facility.medications == []
    # Its only capacity row counts a service that is not in services.csv.
    assert facility.beds_available is None and facility.capacity_updated_at is None


def test_the_example_files_oddities_are_reported_as_warnings():
    report = hsds_import(files=example_files())

    warnings = _messages(report.warnings)
    assert any(
        w.startswith("addresses.csv, row 2, column state_province: “MyState” is not a US state")
        for w in warnings
    )
    assert any(
        w.startswith(
            "service_capacity.csv, row 2, column available: 12 available is more than the maximum of 10"
        )
        for w in warnings
    )
    assert any(
        w.startswith(
            "service_capacity.csv, row 2, column unit_id: No unit 187a37a2-7b40-11ef-9790-dbf7623d4407"
        )
        for w in warnings
    )
    assert any(
        w.startswith("service_capacity.csv, row 2, column service_id: No service f75b808e-7bdb-11ef-afaa")
        and "this count was skipped" in w
        for w in warnings
    )
    assert "accessibility.csv" in report.ignored_files and "funding.csv" in report.ignored_files


def test_importing_the_example_files_twice_updates_instead_of_duplicating():
    hsds_import(files=example_files())

    again = hsds_import(files=example_files())

    assert again.ok
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert Facility.objects.count() == 1


def test_a_changed_file_updates_the_facility_it_describes():
    hsds_import(files=example_files())
    files = example_files()
    files["services.csv"] = files["services.csv"].replace(
        b"Community Counselling", b"Community Recovery Counselling"
    )

    report = hsds_import(files=files)

    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    assert Facility.objects.get().name == "Community Recovery Counselling"


# --- mapping ----------------------------------------------------------------------------------


def test_harbor_terms_capacity_addresses_and_status_are_mapped():
    report = hsds_import(files=two_facility_files())

    assert report.ok, _messages(report.errors)
    assert report.created == 2
    detox = Facility.objects.get(hsds_service_id="svc-1")
    assert detox.organization_name == "North Shore Recovery Inc."
    assert detox.levels_of_care == [LevelOfCare.WM_37]
    assert detox.payment_accepted == [Payment.MEDICAID]
    assert detox.medications == [Medication.BUPRENORPHINE]
    assert detox.gender_served == GenderServed.MEN
    assert not detox.serves_pregnant_women
    assert (detox.street_address, detox.town, detox.state, detox.postal_code) == (
        "12 Washington Street",
        "Gloucester",
        "MA",
        "01930",
    )
    assert detox.phone.as_e164 == "+19782830101"
    assert (detox.beds_available, detox.beds_maximum) == (3, 20)
    assert detox.capacity_updated_at == datetime(2026, 1, 10, 13, 0, tzinfo=UTC)
    assert detox.capacity_updated_by is None
    residential = Facility.objects.get(hsds_service_id="svc-2")
    assert not residential.is_active
    assert residential.levels_of_care == []  # no Harbor terms for this service
    assert residential.minimum_age == 18  # a blank minimum age keeps the directory's default


def test_a_blank_cell_or_a_service_without_harbor_terms_keeps_what_coordinators_entered():
    hsds_import(files=two_facility_files())
    residential = Facility.objects.get(hsds_service_id="svc-2")
    residential.levels_of_care = [LevelOfCare.CLINICALLY_MANAGED_HIGH]
    residential.description = "Entered by a coordinator."
    residential.save()

    report = hsds_import(files=two_facility_files())

    assert report.ok and report.updated == 0
    residential.refresh_from_db()
    assert residential.levels_of_care == [LevelOfCare.CLINICALLY_MANAGED_HIGH]
    assert residential.description == "Entered by a coordinator."


def test_a_count_older_than_the_directorys_is_not_used(coordinator):
    hsds_import(files=two_facility_files())
    detox = Facility.objects.get(hsds_service_id="svc-1")
    counted_by_phone = timezone.now() - timedelta(hours=1)
    Facility.objects.filter(pk=detox.pk).update(
        beds_available=0, capacity_updated_at=counted_by_phone, capacity_updated_by=coordinator
    )

    report = hsds_import(files=two_facility_files())

    assert report.ok
    assert any("more recent count for Cape Ann Detox" in w for w in _messages(report.warnings))
    detox.refresh_from_db()
    assert (detox.beds_available, detox.capacity_updated_at, detox.capacity_updated_by) == (
        0,
        counted_by_phone,
        coordinator,
    )


def test_a_newer_count_replaces_the_directorys_and_clears_who_counted(coordinator):
    hsds_import(files=two_facility_files())
    Facility.objects.filter(hsds_service_id="svc-1").update(
        capacity_updated_at=datetime(2026, 1, 1, tzinfo=UTC), capacity_updated_by=coordinator
    )

    hsds_import(files=two_facility_files())

    detox = Facility.objects.get(hsds_service_id="svc-1")
    assert detox.capacity_updated_at == datetime(2026, 1, 10, 13, 0, tzinfo=UTC)
    assert detox.capacity_updated_by is None


def test_a_count_for_a_service_already_in_the_directory_applies_to_it():
    hsds_import(files=two_facility_files())
    files = two_facility_files(
        **{
            "service_capacity.csv": csv_bytes(
                ["service_id", "available", "updated"], ["svc-2", "7", "2026-01-11T09:00:00Z"]
            )
        }
    )
    files["services.csv"] = csv_bytes(["id", "name"], ["svc-1", "Cape Ann Detox"])
    files["service_at_location.csv"] = csv_bytes(
        ["id", "service_id", "location_id"], ["sal-1", "svc-1", "loc-1"]
    )

    report = hsds_import(files=files)

    assert report.ok, _messages(report.errors)
    assert Facility.objects.get(hsds_service_id="svc-2").beds_available == 7


def test_a_facility_entered_by_hand_is_linked_not_copied():
    by_hand = FacilityFactory(name="Cape Ann Detox", street_address="12 Washington Street", town="Gloucester")

    report = hsds_import(files=two_facility_files())

    assert report.ok
    assert (report.created, report.updated) == (1, 1)
    by_hand.refresh_from_db()
    assert (by_hand.hsds_service_id, by_hand.hsds_location_id) == ("svc-1", "loc-1")
    assert Facility.objects.count() == 2


def test_a_dry_run_counts_and_changes_nothing():
    report = hsds_import(files=two_facility_files(), dry_run=True)

    assert report.ok and not report.applied
    assert report.created == 2
    assert report.summary().startswith("Would create 2")
    assert not Facility.objects.exists()


def test_singular_file_names_are_read():
    files = {name.replace("services", "service"): content for name, content in two_facility_files().items()}

    report = hsds_import(files=files)

    assert report.ok, _messages(report.errors)
    assert report.created == 2


def test_the_most_recent_of_several_counts_of_a_service_is_used():
    capacity = csv_bytes(
        ["id", "service_id", "available", "updated"],
        ["cap-1", "svc-1", "3", "2026-01-10T08:00:00-05:00"],
        ["cap-2", "svc-1", "5", "2026-01-12T08:00:00-05:00"],
    )

    report = hsds_import(files=two_facility_files(**{"service_capacity.csv": capacity}))

    assert Facility.objects.get(hsds_service_id="svc-1").beds_available == 5
    assert any(
        w.startswith("service_capacity.csv, row 2, column service_id") for w in _messages(report.warnings)
    )


# --- refused files: everything listed, nothing changed ----------------------------------------

NON_UTF8 = "id,name\nsvc-1,Caf\u00e9 Recovery\n".encode("latin-1")
JUNK = bytes(range(256)) * 4

BAD_FILES = {
    "missing-required-file": (
        {"service_at_location.csv": None},
        ("service_at_location.csv", None, "", "This file is required and was not sent."),
    ),
    "bad-number": (
        {"service_capacity.csv": csv_bytes(["service_id", "available"], ["svc-1", "three"])},
        ("service_capacity.csv", 2, "available", "“three” is not a whole number ≥ 0."),
    ),
    "negative-number": (
        {"service_capacity.csv": csv_bytes(["service_id", "available", "maximum"], ["svc-1", "2", "-4"])},
        ("service_capacity.csv", 2, "maximum", "“-4” is not a whole number ≥ 0."),
    ),
    "implausible-number": (
        {"service_capacity.csv": csv_bytes(["service_id", "available"], ["svc-1", "99999999"])},
        ("service_capacity.csv", 2, "available", "99999999 is more than 10000: a typo?"),
    ),
    "blank-available": (
        {"service_capacity.csv": csv_bytes(["service_id", "available"], ["svc-1", ""])},
        ("service_capacity.csv", 2, "available", "This value is required."),
    ),
    "unknown-service": (
        {
            "service_at_location.csv": csv_bytes(
                ["id", "service_id", "location_id"], ["sal-1", "svc-1", "loc-1"], ["sal-2", "svc-9", "loc-2"]
            )
        },
        ("service_at_location.csv", 3, "service_id", "No service svc-9 in services.csv."),
    ),
    "unknown-location": (
        {"service_at_location.csv": csv_bytes(["service_id", "location_id"], ["svc-1", "loc-7"])},
        ("service_at_location.csv", 2, "location_id", "No location loc-7 in locations.csv."),
    ),
    "unknown-organization": (
        {
            "services.csv": csv_bytes(
                ["id", "organization_id", "name"], ["svc-1", "org-2", "A"], ["svc-2", "", "B"]
            )
        },
        ("services.csv", 2, "organization_id", "No organization org-2 in organizations.csv."),
    ),
    "missing-id-column": (
        {"services.csv": csv_bytes(["name"], ["Cape Ann Detox"])},
        ("services.csv", 1, "id", "This required column is missing from the header."),
    ),
    "blank-id": (
        {"locations.csv": csv_bytes(["id", "name"], ["loc-1", "Main"], ["", "Annex"])},
        ("locations.csv", 3, "id", "This value is required."),
    ),
    "duplicate-id": (
        {"locations.csv": csv_bytes(["id"], ["loc-1"], ["loc-2"], ["loc-1"])},
        ("locations.csv", 4, "id", "The id loc-1 is already used on row 2."),
    ),
    "same-service-twice-at-a-location": (
        {
            "service_at_location.csv": csv_bytes(
                ["service_id", "location_id"], ["svc-1", "loc-1"], ["svc-2", "loc-2"], ["svc-1", "loc-1"]
            )
        },
        ("service_at_location.csv", 4, "", "This service is already at this location on row 2."),
    ),
    "blank-name": (
        {"services.csv": csv_bytes(["id", "name"], ["svc-1", "Detox"], ["svc-2", "  "])},
        ("services.csv", 3, "name", "This value is required."),
    ),
    "name-too-long": (
        {"services.csv": csv_bytes(["id", "name"], ["svc-1", "D" * 201], ["svc-2", "B"])},
        ("services.csv", 2, "name", "Too long: at most 200 characters (it has 201)."),
    ),
    "control-characters": (
        {"services.csv": csv_bytes(["id", "name"], ["svc-1", "Detox\x1b[31m"], ["svc-2", "B"])},
        ("services.csv", 2, "name", "Remove the invisible control characters from this text."),
    ),
    "unknown-status": (
        {
            "services.csv": csv_bytes(
                ["id", "name", "status"], ["svc-1", "A", "open"], ["svc-2", "B", "active"]
            )
        },
        (
            "services.csv",
            2,
            "status",
            "“open” is not an HSDS status (active, inactive, defunct, temporarily closed).",
        ),
    ),
    "maximum-age-below-minimum": (
        {
            "services.csv": csv_bytes(
                ["id", "name", "minimum_age", "maximum_age"],
                ["svc-1", "A", "30", "20"],
                ["svc-2", "B", "", ""],
            )
        },
        ("services.csv", 2, "maximum_age", "The maximum age 20 is below the minimum 30."),
    ),
    "bad-date": (
        {
            "service_capacity.csv": csv_bytes(
                ["service_id", "available", "updated"], ["svc-1", "2", "last Tuesday"]
            )
        },
        (
            "service_capacity.csv",
            2,
            "updated",
            "“last Tuesday” is not a date and time (ISO 8601, like 2024-09-25T14:23:06+01:00).",
        ),
    ),
    "date-in-the-future": (
        {
            "service_capacity.csv": csv_bytes(
                ["service_id", "available", "updated"], ["svc-1", "2", "2999-01-01"]
            )
        },
        ("service_capacity.csv", 2, "updated", "2999-01-01 is in the future."),
    ),
    "date-long-ago": (
        {
            "service_capacity.csv": csv_bytes(
                ["service_id", "available", "updated"], ["svc-1", "2", "0001-01-01T00:00+05:00"]
            )
        },
        ("service_capacity.csv", 2, "updated", "0001-01-01T00:00+05:00 is before 2000: a typo?"),
    ),
    "unknown-harbor-term": (
        {"taxonomy_terms.csv": csv_bytes(["id", "code"], ["t-1", "asam:9"])},
        ("taxonomy_terms.csv", 2, "code", "“asam:9” is not a Harbor term: asam takes 1, 2.1, 2.5"),
    ),
    "truncated-row": (
        {"locations.csv": b"id,name\nloc-1,Main\nloc-2"},
        (
            "locations.csv",
            3,
            "",
            "This row has 1 value but the header names 2 columns",
        ),
    ),
    "unterminated-quote": (
        {"locations.csv": b'id,name\nloc-1,"Main\nloc-2,Annex\n'},
        ("locations.csv", 2, "", "The CSV cannot be read from this row on: unexpected end of data"),
    ),
    "non-utf-8": (
        {"services.csv": NON_UTF8},
        (
            "services.csv",
            None,
            "",
            "This file is not UTF-8 text (byte 0xe9 on row 2). Save it as “CSV UTF-8”.",
        ),
    ),
    "binary-junk": (
        {"services.csv": JUNK},
        ("services.csv", None, "", "This is not a CSV text file (it holds binary data)."),
    ),
    "empty-file": (
        {"locations.csv": b""},
        ("locations.csv", None, "", "The file is empty: the first row must name the columns."),
    ),
    "header-named-twice": (
        {"locations.csv": b"id,id\nloc-1,loc-1\n"},
        ("locations.csv", 1, "id", "This column is named twice in the header."),
    ),
}


@pytest.mark.parametrize(("replace", "expected"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_file_is_refused_whole_with_the_row_and_column_named(replace, expected):
    hsds_import(files=example_files())  # something in the directory that must stay as it is
    before = directory_snapshot()
    files = two_facility_files()
    for name, content in replace.items():
        if content is None:
            del files[name]
        else:
            files[name] = content

    report = hsds_import(files=files)

    assert not report.ok and not report.applied
    file, row, column, message = expected
    assert any(
        (p.file, p.row, p.column) == (file, row, column) and p.message.startswith(message)
        for p in report.errors
    ), _messages(report.errors)
    assert report.summary().endswith("Nothing was changed.")
    assert directory_snapshot() == before


def test_every_problem_in_every_file_is_reported_at_once():
    files = two_facility_files(
        **{
            "locations.csv": csv_bytes(["id"], ["loc-1"], ["loc-1"]),
            "service_capacity.csv": csv_bytes(["service_id", "available"], ["svc-1", "x"], ["svc-2", "-1"]),
            "services.csv": csv_bytes(
                ["id", "name", "status"], ["svc-1", "A", "shut"], ["svc-2", "", "active"]
            ),
        }
    )

    report = hsds_import(files=files)

    assert sorted((p.file, p.row, p.column) for p in report.errors) == [
        ("locations.csv", 3, "id"),
        ("service_at_location.csv", 3, "location_id"),
        ("service_capacity.csv", 2, "available"),
        ("service_capacity.csv", 3, "available"),
        ("services.csv", 2, "status"),
        ("services.csv", 3, "name"),
    ]
    assert not Facility.objects.exists()


def test_a_second_facility_with_the_same_name_and_address_is_refused():
    FacilityFactory(
        name="Cape Ann Detox",
        street_address="12 Washington Street",
        town="Gloucester",
        hsds_service_id="elsewhere",
        hsds_location_id="x",
    )
    before = directory_snapshot()

    report = hsds_import(files=two_facility_files())

    assert [(p.file, p.row) for p in report.errors] == [("service_at_location.csv", 2)]
    assert "already has another facility named “Cape Ann Detox”" in report.errors[0].message
    assert directory_snapshot() == before


def test_two_rows_that_would_make_the_same_facility_are_refused():
    files = two_facility_files(
        **{
            "services.csv": csv_bytes(["id", "name"], ["svc-1", "Same"], ["svc-2", "Same"]),
            "addresses.csv": csv_bytes(
                ["location_id", "address_1", "city"],
                ["loc-1", "1 Main St", "Salem"],
                ["loc-2", "1 Main St", "Salem"],
            ),
        }
    )

    report = hsds_import(files=files)

    assert [(p.file, p.row) for p in report.errors] == [("service_at_location.csv", 3)]
    assert not Facility.objects.exists()


# --- warnings: imported, the value left out ---------------------------------------------------


def test_unreadable_contact_details_are_left_out_with_a_warning():
    files = two_facility_files(
        **{
            "phones.csv": csv_bytes(["service_at_location_id", "number"], ["sal-1", "call the front desk"]),
            "services.csv": csv_bytes(
                ["id", "name", "url", "email"],
                ["svc-1", "A", "not a url", "nobody at all"],
                ["svc-2", "B", "", ""],
            ),
        }
    )

    report = hsds_import(files=files)

    assert report.ok
    assert sorted((p.file, p.row, p.column) for p in report.warnings) == [
        ("phones.csv", 2, "number"),
        ("services.csv", 2, "email"),
        ("services.csv", 2, "url"),
    ]
    facility = Facility.objects.get(hsds_service_id="svc-1")
    assert (str(facility.phone), facility.website, facility.email) == ("", "", "")


def test_a_location_without_an_address_is_imported_with_a_warning():
    addresses = csv_bytes(
        ["location_id", "address_1", "city"], ["loc-1", "12 Washington Street", "Gloucester"]
    )

    report = hsds_import(files=two_facility_files(**{"addresses.csv": addresses}))

    assert report.ok
    assert [(p.file, p.row, p.column) for p in report.warnings] == [
        ("service_at_location.csv", 3, "location_id")
    ]
    assert Facility.objects.get(hsds_service_id="svc-2").street_address == ""


# --- reading zips and folders -----------------------------------------------------------------


def test_a_zip_is_read_in_any_folder_and_other_files_are_ignored():
    files = hsds.files_from_zip(zipped({**two_facility_files(), "README.md": b"hi"}, folder="export/"))

    assert set(files) == set(two_facility_files())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04 not really a zip", "This is not a zip file that can be opened."),
        (b"", "This is not a zip file that can be opened."),
        (zipped({"notes.txt": b"no CSV here"}), "The zip holds no CSV files."),
    ],
)
def test_a_bad_zip_is_refused_with_a_clear_message(content, message):
    with pytest.raises(hsds.HsdsFilesError, match=message):
        hsds.files_from_zip(content)


def test_a_zip_that_unpacks_too_large_is_refused(monkeypatch):
    monkeypatch.setattr(hsds, "MAX_UNPACKED_BYTES", 10_000)
    bomb = zipped({"services.csv": b"id,name\n" + b"x,y\n" * 10_000})

    with pytest.raises(hsds.HsdsFilesError, match="more than 0 MB unpacked"):
        hsds.files_from_zip(bomb)


def test_the_same_file_twice_is_refused():
    with pytest.raises(hsds.HsdsFilesError, match=r"service.csv is there twice \(as services.csv too\)"):
        hsds.files_from_uploads([("services.csv", b"id,name\n"), ("service.csv", b"id,name\n")])


def test_a_spreadsheets_csv_is_read_byte_order_mark_crlf_and_capitalised_headers_included():
    services = "\ufeffID, Name ,Status\r\nsvc-1,Cape Ann Detox,Active\r\nsvc-2,Harbor Light,inactive\r\n"

    report = hsds_import(files=two_facility_files(**{"services.csv": services.encode("utf-8")}))

    assert report.ok, _messages(report.errors)
    assert Facility.objects.get(hsds_service_id="svc-1").name == "Cape Ann Detox"
