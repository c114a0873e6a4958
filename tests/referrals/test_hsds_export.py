"""Exporting the directory as HSDS 3 files, and importing the export: it changes nothing here and
rebuilds the same directory elsewhere."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from referrals.directory.hsds import EXPORT_COLUMNS, hsds_export, hsds_import
from referrals.models import Facility, GenderServed, LevelOfCare, Medication, Payment
from tests.factories import FacilityFactory

from .directory_helpers import example_files, two_facility_files

pytestmark = pytest.mark.django_db

# What an export carries: everything but Harbor's own keys and who counted the beds. (A facility
# entered by hand is given HSDS ids by the export; the others keep theirs.)
EXPORTED = [
    f.name
    for f in Facility._meta.concrete_fields
    if f.name
    not in {
        "id",
        "created_at",
        "capacity_updated_by",
        "hsds_organization_id",
        "hsds_service_id",
        "hsds_location_id",
    }
]


def _rows(files: dict[str, bytes], name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(files[name].decode("utf-8"))))


def _values() -> list[dict]:
    return [
        {**row, "phone": str(row["phone"])} for row in Facility.objects.order_by("name").values(*EXPORTED)
    ]


@pytest.fixture
def directory(coordinator):
    """Imported facilities, and one entered by hand with every detail and a fresh count."""
    hsds_import(files=example_files())
    hsds_import(files=two_facility_files())
    return FacilityFactory(
        name="Lighthouse Women's Program",
        organization_name="Lighthouse Inc.",
        description="Residential program.\nFamily visits on Sundays.",
        street_address="5 Rogers Street",
        town="Gloucester",
        postal_code="01930",
        phone="+19785550123",
        email="beds@lighthouse.example.org",
        website="https://lighthouse.example.org/",
        contact_name="Admissions desk",
        hours="24/7",
        levels_of_care=[LevelOfCare.CLINICALLY_MANAGED_HIGH, LevelOfCare.WM_32],
        medications=[Medication.METHADONE, Medication.NALTREXONE],
        payment_accepted=[Payment.MEDICAID, Payment.FREE],
        gender_served=GenderServed.WOMEN,
        minimum_age=16,
        maximum_age=65,
        serves_pregnant_women=True,
        beds_available=4,
        beds_maximum=30,
        capacity_updated_at=timezone.now() - timedelta(hours=2),
        capacity_updated_by=coordinator,
    )


def test_the_export_writes_the_hsds_tables_with_harbors_terms(directory):
    files = hsds_export()

    assert set(files) == set(EXPORT_COLUMNS)
    for name in ("organizations.csv", "locations.csv", "services.csv", "service_at_location.csv"):
        assert list(_rows(files, name)[0]) == EXPORT_COLUMNS[name]
    assert len(_rows(files, "service_at_location.csv")) == 4
    services = {row["name"]: row for row in _rows(files, "services.csv")}
    assert services["Harbor Light Residential"]["status"] == "inactive"
    lighthouse = services["Lighthouse Women's Program"]
    capacity = next(r for r in _rows(files, "service_capacity.csv") if r["service_id"] == lighthouse["id"])
    assert (capacity["available"], capacity["maximum"]) == ("4", "30")
    terms = {row["id"]: row["code"] for row in _rows(files, "taxonomy_terms.csv")}
    codes = {
        terms[a["taxonomy_term_id"]]
        for a in _rows(files, "attributes.csv")
        if a["link_id"] == lighthouse["id"]
    }
    assert codes == {
        "asam:3.5",
        "asam:3.2-WM",
        "moud:methadone",
        "moud:naltrexone",
        "payment:medicaid",
        "payment:free",
        "gender-served:women",
        "population:pregnant-women",
    }
    # Imported facilities keep the ids they came with.
    assert "ac148810-d857-441c-9679-408f346de14b" in services["Community Counselling"]["id"]


def test_importing_the_export_changes_nothing(directory):
    before = _values()

    first = hsds_import(files=hsds_export())
    second = hsds_import(files=hsds_export())

    assert first.ok and second.ok, [str(p) for p in first.errors + second.errors]
    # The facility entered by hand is linked to its exported ids the first time: nothing else.
    assert (first.created, first.updated, first.unchanged) == (0, 1, 3)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 4)
    assert _values() == before
    assert Facility.objects.filter(hsds_service_id__in=["svc-1", "svc-2"]).count() == 2
    directory.refresh_from_db()
    assert directory.capacity_updated_by is not None  # the coordinator's count is still theirs


def test_the_export_rebuilds_the_same_directory_elsewhere(directory):
    before = _values()
    files = hsds_export()
    Facility.objects.all().delete()

    report = hsds_import(files=files)

    assert report.ok and report.created == 4
    assert _values() == before


def test_the_export_page_downloads_a_zip_of_the_files(coordinator_client, directory):
    response = coordinator_client.get(reverse("referrals:hsds_export"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="harbor-directory-hsds-')
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert set(EXPORT_COLUMNS) <= set(names)
