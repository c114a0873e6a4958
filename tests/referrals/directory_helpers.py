"""HSDS files for the directory's tests: the Open Referral examples, and small files built here."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from referrals.models import Facility

# The HSDS 3.1 example files (CC BY-SA 4.0, Open Referral: see ATTRIBUTION.md there).
EXAMPLE_FOLDER = Path(__file__).resolve().parent.parent / "fixtures" / "hsds"
EXAMPLE_SERVICE = "ac148810-d857-441c-9679-408f346de14b"
EXAMPLE_LOCATION = "3a19ff88-4620-4d17-9830-ac1d859eb5d5"
EXAMPLE_ORGANIZATION = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"


def example_files() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(EXAMPLE_FOLDER.glob("*.csv"))}


def csv_bytes(header: list[str], *rows: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def two_facility_files(**replace: bytes) -> dict[str, bytes]:
    """Two detox programs of one organization, with addresses, phones, beds and Harbor terms."""
    files = {
        "organizations.csv": csv_bytes(["id", "name"], ["org-1", "North Shore Recovery Inc."]),
        "services.csv": csv_bytes(
            ["id", "organization_id", "name", "description", "url", "email", "status", "minimum_age"],
            ["svc-1", "org-1", "Cape Ann Detox", "Medically monitored withdrawal.", "https://capeann.example.org",
             "intake@capeann.example.org", "active", "18"],
            ["svc-2", "org-1", "Harbor Light Residential", "", "", "", "inactive", ""],
        ),
        "locations.csv": csv_bytes(["id", "name"], ["loc-1", "Main campus"], ["loc-2", "Annex"]),
        "service_at_location.csv": csv_bytes(
            ["id", "service_id", "location_id"], ["sal-1", "svc-1", "loc-1"], ["sal-2", "svc-2", "loc-2"]
        ),
        "addresses.csv": csv_bytes(
            ["id", "location_id", "address_1", "city", "state_province", "postal_code", "address_type"],
            ["adr-1", "loc-1", "12 Washington Street", "Gloucester", "Massachusetts", "01930", "physical"],
            ["adr-2", "loc-2", "40 Pine Street", "Beverly", "MA", "01915", "physical"],
        ),
        "phones.csv": csv_bytes(
            ["id", "service_at_location_id", "number"], ["ph-1", "sal-1", "(978) 283-0101"]
        ),
        "service_capacity.csv": csv_bytes(
            ["id", "service_id", "available", "maximum", "updated"],
            ["cap-1", "svc-1", "3", "20", "2026-01-10T08:00:00-05:00"],
        ),
        "taxonomy_terms.csv": csv_bytes(
            ["id", "code", "name"],
            ["t-1", "asam:3.7-WM", "Detox"],
            ["t-2", "payment:medicaid", "MassHealth"],
            ["t-3", "moud:buprenorphine", "Buprenorphine"],
            ["t-4", "gender-served:men", "Men"],
            ["t-5", "other:thing", "Not Harbor's"],
        ),
        "attributes.csv": csv_bytes(
            ["id", "link_id", "taxonomy_term_id", "link_entity"],
            ["a-1", "svc-1", "t-1", "service"],
            ["a-2", "svc-1", "t-2", "service"],
            ["a-3", "svc-1", "t-3", "service"],
            ["a-4", "svc-1", "t-4", "service"],
            ["a-5", "svc-1", "t-5", "service"],
        ),
    }  # fmt: skip
    files.update(replace)
    return files


def zipped(files: dict[str, bytes], folder: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(folder + name, content)
    return buffer.getvalue()


def directory_snapshot() -> list[tuple]:
    """Every facility's stored values, to show that a refused import changed nothing."""
    return list(Facility.objects.order_by("pk").values_list())
