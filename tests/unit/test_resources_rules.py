"""Poller configuration parsing and the classification rules, on real-world Open Connectors shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from service.errors import ConfigError, NormalizationError
from service.events import EventType
from service.polling.classify import classify, prune_boundary
from service.polling.fieldpath import MISSING, FieldPath
from service.polling.resources import (
    PollerConfiguration,
    ResourceConfig,
    check_poller_configuration,
)

HUBSPOT = {
    "contacts": {
        "url": "/hubs/marketing/contacts?where=lastmodifieddate>'${gmtDate:yyyy-MM-dd'T'HH:mm:ss.SSS'Z'}'",
        "idField": "vid",
        "datesConfiguration": {
            "updatedDateField": "properties.lastmodifieddate.value",
            "updatedDateFormat": "milliseconds",
            "createdDateField": "properties.createdate.value",
            "createdDateFormat": "milliseconds",
        },
        "pageSize": "100",
        "filterByUpdatedDate": "true",
    }
}


def _resource(**changes: object) -> ResourceConfig:
    config: dict[str, object] = {
        "url": "/contacts?since=${date:yyyy-MM-dd'T'HH:mm:ss'Z'}",
        "idField": "id",
        "datesConfiguration": {
            "updatedDateField": "updated",
            "updatedDateFormat": "yyyy-MM-dd'T'HH:mm:ss'Z'",
            "createdDateField": "created",
            "createdDateFormat": "yyyy-MM-dd'T'HH:mm:ss'Z'",
        },
        **changes,
    }
    return PollerConfiguration.parse({"contacts": config}).resources["contacts"]


def test_configuration_as_json_string_with_string_numbers_and_booleans() -> None:
    parsed = PollerConfiguration.parse(orjson.dumps(HUBSPOT).decode())
    contacts = parsed.resources["contacts"]
    assert contacts.page_size == 100
    assert contacts.filter_by_updated_date is True
    assert contacts.id_field.get({"vid": 7}) == 7
    assert contacts.updated is not None
    assert contacts.updated.path.get({"properties": {"lastmodifieddate": {"value": "1"}}}) == "1"


def test_alternative_spellings_and_case_slips() -> None:
    config = {
        "files": {
            "url": "/files",
            "idField": "['File Id']",
            "datesConfiguration": {
                "UpdatedAtField": "modified",
                "updatedAtFormat": "MM/dd/yyyy HH:mm:ss",
                "UpdatedDateTimezone": "PST",
                "createdCheckTolerance": "5",
            },
            "pollDelay": 30,
        }
    }
    reports = check_poller_configuration(config)
    assert reports["files"].ok
    assert reports["files"].warnings == ["resources.files.url: no date placeholder: every poll reads all pages"]
    resource = PollerConfiguration.parse(config).resources["files"]
    assert resource.created_check_tolerance == timedelta(seconds=5)
    assert resource.poll_delay == timedelta(seconds=30)
    assert resource.id_field.get({"File Id": "f1"}) == "f1"


def test_every_error_names_resource_and_field() -> None:
    reports = check_poller_configuration({
        "deals": {"idField": "", "pageSize": "0", "filterByCurrentDate": "maybe", "datesConfiguration": {}},
        "notes": "nope",
    })
    errors = reports["deals"].errors
    assert "resources.deals.url: expected the resource URL (relative to the instance base URL)" in errors
    assert "resources.deals.idField: expected a field name or path" in errors
    assert any(e.startswith("resources.deals.pageSize: expected a whole number >= 1") for e in errors)
    assert any(e.startswith("resources.deals.filterByCurrentDate: expected true or false") for e in errors)
    assert any(e.startswith("resources.deals.datesConfiguration.updatedDateField") for e in errors)
    assert reports["notes"].errors
    with pytest.raises(ConfigError, match="not valid JSON"):
        PollerConfiguration.parse("{nope")


def test_field_paths() -> None:
    assert FieldPath.parse("a.b[1]['c d']").get({"a": {"b": [0, {"c d": 3}]}}) == 3
    assert FieldPath.parse("a.x").get({"a": {}}) is MISSING
    with pytest.raises(ValueError, match="cannot read field path"):
        FieldPath.parse("a[")


START = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
END = START + timedelta(minutes=5)


def test_created_when_dates_equal_updated_otherwise() -> None:
    resource = _resource()
    created = classify({"id": 1, "created": "2026-05-01T12:01:00Z", "updated": "2026-05-01T12:01:00Z"},
                       resource, START, END, frozenset())
    updated = classify({"id": 2, "created": "2026-04-01T00:00:00Z", "updated": "2026-05-01T12:00:00Z"},
                       resource, START, END, frozenset())
    assert created is not None
    assert (created.object_id, created.event_type) == ("1", EventType.CREATED)
    assert updated is not None
    assert updated.event_type is EventType.UPDATED
    assert updated.date == START  # a record dated exactly at the window start is emitted


def test_tolerance_and_before_window_and_current_date_filter() -> None:
    tolerant = _resource(createdCheckTolerance=10)
    result = classify({"id": 1, "created": "2026-05-01T12:01:00Z", "updated": "2026-05-01T12:01:09Z"},
                      tolerant, START, END, frozenset())
    assert result is not None
    assert result.event_type is EventType.CREATED
    old = {"id": 1, "created": "2026-05-01T11:00:00Z", "updated": "2026-05-01T11:59:59Z"}
    assert classify(old, tolerant, START, END, frozenset()) is None
    future = {"id": 1, "created": "2026-05-01T11:00:00Z", "updated": "2026-05-01T12:06:00Z"}
    assert classify(future, _resource(filterByCurrentDate=True), START, END, frozenset()) is None
    assert classify(future, _resource(), START, END, frozenset()) is not None


def test_filter_by_created_date_makes_created_events() -> None:
    resource = _resource(filterByUpdatedDate="false")
    result = classify({"id": 1, "created": "2026-05-01T12:02:00Z"}, resource, START, END, frozenset())
    assert result is not None
    assert (result.event_type, result.date) == (EventType.CREATED, datetime(2026, 5, 1, 12, 2, tzinfo=UTC))


def test_boundary_set_suppresses_what_was_emitted_at_the_boundary() -> None:
    resource = _resource()
    at_start = {"id": 1, "created": "2026-04-01T00:00:00Z", "updated": "2026-05-01T12:00:00Z"}
    boundary = frozenset({("1", START)})
    assert classify(at_start, resource, START, END, boundary) is None
    assert classify({**at_start, "id": 2}, resource, START, END, boundary) is not None  # same second, other id
    pruned = prune_boundary({("1", START), ("2", END)}, next_start=END)
    assert pruned == frozenset({("2", END)})


def test_bad_records_raise_normalization_errors_naming_the_field() -> None:
    resource = _resource()
    with pytest.raises(NormalizationError, match="no id field 'id'"):
        classify({"updated": "2026-05-01T12:00:00Z"}, resource, START, END, frozenset())
    with pytest.raises(NormalizationError, match="updated date 'yesterday' at 'updated' does not match"):
        classify({"id": 1, "updated": "yesterday"}, resource, START, END, frozenset())
    # A missing created date is not an error: the change is an update.
    result = classify({"id": 1, "updated": "2026-05-01T12:00:00Z"}, resource, START, END, frozenset())
    assert result is not None
    assert result.event_type is EventType.UPDATED
