"""Classification: which records become events, with which type and date (the design's rules, edge by edge)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from service.errors import NormalizationError
from service.events import EventType
from service.polling.classify import Classification, classify, prune_boundary
from service.polling.resources import PollerConfiguration, ResourceConfig

START = datetime(2024, 1, 5, 10, 0, 0, tzinfo=UTC)
END = START + timedelta(minutes=15)
NONE: frozenset[tuple[str, datetime]] = frozenset()


def resource(**changes: Any) -> ResourceConfig:
    config: dict[str, Any] = {
        "url": "/deals?since=${gmtDate:yyyy-MM-dd'T'HH:mm:ss'Z'}",
        "idField": "id",
        "datesConfiguration": {
            "updatedDateField": "updated",
            "updatedDateFormat": "yyyy-MM-dd'T'HH:mm:ss'Z'",
            "createdDateField": "created",
            "createdDateFormat": "yyyy-MM-dd'T'HH:mm:ss'Z'",
        },
        **changes,
    }
    return PollerConfiguration.parse({"deals": config}).resources["deals"]


def record(updated: str | None = "2024-01-05T10:05:00Z", created: str | None = "2024-01-01T00:00:00Z",
           **extra: object) -> dict[str, object]:
    found: dict[str, object] = {"id": 7, **extra}
    if updated is not None:
        found["updated"] = updated
    if created is not None:
        found["created"] = created
    return found


def test_an_update_in_the_window() -> None:
    assert classify(record(), resource(), START, END, NONE) == Classification(
        "7", EventType.UPDATED, datetime(2024, 1, 5, 10, 5, tzinfo=UTC)
    )


def test_equal_dates_make_a_created_event() -> None:
    found = classify(record(created="2024-01-05T10:05:00Z"), resource(), START, END, NONE)
    assert found is not None
    assert found.event_type is EventType.CREATED


def test_tolerance_is_inclusive() -> None:
    tolerant = resource(createdCheckTolerance=60)
    at_limit = classify(record("2024-01-05T10:06:00Z", "2024-01-05T10:05:00Z"), tolerant, START, END, NONE)
    beyond = classify(record("2024-01-05T10:06:01Z", "2024-01-05T10:05:00Z"), tolerant, START, END, NONE)
    assert at_limit is not None
    assert at_limit.event_type is EventType.CREATED
    assert beyond is not None
    assert beyond.event_type is EventType.UPDATED
    # The tolerance is a distance: an updated date before the created one counts too.
    earlier = classify(record("2024-01-05T10:05:00Z", "2024-01-05T10:05:30Z"), tolerant, START, END, NONE)
    assert earlier is not None
    assert earlier.event_type is EventType.CREATED


def test_window_bounds() -> None:
    at_start = classify(record(updated="2024-01-05T10:00:00Z"), resource(), START, END, NONE)
    assert at_start is not None  # `>= start`
    assert classify(record(updated="2024-01-05T09:59:59Z"), resource(), START, END, NONE) is None
    later = record(updated="2024-01-05T10:20:00Z")
    assert classify(later, resource(), START, END, NONE) is not None  # no upper bound by default
    assert classify(later, resource(filterByCurrentDate=True), START, END, NONE) is None
    at_end = classify(record(updated="2024-01-05T10:15:00Z"), resource(filterByCurrentDate=True), START, END, NONE)
    assert at_end is not None  # `<= end`


def test_filter_by_created_date() -> None:
    by_created = resource(filterByUpdatedDate=False)
    found = classify(record(updated="2024-01-05T12:00:00Z", created="2024-01-05T10:01:00Z"), by_created, START,
                     END, NONE)
    assert found == Classification("7", EventType.CREATED, datetime(2024, 1, 5, 10, 1, tzinfo=UTC))
    # The updated date plays no part: an old record updated now is not emitted.
    assert classify(record(updated="2024-01-05T10:05:00Z"), by_created, START, END, NONE) is None
    assert classify(record(updated=None, created="2024-01-05T10:01:00Z"), by_created, START, END, NONE) is not None


def test_boundary_set() -> None:
    at_start = record(updated="2024-01-05T10:00:00Z")
    boundary = frozenset({("7", START)})
    assert classify(at_start, resource(), START, END, boundary) is None
    assert classify({**at_start, "id": 8}, resource(), START, END, boundary) is not None  # same date, other id
    changed = record(updated="2024-01-05T10:00:01Z")
    assert classify(changed, resource(), START, END, boundary) is not None  # same id, a later change
    # Pairs compare as instants, whatever zone the date was written in.
    shifted = frozenset({("7", START.astimezone(timezone(timedelta(hours=-8))))})
    assert classify(at_start, resource(), START, END, shifted) is None


def test_prune_boundary_keeps_what_the_next_window_can_see() -> None:
    pairs = {("1", START - timedelta(seconds=1)), ("2", START), ("3", END)}
    assert prune_boundary(pairs, START) == frozenset({("2", START), ("3", END)})
    assert prune_boundary(pairs, END + timedelta(seconds=1)) == frozenset()


def test_missing_created_date_is_an_update() -> None:
    found = classify(record(created=None), resource(), START, END, NONE)
    assert found is not None
    assert found.event_type is EventType.UPDATED
    no_created_field = resource(datesConfiguration={"updatedDateField": "updated",
                                                    "updatedDateFormat": "yyyy-MM-dd'T'HH:mm:ss'Z'"})
    found = classify(record(), no_created_field, START, END, NONE)
    assert found is not None
    assert found.event_type is EventType.UPDATED


def test_null_updated_date_falls_back_to_the_created_date() -> None:
    # Never-updated records of some APIs carry `"updated": null`: dated and typed by their creation.
    found = classify(record(created="2024-01-05T10:01:00Z") | {"updated": None}, resource(), START, END, NONE)
    assert found == Classification("7", EventType.CREATED, datetime(2024, 1, 5, 10, 1, tzinfo=UTC))
    old = classify(record() | {"updated": ""}, resource(), START, END, NONE)
    assert old is None  # created before the window


def test_dates_in_zones_and_epochs() -> None:
    denver = resource(datesConfiguration={"updatedDateField": "updated", "updatedDateFormat": "yyyy-MM-dd HH:mm:ss",
                                          "updatedDateTimezone": "America/Denver"})
    found = classify({"id": 1, "updated": "2024-01-05 03:05:00"}, denver, START, END, NONE)
    assert found is not None
    assert found.date == datetime(2024, 1, 5, 10, 5, tzinfo=UTC)
    assert found.date.tzinfo is UTC
    epochs = resource(datesConfiguration={"updatedDateField": "u", "updatedDateFormat": "milliseconds",
                                          "createdDateField": "c", "createdDateFormat": "milliseconds"})
    found = classify({"id": "a", "u": 1704448800000, "c": "1704448800000"}, epochs, START, END, NONE)
    assert found == Classification("a", EventType.CREATED, START)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"id": None}, "resource 'deals': record has no usable id at 'id' (got None)"),
        ({"id": ""}, "record has no usable id at 'id'"),
        ({"id": {"x": 1}}, "record has no usable id at 'id'"),
        ({"updated": "yesterday"}, "updated date 'yesterday' at 'updated' does not match \"yyyy-MM-dd'T'HH:mm:ss'Z'\""),
        ({"created": "2024-02-30T00:00:00Z"}, "created date '2024-02-30T00:00:00Z' at 'created' does not match"),
        ({"updated": {"value": 1}}, "updated date at 'updated' is dict"),
        ({"updated": True}, "updated date at 'updated' is bool"),
    ],
)
def test_records_that_cannot_be_normalized(bad: dict[str, object], message: str) -> None:
    with pytest.raises(NormalizationError) as caught:
        classify(record() | bad, resource(), START, END, NONE)
    assert message in str(caught.value)


def test_absent_fields_are_errors() -> None:
    with pytest.raises(NormalizationError, match="resource 'deals': record has no id field 'id'"):
        classify({"updated": "2024-01-05T10:05:00Z"}, resource(), START, END, NONE)
    # An absent updated field is a misconfigured path, not a never-updated record: no fallback to created.
    with pytest.raises(NormalizationError, match="record has no updated date at 'updated'"):
        classify(record(updated=None, created="2024-01-05T10:01:00Z"), resource(), START, END, NONE)
