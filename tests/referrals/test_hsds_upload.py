"""The coordinators' HSDS upload page: a zip or CSV files in, a report out; never a 500."""

from __future__ import annotations

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from referrals.directory import hsds
from referrals.models import Facility

from .directory_helpers import csv_bytes, directory_snapshot, example_files, two_facility_files, zipped

pytestmark = pytest.mark.django_db
URL = reverse("referrals:hsds_import")


def _upload(client, *files: tuple[str, bytes], **extra):
    uploads = [SimpleUploadedFile(name, content) for name, content in files]
    return client.post(URL, {"files": uploads, **extra})


def test_the_page_explains_what_to_send(coordinator_client):
    response = coordinator_client.get(URL)

    assert response.status_code == 200
    assert "service_at_location.csv" in response.text
    assert 'enctype="multipart/form-data"' in response.text


def test_a_zip_of_the_example_files_is_imported(coordinator_client):
    response = _upload(coordinator_client, ("hsds.zip", zipped(example_files(), folder="csv/")))

    assert response.status_code == 200
    assert "Imported." in response.text
    assert "Created 1, updated 0, unchanged 0" in response.text
    assert "is not a US state" in response.text  # the warnings are listed
    assert Facility.objects.get().name == "Community Counselling"


def test_the_same_zip_again_updates_instead_of_duplicating(coordinator_client):
    _upload(coordinator_client, ("hsds.zip", zipped(two_facility_files())))

    response = _upload(coordinator_client, ("hsds.zip", zipped(two_facility_files())))

    assert "Created 0, updated 0, unchanged 2" in response.text
    assert Facility.objects.count() == 2


def test_csv_files_can_be_sent_without_a_zip(coordinator_client):
    response = _upload(coordinator_client, *two_facility_files().items())

    assert response.status_code == 200
    assert "Created 2" in response.text


def test_a_dry_run_only_checks(coordinator_client):
    response = _upload(coordinator_client, ("hsds.zip", zipped(two_facility_files())), dry_run="on")

    assert "The files are valid." in response.text and "Would create 2" in response.text
    assert not Facility.objects.exists()


def test_refused_rows_are_listed_and_nothing_changes(coordinator_client):
    _upload(coordinator_client, ("hsds.zip", zipped(example_files())))
    before = directory_snapshot()
    files = two_facility_files(**{"locations.csv": csv_bytes(["id"], ["loc-1"], ["loc-1"])})

    response = _upload(coordinator_client, ("hsds.zip", zipped(files)))

    assert response.status_code == 422
    assert "Import refused: 2 problems. Nothing was changed." in response.text
    assert (
        "<td>locations.csv</td><td>3</td><td>id</td><td>The id loc-1 is already used on row 2.</td>"
        in response.text
    )
    refused = "<td>service_at_location.csv</td><td>3</td><td>location_id</td>"
    assert refused + "<td>No location loc-2 in locations.csv.</td>" in response.text
    assert directory_snapshot() == before


GARBAGE = {
    "not-a-zip": (("hsds.zip", b"this is not a zip"), "This is not a zip file that can be opened."),
    "binary-junk-zip": (("hsds.zip", os.urandom(4096)), "This is not a zip file that can be opened."),
    "a-pdf": (("beds.pdf", b"%PDF-1.4"), "beds.pdf is neither a .csv file nor a .zip of CSV files."),
    "an-empty-zip": (("hsds.zip", zipped({})), "The zip holds no CSV files."),
}


@pytest.mark.parametrize(("upload", "message"), GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_is_refused_with_a_clear_message(coordinator_client, upload, message):
    response = _upload(coordinator_client, upload)

    assert response.status_code == 400
    assert message in response.text
    assert not Facility.objects.exists()


def test_binary_junk_named_csv_is_reported_per_file(coordinator_client):
    response = _upload(
        coordinator_client, *{**two_facility_files(), "services.csv": os.urandom(2048)}.items()
    )

    assert response.status_code == 422
    assert (
        "This is not a CSV text file (it holds binary data)." in response.text or "not UTF-8" in response.text
    )


def test_no_file_is_refused(coordinator_client):
    response = coordinator_client.post(URL, {})

    assert response.status_code == 400
    assert "This field is required." in response.text


def test_files_over_the_limit_are_refused(coordinator_client, monkeypatch):
    monkeypatch.setattr(hsds, "MAX_UPLOAD_BYTES", 1000)

    response = _upload(coordinator_client, ("services.csv", b"id,name\n" + b"x" * 2000))

    assert response.status_code == 400
    assert "The files are too large" in response.text


def test_a_huge_upload_is_refused_before_it_is_read(coordinator_client, monkeypatch):
    monkeypatch.setattr(hsds, "MAX_UPLOAD_BYTES", 1000)

    response = _upload(coordinator_client, ("hsds.zip", b"0" * 200_000))

    assert response.status_code == 413
    assert "The upload is too large: at most 0 MB." in response.text


def test_the_upload_still_needs_the_csrf_token(coordinator):
    from django.test import Client

    from tests.conftest import verify_two_factor

    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    verify_two_factor(client, coordinator)

    response = client.post(URL, {"files": [SimpleUploadedFile("hsds.zip", zipped(two_facility_files()))]})

    assert response.status_code == 403
    assert not Facility.objects.exists()
