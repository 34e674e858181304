"""Which records of a poll become events, of which type and date: pure rules of the design, no I/O.

A record is emitted when its date (updated, or created with `filterByUpdatedDate: false`) is inside the window
`[start, end]` (the upper bound only with `filterByCurrentDate`) and the boundary set does not already hold
`(objectId, date)`: the set remembers what earlier polls emitted at dates the next window still covers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime

from service.errors import NormalizationError
from service.events import EventType
from service.polling.fieldpath import MISSING
from service.polling.resources import DateField, ResourceConfig

BoundaryKey = tuple[str, datetime]


@dataclass(frozen=True, slots=True)
class Classification:
    """A record that becomes an event: its id, CREATED or UPDATED, and its date (aware, UTC)."""

    object_id: str
    event_type: EventType
    date: datetime


def classify(
    record: Mapping[str, object],
    resource: ResourceConfig,
    start: datetime,
    end: datetime,
    boundary: AbstractSet[BoundaryKey],
) -> Classification | None:
    """Decide whether `record` is emitted, and how; None when it is not.

    Rules: the date is the updated date (the created date with `filterByUpdatedDate: false`); it must be `>= start`,
    and `<= end` with `filterByCurrentDate`; `(objectId, date)` must not be in `boundary`. The type is CREATED when
    `|updated - created| <= createdCheckTolerance`, else UPDATED. A record without a created date (or a resource
    without a created field) is UPDATED. A record whose updated field is present but null or empty (never updated,
    in some APIs) is dated by its created date and is CREATED. With `filterByUpdatedDate: false` the created date
    filters and the type is always CREATED.

    Raises:
        NormalizationError: the id is missing or empty, the filter date is missing (field absent, or null without a
            created date) or a date does not parse (the record goes to the dead-letter topic; the poll goes on).
    """
    object_id = _object_id(record, resource)
    if resource.filter_by_updated_date:
        created = _date(record, resource, resource.created, "created", optional=True) if resource.created else None
        updated_field = resource.filter_field
        if updated_field.path.get(record) in (None, "") and created is not None:
            date, event_type = created, EventType.CREATED
        else:
            date = _required_date(record, resource, updated_field, "updated")
            close = created is not None and abs(date - created) <= resource.created_check_tolerance
            event_type = EventType.CREATED if close else EventType.UPDATED
    else:
        date = _required_date(record, resource, resource.filter_field, "created")
        event_type = EventType.CREATED
    if date < start or (resource.filter_by_current_date and date > end):
        return None
    if (object_id, date) in boundary:
        return None
    return Classification(object_id, event_type, date)


def prune_boundary(boundary: Iterable[BoundaryKey], next_start: datetime) -> frozenset[BoundaryKey]:
    """Keep only what the next window (starting at `next_start`) can see again: pairs dated `>= next_start`."""
    return frozenset(key for key in boundary if key[1] >= next_start)


def _object_id(record: Mapping[str, object], resource: ResourceConfig) -> str:
    value = resource.id_field.get(record)
    if value is MISSING or value is None or value == "" or isinstance(value, dict | list):
        raise NormalizationError(
            f"resource {resource.name!r}: record has no usable id at {resource.id_field.text!r} (got {value!r})"
            if value is not MISSING
            else f"resource {resource.name!r}: record has no id field {resource.id_field.text!r}"
        )
    return str(value)


def _required_date(record: Mapping[str, object], resource: ResourceConfig, where: DateField, which: str) -> datetime:
    date = _date(record, resource, where, which, optional=False)
    if date is None:  # _date raises instead when not optional; kept for type narrowing
        raise NormalizationError(f"resource {resource.name!r}: record has no {which} date at {where.path.text!r}")
    return date


def _date(
    record: Mapping[str, object], resource: ResourceConfig, where: DateField, which: str, *, optional: bool
) -> datetime | None:
    value = where.path.get(record)
    if value is MISSING or value is None or value == "":
        if optional:
            return None
        raise NormalizationError(f"resource {resource.name!r}: record has no {which} date at {where.path.text!r}")
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise NormalizationError(
            f"resource {resource.name!r}: {which} date at {where.path.text!r} is {type(value).__name__} "
            f"{value!r}, expected text or a number matching {where.format.pattern!r}"
        )
    try:
        return where.format.parse(value).astimezone(UTC)
    except ValueError as exc:
        raise NormalizationError(
            f"resource {resource.name!r}: {which} date {value!r} at {where.path.text!r} does not match "
            f"{where.format.pattern!r}: {exc}"
        ) from None
