"""`connector-events tail`: events as JSON lines, read the way consumers should (read_committed)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import orjson
from aiokafka import AIOKafkaConsumer

from service.config import Settings


async def tail_events(
    settings: Settings, topic: str, from_beginning: bool, count: int | None, idle_timeout: float | None
) -> AsyncIterator[str]:
    """Yield each record of `topic` as a JSON line: the event, plus headers for dead letters."""
    consumer = AIOKafkaConsumer(
        topic,
        **settings.kafka.client_options(),
        group_id=f"connector-events-tail-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    await consumer.start()
    seen = 0
    try:
        while count is None or seen < count:
            batches = await consumer.getmany(timeout_ms=int((idle_timeout or 3600) * 1000), max_records=100)
            if not batches:
                if idle_timeout is not None:
                    return
                continue
            for messages in batches.values():
                for message in messages:
                    yield _line(message.value, message.headers, message.topic, message.partition, message.offset)
                    seen += 1
                    if count is not None and seen >= count:
                        return
    finally:
        await consumer.stop()


def _line(value: bytes | None, headers: tuple[tuple[str, bytes], ...], topic: str, partition: int, offset: int) -> str:
    try:
        body: object = orjson.loads(value) if value is not None else None
    except orjson.JSONDecodeError:
        body = (value or b"").decode(errors="replace")
    if isinstance(body, dict) and "eventId" in body:
        return orjson.dumps(body).decode()
    error = {name: raw.decode(errors="replace") for name, raw in headers if name.startswith("error_")}
    return orjson.dumps({"ref": f"{topic}/{partition}/{offset}", "headers": error, "value": body}).decode()
