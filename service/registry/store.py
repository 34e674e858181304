"""The registry's topics: an all-or-nothing writer (admin API, `apply`) and a reader that mirrors them in memory.

Elements and instances live in compacted topics keyed by element key and instance id; a delete writes a
tombstone, and a deleted instance's cursors get tombstones too (written by the owner of its partition).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from service.bus.producer import send
from service.bus.records import OutgoingRecord, loads, model_record
from service.bus.tables import table_consumer
from service.config import KafkaSettings, TopicSettings
from service.errors import PublishError
from service.lifecycle import Component, cancel_and_wait
from service.registry.models import Element, Instance, ResolvedInstance, resolve

log = logging.getLogger(__name__)

InstanceListener = Callable[[str, Instance | None], None]


class RegistryWriter:
    """Writes element and instance definitions, several in one Kafka transaction (all or nothing)."""

    def __init__(self, kafka: KafkaSettings, topics: TopicSettings) -> None:
        self._kafka = kafka
        self._topics = topics

    def element_record(self, element: Element | None, *, key: str) -> OutgoingRecord:
        """The record that upserts (or, with `None`, deletes) an element."""
        return model_record(self._topics.elements, key, element)

    def instance_record(self, instance: Instance | None, *, key: str) -> OutgoingRecord:
        """The record that upserts (or, with `None`, deletes) an instance."""
        return model_record(self._topics.instances, key, instance)

    async def write(self, records: Sequence[OutgoingRecord]) -> None:
        """Write all records in one transaction.

        Raises:
            PublishError: Kafka refused or did not answer; then none of the records is visible.
        """
        if not records:
            return
        # A fresh id per write: admin writes are rare and must not fence each other or the pollers.
        producer = AIOKafkaProducer(
            **self._kafka.client_options(),
            transactional_id=f"{self._kafka.transactional_id_prefix}-admin-{uuid.uuid4().hex}",
            enable_idempotence=True,
            acks="all",
        )
        try:
            await producer.start()
            async with producer.transaction():
                for record in records:
                    await send(producer, record)
        except KafkaError as exc:
            raise PublishError(f"registry write of {len(records)} record(s) failed: {exc!r}") from exc
        finally:
            await producer.stop()


class RegistryReader(Component):
    """An in-memory table of elements and instances, kept up to date from their compacted topics.

    `start` assigns the partitions, reads from the beginning, and returns once everything that existed at start
    is loaded (so callers see a complete registry); it raises `PublishError` when Kafka cannot be reached.
    `stop` is idempotent. Invalid entries in the topics are logged and skipped, never fatal.
    """

    def __init__(
        self,
        kafka: KafkaSettings,
        topics: TopicSettings,
        *,
        instance_partitions: Iterable[int] | None = None,
        read_elements: bool = True,
    ) -> None:
        self._kafka = kafka
        self._topics = topics
        self._instance_partitions = None if instance_partitions is None else sorted(set(instance_partitions))
        self._read_elements = read_elements
        self.elements: dict[str, Element] = {}
        self.instances: dict[str, Instance] = {}
        self._listeners: list[InstanceListener] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self.failed: BaseException | None = None

    def subscribe(self, listener: InstanceListener) -> None:
        """Call `listener(instance_id, instance or None)` on every instance change after the initial load."""
        self._listeners.append(listener)

    def resolve(self, instance_id: str) -> ResolvedInstance | None:
        """The instance and its element, or None when either is unknown."""
        return resolve(instance_id, self.instances, self.elements)

    async def start(self) -> None:
        """Load everything up to the current end of the topics, then follow them in the background."""
        self._claim_start()
        consumer = table_consumer(self._kafka)
        try:
            await consumer.start()
            partitions = await self._partitions(consumer)
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            self._consumer = consumer
            await self._load_until(consumer, ends)
        except BaseException as exc:
            await consumer.stop()
            self._consumer = None
            if isinstance(exc, KafkaError):
                raise PublishError(f"cannot load the registry: {exc!r}") from exc
            raise
        self._task = asyncio.create_task(self._follow(consumer), name="registry-reader")
        self._task.add_done_callback(self._task_done)

    async def stop(self) -> None:
        """Stop following; idempotent."""
        task, self._task = self._task, None
        await cancel_and_wait(task)
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()


    async def _partitions(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        partitions: list[TopicPartition] = []
        if self._read_elements:
            found = consumer.partitions_for_topic(self._topics.elements) or await _fetch_partitions(
                consumer, self._topics.elements
            )
            partitions += [TopicPartition(self._topics.elements, p) for p in sorted(found)]
        wanted = self._instance_partitions
        if wanted is None:
            wanted = sorted(await _fetch_partitions(consumer, self._topics.instances))
        partitions += [TopicPartition(self._topics.instances, p) for p in wanted]
        return partitions

    async def _load_until(self, consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> None:
        remaining = {tp: end for tp, end in ends.items() if end > 0}
        while remaining:
            batches = await consumer.getmany(timeout_ms=500)
            for messages in batches.values():
                for message in messages:
                    self._apply(message.topic, message.key, message.value, notify=False)
            for tp in list(remaining):
                if await consumer.position(tp) >= remaining[tp]:
                    del remaining[tp]

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=1000)
            for messages in batches.values():
                for message in messages:
                    self._apply(message.topic, message.key, message.value, notify=True)

    def _apply(self, topic: str, key: bytes | None, value: bytes | None, *, notify: bool) -> None:
        if key is None:
            return
        name = key.decode(errors="replace")
        try:
            if topic == self._topics.elements:
                self._apply_element(name, value)
            else:
                self._apply_instance(name, value, notify=notify)
        except (ValidationError, ValueError) as exc:
            log.warning("skipping invalid registry entry %r in %s: %s", name, topic, exc)

    def _apply_element(self, key: str, value: bytes | None) -> None:
        if value is None:
            self.elements.pop(key, None)
        else:
            self.elements[key] = Element.model_validate(loads(value))

    def _apply_instance(self, key: str, value: bytes | None, *, notify: bool) -> None:
        instance = None if value is None else Instance.model_validate(loads(value))
        if instance is None:
            self.instances.pop(key, None)
        else:
            self.instances[key] = instance
        if notify:
            for listener in self._listeners:
                listener(key, instance)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.failed = task.exception()
            log.error("registry reader crashed", exc_info=self.failed)


async def _fetch_partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    """Partitions of `topic` (the consumer's metadata may not know the topic yet)."""
    client: Any = consumer._client  # aiokafka has no public metadata refresh for assign()
    await client.force_metadata_update()
    found = client.cluster.partitions_for_topic(topic)
    if not found:
        raise PublishError(f"topic {topic!r} does not exist")
    return set(found)


def stamp_created(instance: Instance, existing: Instance | None, now: datetime | None = None) -> Instance:
    """Keep the first-seen time of an instance across updates (it starts the first poll window)."""
    created = existing.created_at if existing is not None and existing.created_at else None
    return instance.model_copy(update={"created_at": created or instance.created_at or now or datetime.now(UTC)})
