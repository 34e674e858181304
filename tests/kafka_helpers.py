"""Helpers for tests against a real Kafka broker: read records from a topic, wait for a condition, with timeouts."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeAlias, TypeVar, overload

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

IsolationLevel = Literal["read_uncommitted", "read_committed"]
Record: TypeAlias = ConsumerRecord[bytes, bytes]
T = TypeVar("T")

_POLL_INTERVAL = 0.05


def _consumer(bootstrap: str, isolation_level: IsolationLevel) -> AIOKafkaConsumer:
    # No group: nothing is committed, and tests never wait for a rebalance.
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level=isolation_level,
        metadata_max_age_ms=1000,
    )


async def _fetch(consumer: AIOKafkaConsumer, records: list[Record], deadline: float, limit: int | None) -> None:
    remaining = deadline - time.monotonic()
    batches = await consumer.getmany(timeout_ms=int(max(0.0, min(remaining, 0.5)) * 1000), max_records=limit)
    for batch in batches.values():
        records.extend(batch)


async def _subscribed(
    consumer: AIOKafkaConsumer, topic: str, records: list[Record], deadline: float
) -> set[TopicPartition]:
    # Without a group the consumer takes every partition of the topic, once the topic is in its metadata
    # (a topic created a moment ago may not be yet).
    consumer.subscribe([topic])
    while not (assigned := consumer.assignment()):
        if time.monotonic() >= deadline:
            raise TimeoutError(f"topic {topic!r} has no partitions in the broker's metadata")
        await _fetch(consumer, records, deadline, None)
    return set(assigned)


async def consume(
    bootstrap: str,
    topic: str,
    n: int,
    *,
    timeout: float = 15.0,
    isolation_level: IsolationLevel = "read_uncommitted",
) -> list[Record]:
    """Read the first `n` records of `topic` from the beginning of all its partitions.

    Raises TimeoutError, saying how many records came, when fewer than `n` arrive within `timeout` seconds.
    Records come in offset order per partition; across partitions the order is the order of arrival.
    """
    deadline = time.monotonic() + timeout
    consumer = _consumer(bootstrap, isolation_level)
    await consumer.start()
    records: list[Record] = []
    try:
        await _subscribed(consumer, topic, records, deadline)
        while len(records) < n:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{len(records)} of {n} records from {topic!r} within {timeout}s")
            await _fetch(consumer, records, deadline, n - len(records))
    finally:
        await consumer.stop()
    return records[:n]


async def consume_all(
    bootstrap: str,
    topic: str,
    *,
    timeout: float = 15.0,
    isolation_level: IsolationLevel = "read_uncommitted",
) -> list[Record]:
    """Read every record of `topic` up to its current end (for read_committed, the last stable offset).

    Use it to check that something is *not* there (aborted, duplicated) without waiting for a timeout.
    """
    deadline = time.monotonic() + timeout
    consumer = _consumer(bootstrap, isolation_level)
    await consumer.start()
    records: list[Record] = []
    try:
        assigned = await _subscribed(consumer, topic, records, deadline)
        ends = await consumer.end_offsets(list(assigned))
        while any([await consumer.position(tp) < ends[tp] for tp in assigned]):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{topic!r} not read to its end offsets {ends} within {timeout}s")
            await _fetch(consumer, records, deadline, None)
    finally:
        await consumer.stop()
    return records


@overload
async def wait_for(
    predicate: Callable[[], Awaitable[T]], timeout: float, *, interval: float = ..., what: str = ...
) -> T: ...


@overload
async def wait_for(
    predicate: Callable[[], T], timeout: float, *, interval: float = ..., what: str = ...
) -> T: ...


async def wait_for(
    predicate: Callable[[], Any],
    timeout: float,
    *,
    interval: float = _POLL_INTERVAL,
    what: str = "condition",
) -> Any:
    """Call `predicate` (sync or async) until it returns a truthy value, and return that value.

    Raises TimeoutError naming `what` when `timeout` seconds pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not met within {timeout}s")
        await asyncio.sleep(interval)
