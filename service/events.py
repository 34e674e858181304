"""The normalized event: one per changed object, the same shape for polling and webhooks.

Also owns the event id rule (deterministic, so a re-poll or a redelivery yields the same id) and the Kafka key.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator
from pydantic.alias_generators import to_camel

# Fixed namespace: changing it would change every event id ever emitted.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c4a52-8a57-4d0e-9a55-0c1f1d2e3b4a")


class EventType(StrEnum):
    """What happened to the object."""

    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"
    UNKNOWN = "UNKNOWN"


class EventSource(StrEnum):
    """Which path produced the event."""

    POLLING = "polling"
    WEBHOOK = "webhook"


def isoformat_z(when: datetime) -> str:
    """UTC ISO-8601 with a `Z`, milliseconds when the instant has a fraction (what consumers parse everywhere)."""
    utc = when.astimezone(UTC)
    if utc.microsecond == 0:
        spec = "seconds"
    elif utc.microsecond % 1000 == 0:
        spec = "milliseconds"
    else:
        spec = "microseconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def event_id(*parts: str) -> str:
    """A stable id from the parts that identify one change (UUIDv5: same parts, same id)."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, "\x1f".join(parts)))


class NormalizedEvent(BaseModel):
    """One changed object, as consumers of the events topic read it (camelCase JSON)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid")

    event_id: str
    event_type: EventType
    object_type: str = Field(min_length=1)
    object_id: str = Field(min_length=1)
    date: datetime = Field(description="When the change happened at the provider (UTC, ISO-8601 with Z).")
    poll_date: datetime | None = Field(default=None, description="Start of the poll that saw it (polling only).")
    element_key: str
    hub_key: str
    instance_id: str
    instance_name: str
    instance_tags: list[str] = Field(default_factory=list)
    source: EventSource
    raw: Any = Field(description="The provider record (polling) or the provider body (webhooks).")

    @field_validator("date", "poll_date")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must be timezone-aware")
        return value.astimezone(UTC) if value is not None else None

    @field_serializer("date")
    def _date_z(self, value: datetime) -> str:
        return isoformat_z(value)

    @field_serializer("poll_date")
    def _poll_date_z(self, value: datetime | None) -> str | None:
        return isoformat_z(value) if value is not None else None

    @property
    def key(self) -> str:
        """Kafka key: per-object order within the events topic."""
        return f"{self.instance_id}:{self.object_type}:{self.object_id}"

    def cloudevent_headers(self) -> list[tuple[str, bytes]]:
        """CloudEvents 1.0 Kafka protocol binding, binary mode: attributes as `ce_` headers."""
        return [
            ("ce_specversion", b"1.0"),
            ("ce_id", self.event_id.encode()),
            ("ce_source", f"/connector-events/{self.element_key}/{self.instance_id}".encode()),
            ("ce_type", f"io.connector-events.{self.object_type}.{self.event_type.lower()}".encode()),
            ("ce_time", isoformat_z(self.date).encode()),
            ("ce_subject", f"{self.object_type}/{self.object_id}".encode()),
            ("content-type", b"application/json"),
        ]
