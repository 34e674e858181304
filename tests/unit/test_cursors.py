"""Cursor JSON (camelCase, round trip through the stored record) and the cursor table's record handling."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from service.cursors import Cursor, CursorStatus, CursorTable, cursor_record, tombstone_record


def _cursor() -> Cursor:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    return Cursor(
        instance_id="crm-1", resource="contacts", last_poll_at=when, boundary=[("r1", when)],
        status=CursorStatus(last_outcome="ok", last_polled_at=when),
    )


def test_cursor_record_is_camel_case_json_in_the_instance_partition() -> None:
    record = cursor_record("cursors", 2, _cursor())
    assert record.partition == 2
    assert record.key == b"crm-1/contacts"
    assert record.value is not None
    body = orjson.loads(record.value)
    assert set(body) == {"instanceId", "resource", "lastPollAt", "boundary", "status"}
    assert body["boundary"] == [["r1", "2026-01-02T03:04:05+00:00"]]
    assert body["status"]["consecutiveFailures"] == 0
    assert body["status"]["lastOutcome"] == "ok"


def test_table_applies_records_and_tombstones() -> None:
    table = CursorTable(2)
    record = cursor_record("cursors", 2, _cursor())
    table.apply(record.key, record.value)
    assert table.get("crm-1", "contacts") == _cursor()
    assert table.keys_of("crm-1") == ["crm-1/contacts"]
    assert table.keys_of("crm") == []
    tombstone = tombstone_record("cursors", 2, "crm-1/contacts")
    table.apply(tombstone.key, tombstone.value)
    assert table.get("crm-1", "contacts") is None


def test_table_skips_invalid_values() -> None:
    table = CursorTable(0)
    table.apply(b"x/y", b'{"instanceId": 1}')
    table.apply(b"x/z", b"not json")
    assert table.cursors == {}
