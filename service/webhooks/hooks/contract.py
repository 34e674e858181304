"""The Open Connectors event hook contract: what a hook returns and how its items become typed `HookEvent`s.

Shared by the JavaScript sandbox and the declarative mapping, which produce the same `HookEvent`s.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from service.errors import NormalizationError
from service.events import EventType

HookErrorReason = Literal["error", "timeout", "memory", "shape"]

# Providers and hook authors spell the change many ways; anything else is UNKNOWN rather than an error,
# because Open Connectors itself passes unrecognised types through as UNKNOWN.
_TYPE_SYNONYMS: dict[str, EventType] = {
    **dict.fromkeys(("created", "create", "creation", "new", "added", "add", "inserted", "insert"), EventType.CREATED),
    **dict.fromkeys(
        ("updated", "update", "modified", "modify", "changed", "change", "edited", "edit", "upserted", "upsert"),
        EventType.UPDATED,
    ),
    **dict.fromkeys(
        ("deleted", "delete", "removed", "remove", "destroyed", "destroy", "trashed", "archived"), EventType.DELETED
    ),
    "unknown": EventType.UNKNOWN,
}

# Epoch numbers above this are milliseconds: 1e11 seconds is the year 5138, 1e11 ms is 1973.
_MILLIS_THRESHOLD = 1e11
_NUMERIC = re.compile(r"-?\d+(\.\d+)?")
DateFormat = Literal["iso", "epoch", "seconds", "milliseconds"]


class HookError(NormalizationError):
    """An event hook or mapping could not turn a body into events; the body goes to the dead-letter topic.

    Attributes:
        reason: `error` (the script threw or does not compile), `timeout`, `memory` (heap or stack limit),
            or `shape` (the output, or a mapped path, is not what the contract expects). A metric label.
    """

    def __init__(self, message: str, *, reason: HookErrorReason) -> None:
        super().__init__(message, retriable=False)
        self.reason: HookErrorReason = reason


def parse_event_type(value: object) -> EventType:
    """Map a provider's or hook's event type to an `EventType` (case-insensitive, common synonyms).

    Args:
        value: `CREATED`, `create`, `deleted`, `Modified` ...; `None` and unrecognised values are UNKNOWN.
    """
    if not isinstance(value, str):
        return EventType.UNKNOWN
    return _TYPE_SYNONYMS.get(value.strip().lower(), EventType.UNKNOWN)


def parse_event_date(value: object, *, date_format: DateFormat = "iso") -> datetime:
    """Parse an event date into an aware UTC datetime.

    Args:
        value: an ISO-8601 string (naive means UTC), or epoch seconds / milliseconds as a number or a digit
            string (with `iso`, numbers above 1e11 are milliseconds).
        date_format: `iso` (ISO-8601 or epoch, guessed), `epoch`/`seconds`, or `milliseconds`.

    Raises:
        ValueError: the value is not a date in that format.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"expected a date, got {value!r}")
    number: float | None = None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and _NUMERIC.fullmatch(value.strip()):
        number = float(value.strip())
    if number is not None:
        if not math.isfinite(number):
            raise ValueError(f"expected a date, got {value!r}")
        millis = date_format == "milliseconds" or (date_format == "iso" and abs(number) >= _MILLIS_THRESHOLD)
        try:
            return datetime.fromtimestamp(number / 1000 if millis else number, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError(f"epoch {value!r} is out of range") from exc
    if not isinstance(value, str) or date_format != "iso":
        raise ValueError(f"expected a date ({date_format}), got {value!r}")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"expected an ISO-8601 date, got {value!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class HookEvent(BaseModel):
    """One change a hook (or mapping) found in a webhook body, before it becomes a `NormalizedEvent`.

    Attributes:
        object_type: the kind of object that changed (`event_object_type`, for example `contacts`).
        object_id: its id at the provider (`event_object_id`; numbers become strings).
        event_type: CREATED, UPDATED, DELETED or UNKNOWN (`event_type`, synonyms mapped).
        date: when it changed, aware UTC (`event_date`; the receipt time when the item has none).
        raw: the item as the hook produced it, extra fields included.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    object_type: str = Field(min_length=1)
    object_id: str = Field(min_length=1)
    event_type: EventType
    date: AwareDatetime
    raw: dict[str, Any]

    @field_validator("date")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


def _scalar_text(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    return None


def event_from_item(
    item: Mapping[str, Any], *, received_at: datetime, where: str, date_format: DateFormat = "iso"
) -> HookEvent:
    """Turn one contract item (`event_object_type`, `event_object_id`, `event_type`, `event_date`) into a HookEvent.

    Args:
        item: the item; fields beyond the four are kept in `raw`.
        received_at: used when the item has no `event_date` (aware).
        where: names the hook and item in errors, for example `event hook of instance crm-1, events[2]`.
        date_format: how `event_date` is written.

    Raises:
        HookError: reason `shape` when the id or object type is missing or the date is not a date.
    """
    object_id = _scalar_text(item.get("event_object_id"))
    if object_id is None:
        raise HookError(f"{where}: event_object_id must be a non-empty string or number", reason="shape")
    object_type = _scalar_text(item.get("event_object_type"))
    if object_type is None:
        raise HookError(f"{where}: event_object_type must be a non-empty string", reason="shape")
    raw_date = item.get("event_date")
    if raw_date is None or raw_date == "":
        date = received_at
    else:
        try:
            date = parse_event_date(raw_date, date_format=date_format)
        except ValueError as exc:
            raise HookError(f"{where}: event_date: {exc}", reason="shape") from exc
    return HookEvent(
        object_type=object_type,
        object_id=object_id,
        event_type=parse_event_type(item.get("event_type")),
        date=date,
        raw=dict(item),
    )


def events_from_output(output: object, *, received_at: datetime, where: str) -> list[HookEvent]:
    """Validate a hook's result (`{"events": [item, ...]}`) and convert its items.

    Args:
        output: what the hook passed to `done` or returned, as plain JSON data.
        received_at: the date of items without `event_date`.
        where: names the hook in errors.

    Raises:
        HookError: reason `shape` when the output is not an object with an `events` array of objects.
    """
    if not isinstance(output, dict) or "events" not in output:
        raise HookError(f"{where}: must produce an object with an 'events' array, got {_kind(output)}", reason="shape")
    items = output["events"]
    if not isinstance(items, list):
        raise HookError(f"{where}: 'events' must be an array, got {_kind(items)}", reason="shape")
    events: list[HookEvent] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise HookError(f"{where}: events[{index}] must be an object, got {_kind(item)}", reason="shape")
        events.append(event_from_item(item, received_at=received_at, where=f"{where}, events[{index}]"))
    return events


def _kind(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else type(value).__name__)
