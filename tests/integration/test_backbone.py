"""The backbone on a real broker: topics, registry apply, transactions and fencing, CloudEvents, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary
from cloudevents.core.formats.json import JSONFormat

from service.app import prepare_topics
from service.bus.records import OutgoingRecord, event_record, model_record
from service.bus.topics import ensure_topics, topic_specs
from service.bus.transactions import PartitionCommitter
from service.config import Settings
from service.errors import ConfigError, PublishError, TopicMismatchError
from service.events import EventSource, EventType, NormalizedEvent, event_id
from service.metrics import Metrics
from service.registry.manifest import parse_manifest
from service.registry.operations import apply_manifest, delete_instance
from service.registry.store import RegistryReader
from service.registry.validation import instance_checks
from tests.kafka_helpers import consume, consume_all

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[2]

MANIFEST = """
elements:
  - key: democrm
    hubKey: crm
    configuration:
      event.vendor.type: polling
      event.poller.refresh_interval: "1"
      event.poller.configuration:
        contacts:
          url: /contacts?where=lastModifiedDate>='${gmtDate:yyyy-MM-dd'T'HH:mm:ss'Z'}'
          idField: id
          datesConfiguration:
            updatedDateField: lastModifiedDate
            updatedDateFormat: yyyy-MM-dd'T'HH:mm:ss.SSS'Z'
            createdDateField: createdDate
            createdDateFormat: yyyy-MM-dd'T'HH:mm:ss.SSS'Z'
instances:
  - id: crm-1
    elementKey: democrm
    name: Demo CRM one
    tags: [demo]
    baseUrl: http://127.0.0.1:8081/api
    auth: {type: bearer, token: "env:DEMO_TOKEN"}
    configuration:
      event.notification.enabled: "true"
"""


def _event(n: int) -> NormalizedEvent:
    return NormalizedEvent(
        event_id=event_id("test", str(n)),
        event_type=EventType.UPDATED,
        object_type="contacts",
        object_id=str(n),
        date=datetime(2026, 11, 1, 12, 0, n, tzinfo=UTC),
        element_key="democrm",
        hub_key="crm",
        instance_id="crm-1",
        instance_name="Demo",
        source=EventSource.POLLING,
        raw={"id": n},
    )


async def test_topics_are_created_with_their_policies(settings: Settings) -> None:
    await prepare_topics(settings)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap_servers)
    await admin.start()
    try:
        described = {
            t["topic"]: len(t["partitions"])
            for t in await admin.describe_topics(
                [
                    settings.topics.instances,
                    settings.topics.cursors,
                    settings.topics.events,
                ]
            )
        }
        # A second check of the same topics passes: start-up is repeatable.
        await ensure_topics(admin, topic_specs(settings.topics), replication_factor=1, create=True)
    finally:
        await admin.close()
    assert described[settings.topics.instances] == described[settings.topics.cursors] == 3
    assert described[settings.topics.events] == 2


async def test_existing_topic_with_wrong_policy_or_count_is_refused(settings: Settings) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(settings.topics.cursors, 3, 1, topic_configs={"cleanup.policy": "delete"}),
                NewTopic(settings.topics.instances, 5, 1, topic_configs={"cleanup.policy": "compact"}),
            ]
        )
    finally:
        await admin.close()
    with pytest.raises(TopicMismatchError) as raised:
        await prepare_topics(settings)
    message = str(raised.value)
    assert f"{settings.topics.cursors!r} has cleanup.policy=delete, expected compact" in message
    assert f"{settings.topics.instances!r} has 5 partitions, expected 3" in message


async def test_apply_round_trips_and_delete_tombstones(settings: Settings) -> None:
    await prepare_topics(settings)
    result = await apply_manifest(settings, parse_manifest(MANIFEST), instance_checks())
    assert result.instances == ["crm-1"]
    async with RegistryReader(settings.kafka, settings.topics) as registry:
        resolved = registry.resolve("crm-1")
        assert resolved is not None
        assert resolved.polling_enabled
        assert resolved.instance.tags == ["demo"]
        assert resolved.instance.created_at is not None
        # The secret reference is stored as written, not masked.
        assert resolved.instance.auth.model_dump(mode="python")["token"].get_secret_value() == "env:DEMO_TOKEN"
        first_seen = resolved.instance.created_at
    # Re-applying keeps the first-seen time (it starts the first poll window).
    await apply_manifest(settings, parse_manifest(MANIFEST), instance_checks())
    await delete_instance(settings, "crm-1")
    async with RegistryReader(settings.kafka, settings.topics) as registry:
        assert "crm-1" not in registry.instances
        assert "democrm" in registry.elements
    records = await consume(settings.kafka.bootstrap_servers, settings.topics.instances, 3)
    assert records[-1].value is None
    assert orjson.loads(records[1].value or b"")["createdAt"] == orjson.loads(records[0].value or b"")["createdAt"]
    assert first_seen is not None


async def test_invalid_manifest_is_refused_and_writes_nothing(settings: Settings) -> None:
    await prepare_topics(settings)
    bad = (
        MANIFEST.replace("idField: id", "idField: id\n          pageSize: lots")
        + """
  - id: crm-2
    elementKey: nosuchelement
    name: Second
"""
    )
    with pytest.raises(ConfigError) as raised:
        await apply_manifest(settings, parse_manifest(bad), instance_checks())
    assert "unknown element 'nosuchelement'" in str(raised.value)
    assert "pageSize" in str(raised.value)
    with pytest.raises(ConfigError, match=r"instances\[0\]\.name: Field required"):
        parse_manifest("instances:\n  - id: x\n    elementKey: democrm\n")
    assert await consume_all(settings.kafka.bootstrap_servers, settings.topics.instances) == []
    assert await consume_all(settings.kafka.bootstrap_servers, settings.topics.elements) == []


async def test_transaction_commits_events_and_cursors_together_or_neither(settings: Settings) -> None:
    await prepare_topics(settings)
    metrics = Metrics()
    bootstrap = settings.kafka.bootstrap_servers
    async with PartitionCommitter(settings.kafka, 1, metrics, linger=0.05) as committer:
        # Two polls finishing together: one transaction (group commit).
        await asyncio.gather(
            committer.commit(
                [
                    event_record(settings.topics.events, _event(1)),
                    model_record(settings.topics.cursors, "crm-1/contacts", _event(1), partition=1),
                ]
            ),
            committer.commit([event_record(settings.topics.events, _event(2))]),
        )
        aborted = [
            event_record(settings.topics.events, _event(3)),
            model_record(settings.topics.cursors, "crm-1/deals", _event(3), partition=1),
        ]
        with pytest.raises(RuntimeError, match="provider broke"):
            await _send_then_fail(committer, aborted)
    events = await consume_all(bootstrap, settings.topics.events, isolation_level="read_committed")
    cursors = await consume_all(bootstrap, settings.topics.cursors, isolation_level="read_committed")
    assert sorted(orjson.loads(r.value or b"")["objectId"] for r in events) == ["1", "2"]
    assert [(r.key, r.partition) for r in cursors] == [(b"crm-1/contacts", 1)]
    # The aborted records reached the log but stay invisible to read_committed consumers.
    uncommitted = await consume_all(bootstrap, settings.topics.events)
    assert len(uncommitted) == 3
    assert metrics.commits.labels("committed")._value.get() == 1
    assert metrics.commits.labels("aborted")._value.get() == 1


async def _send_then_fail(committer: PartitionCommitter, records: list[OutgoingRecord]) -> None:
    async with committer.exclusive() as txn:
        await txn.send(records)
        raise RuntimeError("provider broke")


async def test_second_writer_of_a_partition_fences_the_first(settings: Settings) -> None:
    await prepare_topics(settings)
    fenced: list[int] = []
    old = PartitionCommitter(settings.kafka, 2, Metrics(), linger=0, on_fenced=fenced.append)
    await old.start()
    try:
        await old.commit([event_record(settings.topics.events, _event(1))])
        async with PartitionCommitter(settings.kafka, 2, Metrics(), linger=0) as new:
            with pytest.raises(PublishError):
                await old.commit([event_record(settings.topics.events, _event(2))])
            await new.commit([event_record(settings.topics.events, _event(3))])
    finally:
        await old.stop()
    assert fenced == [2]
    assert old.fenced
    bootstrap = settings.kafka.bootstrap_servers
    events = await consume_all(bootstrap, settings.topics.events, isolation_level="read_committed")
    assert sorted(orjson.loads(r.value or b"")["objectId"] for r in events) == ["1", "3"]


async def test_event_headers_parse_as_a_cloudevent(settings: Settings) -> None:
    await prepare_topics(settings)
    async with PartitionCommitter(settings.kafka, 0, Metrics(), linger=0) as committer:
        await committer.commit([event_record(settings.topics.events, _event(7))])
    [record] = await consume(settings.kafka.bootstrap_servers, settings.topics.events, 1)
    assert record.key == b"crm-1:contacts:7"
    message = KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value or b"")
    cloud_event = from_binary(message, JSONFormat())
    assert cloud_event.get_id() == event_id("test", "7")
    assert cloud_event.get_specversion() == "1.0"
    assert cloud_event.get_type() == "io.connector-events.contacts.updated"
    assert cloud_event.get_time() == datetime(2026, 11, 1, 12, 0, 7, tzinfo=UTC)
    data = cloud_event.get_data()
    assert isinstance(data, dict)
    assert data["eventType"] == "UPDATED"


async def test_sigterm_stops_the_service_cleanly_within_the_grace_period(settings: Settings, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CONNECTOR_EVENTS_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "CONNECTOR_EVENTS_HTTP__PORT": "0",
        "CONNECTOR_EVENTS_GRACE_PERIOD": "5s",
        "CONNECTOR_EVENTS_LOG_FORMAT": "json",
    }
    for name in ("events", "dlq", "cursors", "instances", "elements"):
        env[f"CONNECTOR_EVENTS_TOPICS__{name.upper()}"] = getattr(settings.topics, name)
    env["CONNECTOR_EVENTS_TOPICS__PARTITIONS"] = "3"
    log_path = tmp_path / "service.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "run"], cwd=REPO, env=env, stderr=log_file, stdout=log_file
        )
        try:
            port = await _wait_for_port(log_path, process)
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                    assert response.status == 200
                async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                    assert "connector_events_polls_total" in await response.text()
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(process.wait, 15)
        finally:
            if process.poll() is None:
                process.kill()
    assert code == 0, log_path.read_text()
    assert time.monotonic() - started < 5 + 2
    assert b'"service stopped"' in log_path.read_bytes()


async def _wait_for_port(log_path: Path, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in log_path.read_bytes().splitlines():
            if line.startswith(b"{") and b'"service started"' in line:
                return int(orjson.loads(line)["port"])
        if process.poll() is not None:
            raise AssertionError(f"service exited with {process.returncode}: {log_path.read_text()}")
        await asyncio.sleep(0.1)
    raise TimeoutError(f"service did not start: {log_path.read_text()}")
