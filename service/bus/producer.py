"""The idempotent producer of the webhook path and of the admin writes: `publish` returns after acks=all."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from service.bus.records import OutgoingRecord
from service.config import KafkaSettings
from service.errors import PublishError
from service.lifecycle import Component

log = logging.getLogger(__name__)


async def send(producer: AIOKafkaProducer, record: OutgoingRecord) -> asyncio.Future[Any]:
    """Hand one record to an aiokafka producer; the returned future resolves when the broker acknowledged it."""
    future: asyncio.Future[Any] = await producer.send(
        record.topic, value=record.value, key=record.key, headers=record.headers or None, partition=record.partition
    )
    return future


class EventBus(Component):
    """Writes records with acks=all and idempotence, one producer per process.

    `start` connects the producer (raises `PublishError` when Kafka cannot be reached); `stop` flushes what was
    accepted and closes it; both are safe to repeat. `publish` raises `PublishError` unless Kafka acknowledged
    every record.
    """

    def __init__(self, kafka: KafkaSettings, *, linger_ms: int = 2, send_timeout: float = 15.0) -> None:
        self._kafka = kafka
        self._linger_ms = linger_ms
        # A webhook caller waits on this; past it we answer 503 and the provider retries.
        self._send_timeout = send_timeout
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Connect the producer."""
        self._claim_start()
        producer = AIOKafkaProducer(
            **self._kafka.client_options(),
            acks="all",
            enable_idempotence=True,
            linger_ms=self._linger_ms,
            compression_type="gzip",
        )
        try:
            await producer.start()
        except KafkaError as exc:
            await producer.stop()
            raise PublishError(f"cannot connect to Kafka at {self._kafka.bootstrap_servers}: {exc}") from exc
        self._producer = producer

    @property
    def running(self) -> bool:
        """Whether the producer is connected and accepting records."""
        return self._producer is not None

    async def stop(self) -> None:
        """Flush and close; idempotent."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()


    async def publish(self, records: Sequence[OutgoingRecord]) -> list[tuple[int, int]]:
        """Send the records and wait until Kafka acknowledged all of them.

        Returns:
            (partition, offset) of each record, in order.

        Raises:
            PublishError: not started, or a record was not acknowledged in time (nothing is reported as sent).
        """
        producer = self._producer
        if producer is None:
            raise PublishError("event bus is not running")
        try:
            async with asyncio.timeout(self._send_timeout):
                futures = [await send(producer, record) for record in records]
                metadata: list[Any] = await asyncio.gather(*futures)
        except (KafkaError, TimeoutError) as exc:
            raise PublishError(f"Kafka did not acknowledge {len(records)} record(s): {exc!r}") from exc
        return [(m.partition, m.offset) for m in metadata]
