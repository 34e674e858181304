"""The window of a poll: where it starts (cursor, pollDelay, backfill) and its rounding to the date format.

Pure: no I/O and no clock; the poll passes `now`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from service.cursors import Cursor
from service.polling.fieldpath import MISSING
from service.polling.resources import ResourceConfig
from service.registry.models import ResolvedInstance


def window_start(
    resolved: ResolvedInstance, resource: ResourceConfig, cursor: Cursor | None, now: datetime
) -> datetime:
    """`lastPollAt - pollDelay`; before the first committed poll, the backfill start or when the instance was seen."""
    if cursor is not None and cursor.last_poll_at is not None:
        return cursor.last_poll_at - resource.poll_delay
    instance = resolved.instance
    return instance.backfill_from or instance.created_at or now


def floor_to_precision(when: datetime, resource: ResourceConfig) -> datetime:
    """`when` rounded down to what the filter date format keeps, on the format's wall clock.

    A record written `12:00:05` may have changed at 12:00:05.900, after a poll that started at 12:00:05.100:
    comparing at the format's precision keeps it in the next window (the boundary set drops the repeats).
    """
    date_format = resource.filter_field.format
    precision = date_format.precision
    if precision <= timedelta(microseconds=1):
        return when
    zone = date_format.zone
    wall = when.astimezone(zone).replace(tzinfo=UTC)  # the wall clock, as if it were UTC
    origin = datetime(1970, 1, 1, tzinfo=UTC)
    floored = (origin + (wall - origin) // precision * precision).replace(tzinfo=zone)
    return min(when, floored.astimezone(UTC))


def older_than(record: dict[str, Any], resource: ResourceConfig, start: datetime) -> bool:
    """Whether a record's filter date is before `start` (an unreadable date says no: the read goes on)."""
    where = resource.filter_field
    value = where.path.get(record)
    if value is MISSING or value is None or value == "":
        return False
    try:
        return where.format.parse(str(value)) < start
    except ValueError:
        return False
