"""Poll cursors: where each (instance, resource) stands, and the per-partition table read from the cursors topic.

A cursor is keyed `{instanceId}/{resource}` and lives in the cursors-topic partition of its instance, so the owner
of instances partition p reads and writes cursors partition p only, inside p's transactions.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from service.bus.records import OutgoingRecord, loads, model_record
from service.bus.tables import table_consumer
from service.config import KafkaSettings
from service.errors import PublishError

log = logging.getLogger(__name__)

Outcome = Literal["ok", "failed", "page_cap"]


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, extra="ignore")


class CursorStatus(_Camel):
    """How the last polls went (what an operator looks at first)."""

    last_outcome: Outcome | None = None
    last_error: str | None = None
    last_polled_at: datetime | None = None
    consecutive_failures: int = Field(default=0, ge=0)


class Cursor(_Camel):
    """The committed position of one (instance, resource).

    Attributes:
        last_poll_at: start (`end` of the window) of the last committed poll; None before the first success.
        boundary: (objectId, date) pairs emitted with a date >= the next window start (dedup at the edge).
    """

    instance_id: str
    resource: str
    last_poll_at: datetime | None = None
    boundary: list[tuple[str, datetime]] = Field(default_factory=list)
    status: CursorStatus = Field(default_factory=CursorStatus)

    @field_validator("last_poll_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must be timezone-aware")
        return value

    @property
    def key(self) -> str:
        """The cursors-topic key."""
        return cursor_key(self.instance_id, self.resource)


def cursor_key(instance_id: str, resource: str) -> str:
    """`{instanceId}/{resource}` (instance ids cannot contain `/`)."""
    return f"{instance_id}/{resource}"


def cursor_record(topic: str, partition: int, cursor: Cursor) -> OutgoingRecord:
    """The record that stores `cursor` in its instance's partition."""
    return model_record(topic, cursor.key, cursor, partition=partition)


def tombstone_record(topic: str, partition: int, key: str) -> OutgoingRecord:
    """The record that deletes the cursor `key` (its instance or resource is gone)."""
    return model_record(topic, key, None, partition=partition)


class CursorTable:
    """The committed cursors of one partition, in memory; the poller updates it after each commit."""

    def __init__(self, partition: int, cursors: dict[str, Cursor] | None = None) -> None:
        self.partition = partition
        self.cursors: dict[str, Cursor] = cursors or {}

    def get(self, instance_id: str, resource: str) -> Cursor | None:
        """The cursor of (instance, resource), None before its first commit."""
        return self.cursors.get(cursor_key(instance_id, resource))

    def put(self, cursor: Cursor) -> None:
        """Record a committed cursor."""
        self.cursors[cursor.key] = cursor

    def drop(self, key: str) -> None:
        """Forget a cursor (its tombstone was committed)."""
        self.cursors.pop(key, None)

    def keys_of(self, instance_id: str) -> list[str]:
        """Keys of the instance's cursors."""
        prefix = f"{instance_id}/"
        return [key for key in self.cursors if key.startswith(prefix)]

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """Apply one record of the cursors topic; invalid values are logged and skipped."""
        if key is None:
            return
        name = key.decode(errors="replace")
        if value is None:
            self.cursors.pop(name, None)
            return
        try:
            self.cursors[name] = Cursor.model_validate(loads(value))
        except (ValidationError, ValueError) as exc:
            log.warning("skipping invalid cursor %r in partition %d: %s", name, self.partition, exc)

    @classmethod
    async def load(cls, kafka: KafkaSettings, topic: str, partition: int) -> CursorTable:
        """Read partition `partition` of the cursors topic to its end (committed records only).

        Raises:
            PublishError: Kafka cannot be reached.
        """
        table = cls(partition)
        tp = TopicPartition(topic, partition)
        consumer = table_consumer(kafka)
        try:
            await consumer.start()
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            end = (await consumer.end_offsets([tp]))[tp]
            while await consumer.position(tp) < end:
                batches = await consumer.getmany(tp, timeout_ms=500)
                for message in batches.get(tp, []):
                    table.apply(message.key, message.value)
        except KafkaError as exc:
            raise PublishError(f"cannot load cursors of partition {partition}: {exc!r}") from exc
        finally:
            await consumer.stop()
        return table
