"""Helpers of the polling integration tests: register elements and instances, collect a topic, read metrics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer
from prometheus_client import CollectorRegistry

from service.config import Settings
from service.registry.models import Element, Instance
from service.registry.store import RegistryWriter
from tests.kafka_helpers import Record

ELEMENT = "fakecrm"
BACKFILL = datetime(2025, 12, 1, tzinfo=UTC)


def element(
    resources: dict[str, Any], *, pagination: dict[str, Any] | None = None, refresh: str = "0.01", key: str = ELEMENT
) -> Element:
    """A polling element with `resources` as its `event.poller.configuration`."""
    return Element.model_validate({
        "key": key,
        "hubKey": "crm",
        "configuration": {
            "event.vendor.type": "polling",
            "event.poller.refresh_interval": refresh,
            "event.poller.configuration": resources,
        },
        **({"pagination": pagination} if pagination else {}),
    })


def instance(
    instance_id: str, base_url: str, *, key: str = ELEMENT, backfill: datetime | None = BACKFILL,
    configuration: dict[str, Any] | None = None,
) -> Instance:
    """An events-enabled instance of `key` at `base_url`."""
    return Instance.model_validate({
        "id": instance_id,
        "elementKey": key,
        "name": f"Instance {instance_id}",
        "tags": ["test"],
        "baseUrl": base_url,
        "backfillFrom": backfill.isoformat() if backfill else None,
        "createdAt": datetime.now(UTC).isoformat(),
        "configuration": {"event.notification.enabled": "true", **(configuration or {})},
    })


async def register(
    settings: Settings, elements: list[Element] | None = None, instances: list[Instance] | None = None
) -> None:
    """Write element and instance definitions (one transaction)."""
    writer = RegistryWriter(settings.kafka, settings.topics)
    records = [writer.element_record(e, key=e.key) for e in elements or []]
    records += [writer.instance_record(i, key=i.id) for i in instances or []]
    await writer.write(records)


async def delete(settings: Settings, instance_id: str) -> None:
    """Tombstone an instance."""
    writer = RegistryWriter(settings.kafka, settings.topics)
    await writer.write([writer.instance_record(None, key=instance_id)])


class Collector:
    """Every committed record of a topic, collected in the background from the beginning."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.records: list[Record] = []
        self._consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
            auto_offset_reset="earliest", isolation_level="read_committed", metadata_max_age_ms=1000,
        )
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Collector:
        await self._consumer.start()
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    async def _run(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            for messages in batches.values():
                self.records.extend(messages)

    def values(self) -> list[dict[str, Any]]:
        """Parsed JSON values of the non-tombstone records."""
        return [orjson.loads(r.value) for r in self.records if r.value is not None]

    def latest(self) -> dict[str, dict[str, Any] | None]:
        """Key → last value (None for a tombstone): the compacted view."""
        table: dict[str, dict[str, Any] | None] = {}
        for r in self.records:
            if r.key is not None:
                table[r.key.decode()] = orjson.loads(r.value) if r.value is not None else None
        return table


@contextlib.asynccontextmanager
async def collectors(settings: Settings) -> AsyncIterator[tuple[Collector, Collector, Collector]]:
    """Collectors of the events, cursors and DLQ topics."""
    bootstrap = settings.kafka.bootstrap_servers
    async with (
        Collector(bootstrap, settings.topics.events) as events,
        Collector(bootstrap, settings.topics.cursors) as cursors,
        Collector(bootstrap, settings.topics.dlq) as dlq,
    ):
        yield events, cursors, dlq


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    """The value of one metric sample (0 when absent)."""
    value = registry.get_sample_value(name, labels)
    return value or 0.0


def polls(registry: CollectorRegistry, outcome: str = "ok", resource: str = "contacts") -> float:
    """Polls of `resource` finished with `outcome`."""
    return sample(
        registry, "connector_events_polls_total", element=ELEMENT, resource=resource, outcome=outcome,
    )
