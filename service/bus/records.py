"""Models become Kafka records here, and only here (orjson): events, dead letters, cursors, registry entries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel, SecretStr

from service.events import NormalizedEvent

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class OutgoingRecord:
    """One record to write: `value=None` is a tombstone; `partition=None` lets the key choose."""

    topic: str
    key: bytes
    value: bytes | None
    headers: Headers = field(default_factory=list)
    partition: int | None = None


def dumps(value: Any) -> bytes:
    """JSON bytes; pydantic models are dumped by alias in JSON mode first."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True, exclude_none=False)
    return orjson.dumps(value)


def event_record(topic: str, event: NormalizedEvent) -> OutgoingRecord:
    """The record of a normalized event: JSON value, CloudEvents binary-mode headers, per-object key."""
    return OutgoingRecord(topic, event.key.encode(), dumps(event), event.cloudevent_headers())


def dead_letter_record(
    topic: str, *, key: str, value: bytes, reason: str, context: Mapping[str, str | None]
) -> OutgoingRecord:
    """A record or body that could not be normalized, kept as it came, with why and where as headers."""
    headers: Headers = [("error_reason", reason.encode())]
    headers.extend((f"error_{name}", text.encode()) for name, text in context.items() if text is not None)
    return OutgoingRecord(topic, key.encode(), value, headers)


def _reveal(value: object) -> object:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return str(value)  # URLs and other str-like pydantic types


def stored_dumps(model: BaseModel) -> bytes:
    """JSON of a definition as stored in its compacted topic: unlike API output, secrets are kept."""
    return orjson.dumps(model.model_dump(mode="python", by_alias=True), default=_reveal)


def model_record(topic: str, key: str, model: BaseModel | None, *, partition: int | None = None) -> OutgoingRecord:
    """A compacted-topic entry (element, instance, cursor); `None` writes the tombstone."""
    return OutgoingRecord(topic, key.encode(), stored_dumps(model) if model is not None else None, partition=partition)


def loads(value: bytes) -> Any:
    """Parse JSON bytes read from a topic."""
    return orjson.loads(value)
