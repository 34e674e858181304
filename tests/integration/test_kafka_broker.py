"""The broker the service relies on, driven with aiokafka: topics, idempotent produce, transactions, fencing.

These pin the Kafka behaviour that the bus and the poll committer build on, on the broker version CI runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import ProducerFenced
from aiokafka.structs import ConsumerRecord

from tests.kafka_helpers import consume, consume_all, wait_for

pytestmark = pytest.mark.kafka


@pytest.fixture
async def admin(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await client.start()
    yield client
    await client.close()


async def _create_topic(admin: AIOKafkaAdminClient, name: str, partitions: int = 1) -> None:
    await admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])

    async def listed() -> bool:
        return name in await admin.list_topics()

    await wait_for(listed, timeout=10, what=f"topic {name} listed")


def _transactional(bootstrap: str, transactional_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=transactional_id, acks="all")


async def test_create_topic_produce_idempotent_and_consume(
    kafka_bootstrap: str, admin: AIOKafkaAdminClient, topic_suffix: str
) -> None:
    topic = f"broker-plain-{topic_suffix}"
    await _create_topic(admin, topic, partitions=3)
    described = await admin.describe_topics([topic])
    assert len(described[0]["partitions"]) == 3

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for i in range(10):
            await producer.send_and_wait(topic, f"v{i}".encode(), key=f"k{i % 3}".encode(), headers=[("h", b"1")])
    finally:
        await producer.stop()

    records = await consume(kafka_bootstrap, topic, 10)
    assert sorted(r.value for r in records) == sorted(f"v{i}".encode() for i in range(10))
    assert all(list(r.headers) == [("h", b"1")] for r in records)
    # Same key, same partition, in order: the per-object order the service promises.
    by_key: dict[bytes | None, set[int]] = {}
    for r in records:
        by_key.setdefault(r.key, set()).add(r.partition)
    assert all(len(partitions) == 1 for partitions in by_key.values())
    # Nothing beyond the ten: idempotence wrote no duplicate.
    assert len(await consume_all(kafka_bootstrap, topic)) == 10


async def test_transaction_commit_is_visible_abort_is_not(
    kafka_bootstrap: str, admin: AIOKafkaAdminClient, topic_suffix: str
) -> None:
    topic = f"broker-txn-{topic_suffix}"
    await _create_topic(admin, topic)
    producer = _transactional(kafka_bootstrap, f"broker-txn-{topic_suffix}")
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send(topic, b"committed-1")
            await producer.send(topic, b"committed-2")

        await producer.begin_transaction()
        await producer.send_and_wait(topic, b"aborted")
        await producer.abort_transaction()

        async with producer.transaction():
            await producer.send(topic, b"committed-3")
    finally:
        await producer.stop()

    committed = await consume_all(kafka_bootstrap, topic, isolation_level="read_committed")
    assert [r.value for r in committed] == [b"committed-1", b"committed-2", b"committed-3"]
    # The aborted record is in the log, so read_committed really filtered it.
    uncommitted = await consume(kafka_bootstrap, topic, 4)
    assert [r.value for r in uncommitted] == [b"committed-1", b"committed-2", b"aborted", b"committed-3"]


async def test_second_producer_with_same_transactional_id_fences_the_first(
    kafka_bootstrap: str, admin: AIOKafkaAdminClient, topic_suffix: str
) -> None:
    topic = f"broker-fence-{topic_suffix}"
    await _create_topic(admin, topic)
    transactional_id = f"broker-fence-{topic_suffix}"
    zombie = _transactional(kafka_bootstrap, transactional_id)
    await zombie.start()
    successor = _transactional(kafka_bootstrap, transactional_id)
    try:
        await zombie.begin_transaction()
        await zombie.send_and_wait(topic, b"from-zombie")

        # init_transactions of the new owner bumps the epoch and aborts the zombie's open transaction.
        await successor.start()
        with pytest.raises(ProducerFenced):
            await zombie.commit_transaction()

        async with successor.transaction():
            await successor.send(topic, b"from-successor")
    finally:
        await successor.stop()
        await zombie.stop()

    committed = await consume_all(kafka_bootstrap, topic, isolation_level="read_committed")
    assert [r.value for r in committed] == [b"from-successor"]


async def test_consumer_group_commits_offsets_inside_a_transaction(
    kafka_bootstrap: str, admin: AIOKafkaAdminClient, topic_suffix: str
) -> None:
    # Consume-transform-produce, as pollers do: a group member reads, and a transaction writes the output
    # together with the group's offsets.
    source, sink, group = (f"broker-{name}-{topic_suffix}" for name in ("source", "sink", "group"))
    await _create_topic(admin, source, partitions=2)
    await _create_topic(admin, sink)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for i in range(4):
            await producer.send_and_wait(source, f"in{i}".encode(), partition=i % 2)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=kafka_bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    txn = _transactional(kafka_bootstrap, f"broker-ctp-{topic_suffix}")
    await consumer.start()
    await txn.start()
    try:
        seen: list[ConsumerRecord[bytes, bytes]] = []

        async def four_read() -> bool:
            batches = await consumer.getmany(timeout_ms=200)
            seen.extend(r for batch in batches.values() for r in batch)
            return len(seen) >= 4

        await wait_for(four_read, timeout=20, what="the group member reads 4 records")
        assert consumer.assignment() == {TopicPartition(source, 0), TopicPartition(source, 1)}
        offsets = {tp: await consumer.position(tp) for tp in consumer.assignment()}
        async with txn.transaction():
            for r in seen:
                await txn.send(sink, (r.value or b"").replace(b"in", b"out"))
            await txn.send_offsets_to_transaction(offsets, group)
    finally:
        await txn.stop()
        await consumer.stop()

    out = await consume_all(kafka_bootstrap, sink, isolation_level="read_committed")
    assert sorted(r.value for r in out) == [b"out0", b"out1", b"out2", b"out3"]
    committed = await admin.list_consumer_group_offsets(group)
    assert {tp: meta.offset for tp, meta in committed.items()} == {
        TopicPartition(source, 0): 2,
        TopicPartition(source, 1): 2,
    }
