"""`connector-events check-poller-config`: what it prints and its exit status, as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from service.polling.check import check_command

AT = "2024-01-05T10:00:00Z"
NOW = datetime(2024, 1, 5, 10, 15, tzinfo=UTC)
GOOD = {
    "contacts": {
        "url": "/hubs/crm/contacts?where=lastModifiedDate>='${gmtDate:yyyy-MM-dd'T'HH:mm:ssXXX}'",
        "idField": "id",
        "datesConfiguration": {"updatedDateField": "updated", "updatedDateFormat": "yyyy-MM-dd'T'HH:mm:ssXXX"},
    },
    "files": {
        "url": "/hubs/documents/folders/{folderId}/contents",
        "idField": "id",
        "datesConfiguration": {"updatedDateField": "modified", "updatedDateFormat": "milliseconds"},
    },
}
BAD = {
    **GOOD,
    "deals": {
        "url": "/deals?since=${gmtDate:yyyy-MM-dd'T}",
        "idField": "id",
        "pageSize": 0,
        "datesConfiguration": {"updatedDateField": "updated", "updatedDateFormat": "yyyy-MM-ddTHH"},
    },
}


def write(tmp_path: Path, value: object) -> str:
    path = tmp_path / "poller.json"
    path.write_bytes(orjson.dumps(value))
    return str(path)


def test_valid_configuration_as_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_command(write(tmp_path, GOOD), AT, as_json=False, now=NOW) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "contacts: valid",
        "  url: /hubs/crm/contacts?where=lastModifiedDate>='2024-01-05T10:00:00Z'",
        "files: valid",
        "  warning: resources.files.url: no date placeholder: every poll reads all pages",
        "  warning: resources.files.url: reads the instance configuration key 'folderId' (shown as {folderId}; a "
        "zone from it is shown in GMT)",
        "  url: /hubs/documents/folders/{folderId}/contents",
    ]


def test_invalid_configuration_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The file may hold the JSON string of the object, as instance configurations store it.
    path = write(tmp_path, orjson.dumps(BAD).decode())
    assert check_command(path, "2024-01-05T11:00:00+01:00", as_json=True, now=NOW) == 1
    result = orjson.loads(capsys.readouterr().out)["resources"]
    assert set(result) == {"contacts", "files", "deals"}
    assert result["contacts"] == {
        "ok": True,
        "errors": [],
        "warnings": [],
        "url": "/hubs/crm/contacts?where=lastModifiedDate>='2024-01-05T10:00:00Z'",
    }
    deals = result["deals"]
    assert deals["ok"] is False
    assert deals["url"] == ""
    assert any(e.startswith("resources.deals.url: malformed placeholder") for e in deals["errors"])
    assert any(e.startswith("resources.deals.pageSize: expected a whole number >= 1") for e in deals["errors"])
    assert any("updatedDateFormat: invalid date pattern" in e for e in deals["errors"])


def test_at_defaults_to_now(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_command(write(tmp_path, {"c": GOOD["contacts"]}), None, as_json=True, now=NOW) == 0
    url = orjson.loads(capsys.readouterr().out)["resources"]["c"]["url"]
    assert url.endswith("'2024-01-05T10:15:00Z'")


def test_whole_value_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    assert check_command(str(path), AT, as_json=True, now=NOW) == 1
    assert orjson.loads(capsys.readouterr().out)["resources"]["*"]["errors"][0].startswith(
        "event.poller.configuration: not valid JSON"
    )


def test_unreadable_file_and_bad_at(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_command(str(tmp_path / "missing.json"), AT, as_json=False) == 2
    assert "cannot read" in capsys.readouterr().err
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    assert check_command(str(binary), AT, as_json=False) == 2
    assert check_command(write(tmp_path, GOOD), "yesterday", as_json=False) == 2
    assert "--at 'yesterday' is not an ISO-8601 instant" in capsys.readouterr().err


def test_command_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    done = subprocess.run(  # noqa: S603 - the project's own command line
        [sys.executable, "-m", "service", "check-poller-config", path, "--at", AT, "--json"],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout)["resources"]["contacts"]["ok"] is True
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import sys; from service.polling.check import check_command; "
         f"sys.exit(check_command({str(tmp_path / 'nope.json')!r}, None, False))"],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert done.returncode == 2
