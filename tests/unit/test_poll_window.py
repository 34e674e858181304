"""Pure parts of a poll: the window start, its rounding to the date format, and the next cursor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from service.cursors import Cursor
from service.polling.resources import PollerConfiguration, ResourceConfig
from service.polling.window import floor_to_precision, window_start
from service.registry.models import Element, Instance, ResolvedInstance

NOW = datetime(2026, 3, 1, 12, 0, 5, 678_000, tzinfo=UTC)


def resource(updated_format: str, zone: str = "GMT", **extra: Any) -> ResourceConfig:
    config = PollerConfiguration.parse({
        "contacts": {
            "url": "/contacts",
            "idField": "id",
            "datesConfiguration": {
                "updatedDateField": "updated", "updatedDateFormat": updated_format, "updatedDateTimezone": zone,
            },
            **extra,
        }
    })
    return config.resources["contacts"]


def resolved(**instance: Any) -> ResolvedInstance:
    return ResolvedInstance(
        element=Element(key="crm"),
        instance=Instance.model_validate({"id": "i1", "elementKey": "crm", "name": "one", **instance}),
    )


@pytest.mark.parametrize(
    ("pattern", "zone", "expected"),
    [
        ("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", "GMT", NOW),
        ("milliseconds", "GMT", NOW),
        ("yyyy-MM-dd'T'HH:mm:ss'Z'", "GMT", NOW.replace(microsecond=0)),
        ("yyyy-MM-dd HH:mm", "GMT", NOW.replace(second=0, microsecond=0)),
        # A date-only format in Los Angeles: the window starts at local midnight (08:00 UTC).
        ("yyyy-MM-dd", "America/Los_Angeles", datetime(2026, 3, 1, 8, 0, tzinfo=UTC)),
    ],
)
def test_window_start_is_floored_to_what_the_date_format_keeps(pattern: str, zone: str, expected: datetime) -> None:
    assert floor_to_precision(NOW, resource(pattern, zone)) == expected


def test_first_window_starts_at_backfill_then_created_then_now() -> None:
    res = resource("milliseconds")
    backfill = datetime(2025, 1, 1, tzinfo=UTC)
    created = datetime(2026, 2, 1, tzinfo=UTC)
    assert window_start(resolved(backfillFrom=backfill, createdAt=created), res, None, NOW) == backfill
    assert window_start(resolved(createdAt=created), res, None, NOW) == created
    assert window_start(resolved(), res, None, NOW) == NOW


def test_later_windows_start_poll_delay_before_the_last_poll() -> None:
    res = resource("milliseconds", pollDelay=30)
    last = datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    cursor = Cursor(instance_id="i1", resource="contacts", last_poll_at=last)
    assert window_start(resolved(), res, cursor, NOW) == last - timedelta(seconds=30)
    # A cursor that only ever recorded failures has no lastPollAt: the first window again.
    failed = Cursor(instance_id="i1", resource="contacts")
    created = datetime(2026, 2, 1, tzinfo=UTC)
    assert window_start(resolved(createdAt=created), res, failed, NOW) == created
