"""manage.py import_hsds <folder> and export_hsds <folder>."""

from __future__ import annotations

import shutil
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from referrals.models import Facility

from .directory_helpers import EXAMPLE_FOLDER, csv_bytes, two_facility_files

pytestmark = pytest.mark.django_db


def _folder(tmp_path, files: dict[str, bytes]):
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    return tmp_path


def test_import_hsds_imports_the_example_folder(tmp_path):
    folder = tmp_path / "hsds"
    shutil.copytree(EXAMPLE_FOLDER, folder)
    out = StringIO()

    call_command("import_hsds", str(folder), stdout=out)

    assert "Created 1, updated 0, unchanged 0" in out.getvalue()
    assert "warning: addresses.csv, row 2, column state_province" in out.getvalue()
    assert Facility.objects.count() == 1


def test_import_hsds_twice_updates_instead_of_duplicating(tmp_path):
    folder = _folder(tmp_path, two_facility_files())
    call_command("import_hsds", str(folder), stdout=StringIO())
    out = StringIO()

    call_command("import_hsds", str(folder), stdout=out)

    assert "Created 0, updated 0, unchanged 2 facilities." in out.getvalue()
    assert Facility.objects.count() == 2


def test_import_hsds_refuses_invalid_files_and_lists_every_problem(tmp_path):
    folder = _folder(
        tmp_path,
        two_facility_files(
            **{"service_capacity.csv": csv_bytes(["service_id", "available"], ["svc-1", "lots"])}
        ),
    )
    err = StringIO()

    with pytest.raises(CommandError, match=r"Import refused: 1 problem\. Nothing was changed\."):
        call_command("import_hsds", str(folder), stdout=StringIO(), stderr=err)

    assert (
        "refused: service_capacity.csv, row 2, column available: “lots” is not a whole number"
        in err.getvalue()
    )
    assert not Facility.objects.exists()


def test_import_hsds_dry_run_changes_nothing(tmp_path):
    out = StringIO()

    call_command("import_hsds", str(_folder(tmp_path, two_facility_files())), "--dry-run", stdout=out)

    assert "Would create 2" in out.getvalue()
    assert not Facility.objects.exists()


def test_import_hsds_of_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="is not a folder"):
        call_command("import_hsds", str(tmp_path / "nowhere"))


def test_import_hsds_without_the_required_files_is_refused(tmp_path):
    (tmp_path / "organizations.csv").write_bytes(b"id,name\norg-1,A\n")
    err = StringIO()

    with pytest.raises(CommandError, match="Import refused: 3 problems"):
        call_command("import_hsds", str(tmp_path), stdout=StringIO(), stderr=err)

    assert "refused: services.csv: This file is required and was not sent." in err.getvalue()


def test_export_hsds_writes_a_folder_that_imports_back(tmp_path):
    in_folder = tmp_path / "in"
    in_folder.mkdir()
    call_command("import_hsds", str(_folder(in_folder, two_facility_files())), stdout=StringIO())
    out_folder = tmp_path / "out"

    call_command("export_hsds", str(out_folder), stdout=StringIO())
    out = StringIO()
    call_command("import_hsds", str(out_folder), stdout=out)

    assert (out_folder / "services.csv").exists() and (out_folder / "service_capacity.csv").exists()
    assert "Created 0, updated 0, unchanged 2 facilities." in out.getvalue()
