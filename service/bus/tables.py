"""Reading compacted topics as tables: from the beginning, committed records only, no consumer group."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer

from service.config import KafkaSettings


def table_consumer(kafka: KafkaSettings) -> AIOKafkaConsumer:
    """A consumer for `assign()`-ed partitions of a compacted topic (registry, cursors).

    read_committed: an aborted registry write or cursor transaction must never be taken for state.
    """
    return AIOKafkaConsumer(
        **kafka.client_options(),
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
    )
