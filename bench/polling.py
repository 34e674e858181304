"""Poller throughput on a real broker against two ceilings measured in the same run, and the cost of idling.

1. Ceiling "fetch": `ProviderClient` reading every page of a local fake provider (no Kafka).
2. Ceiling "produce": a plain idempotent aiokafka producer sending the same events (no HTTP, no transactions).
3. Pipeline: a `PollerWorker` polling the same pages into Kafka (classify, events, transactions, cursor).
4. Idle: 10,000 scheduled (instance, resource) pairs whose next poll is an hour away: CPU and memory.

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 python bench/polling.py [--records 20000] [--idle 10000]

Prints ratios (pipeline / ceiling), never asserts on time. Without a broker at KAFKA_BOOTSTRAP_SERVERS, one is
started with deploy/kafka.sh (that port) and left running.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import multiprocessing
import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from service.app import prepare_topics  # noqa: E402 - after the repository is on the path
from service.bus.producer import send  # noqa: E402
from service.bus.records import OutgoingRecord, event_record, model_record  # noqa: E402
from service.config import Settings, load_settings  # noqa: E402
from service.cursors import Cursor, CursorStatus, cursor_record  # noqa: E402
from service.events import EventSource, EventType, NormalizedEvent, event_id  # noqa: E402
from service.health import Health  # noqa: E402
from service.metrics import Metrics  # noqa: E402
from service.polling.fetch import FetchRequest, ProviderClient  # noqa: E402
from service.polling.paginate import HubPagination  # noqa: E402
from service.polling.worker import PollerWorker  # noqa: E402
from service.registry.models import Element, Instance  # noqa: E402
from service.registry.store import RegistryWriter  # noqa: E402
from tests.fake_provider import FakeProvider, iso_millis, make_records  # noqa: E402

ISO = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
PAGE = 200


def ensure_broker(bootstrap: str) -> str:
    """The broker's address, starting one with deploy/kafka.sh when nothing answers there."""
    host, _, port = bootstrap.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1.0):
            return bootstrap
    except OSError:
        pass
    print(f"no broker at {bootstrap}: starting one with deploy/kafka.sh (port {port})", file=sys.stderr)
    started = subprocess.run(  # noqa: S603 - our own script
        ["bash", str(REPO / "deploy" / "kafka.sh"), "start"],  # noqa: S607
        env={**os.environ, "KAFKA_PORT": port}, capture_output=True, text=True, check=True,
    )
    return started.stdout.strip().splitlines()[-1]


def settings_for_run(bootstrap: str) -> Settings:
    """Settings with topics of this run only."""
    suffix = uuid.uuid4().hex[:8]
    return load_settings(
        kafka={"bootstrap_servers": bootstrap, "transactional_id_prefix": f"bench-{suffix}"},
        topics={
            "events": f"bench-events-{suffix}", "dlq": f"bench-dlq-{suffix}", "cursors": f"bench-cursors-{suffix}",
            "instances": f"bench-instances-{suffix}", "elements": f"bench-elements-{suffix}",
            "partitions": 3, "events_partitions": 3,
        },
        polling={"group_id": f"bench-pollers-{suffix}"},
        log_level="WARNING",
    )


def element(refresh_minutes: str) -> Element:
    """The fake CRM element, all pages read each poll (no date filter)."""
    return Element.model_validate({
        "key": "benchcrm",
        "configuration": {
            "event.vendor.type": "polling",
            "event.poller.refresh_interval": refresh_minutes,
            "event.poller.configuration": {
                "contacts": {
                    "url": "/contacts", "idField": "id", "pageSize": PAGE,
                    "datesConfiguration": {
                        "updatedDateField": "lastModifiedDate", "updatedDateFormat": ISO,
                        "createdDateField": "createdDate", "createdDateFormat": ISO,
                    },
                },
            },
        },
    })


def instance(instance_id: str, base_url: str) -> Instance:
    """An events-enabled instance backfilling from before every record."""
    return Instance.model_validate({
        "id": instance_id, "elementKey": "benchcrm", "name": instance_id, "baseUrl": base_url,
        "backfillFrom": "2025-01-01T00:00:00Z", "createdAt": datetime.now(UTC).isoformat(),
        "configuration": {"event.notification.enabled": "true"},
    })


async def ceiling_fetch(base_url: str, records: int) -> float:
    """Records per second read by the provider client alone."""
    request = FetchRequest(
        element_key="benchcrm", instance_id="bench", resource="contacts", base_url=base_url, url="/contacts",
        pagination=HubPagination(), page_size=PAGE, max_pages=10_000,
    )
    async with ProviderClient() as client:
        started = time.perf_counter()
        count = 0
        async for page in client.pages(request):
            count += len(page.records)
        elapsed = time.perf_counter() - started
    assert count == records, count
    return count / elapsed


def events_of(records: list[dict[str, Any]], topic: str) -> list[OutgoingRecord]:
    """The event records the pipeline writes for these provider records."""
    out = []
    poll_date = datetime.now(UTC)
    for raw in records:
        date = datetime.fromisoformat(raw["lastModifiedDate"].replace("Z", "+00:00"))
        event = NormalizedEvent(
            event_id=event_id("bench", "contacts", raw["id"], date.isoformat(), "CREATED"),
            event_type=EventType.CREATED, object_type="contacts", object_id=raw["id"], date=date,
            poll_date=poll_date, element_key="benchcrm", hub_key="general", instance_id="bench",
            instance_name="bench", source=EventSource.POLLING, raw=raw,
        )
        out.append(event_record(topic, event))
    return out


async def ceiling_produce(settings: Settings, records: list[OutgoingRecord]) -> float:
    """Events per second sent by a plain idempotent producer (acks=all), same compression and linger."""
    producer = AIOKafkaProducer(
        **settings.kafka.client_options(), acks="all", enable_idempotence=True, linger_ms=5,
        compression_type="gzip",
    )
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [await send(producer, record) for record in records]
        await asyncio.gather(*futures)
        elapsed = time.perf_counter() - started
    finally:
        await producer.stop()
    return len(records) / elapsed


async def wait_until(predicate: Any, limit: float, what: str) -> None:
    """Poll `predicate` until true (the bench's own wait, with a clear failure)."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.01)


async def pipeline(settings: Settings, base_url: str, records: int) -> float:
    """Events per second from the first poll's start to the commit of its last event."""
    await RegistryWriter(settings.kafka, settings.topics).write([
        model_record(settings.topics.elements, "benchcrm", element("60")),
        model_record(settings.topics.instances, "bench", instance("bench", base_url)),
    ])
    metrics = Metrics(CollectorRegistry())

    def published() -> float:
        return metrics.registry.get_sample_value(
            "connector_events_events_published_total", {"source": "polling", "type": "CREATED"},
        ) or 0.0

    async with PollerWorker(settings, metrics, Health()):
        await wait_until(
            lambda: (metrics.registry.get_sample_value("connector_events_scheduled_resources") or 0) >= 1,
            60, "the instance scheduled",
        )
        started = time.perf_counter()
        await wait_until(lambda: published() >= records, 120, "every event published")
        elapsed = time.perf_counter() - started
    return records / elapsed


def rss_bytes() -> int:
    """Resident memory of this process now."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def idle(bootstrap: str, count: int, base_url: str, seconds: float) -> tuple[float, float]:
    """CPU share of one core and bytes per scheduled resource while `count` resources wait an hour."""
    settings = settings_for_run(bootstrap)
    await prepare_topics(settings)
    partitions = settings.topics.partitions
    now = datetime.now(UTC)
    definitions: list[OutgoingRecord] = [model_record(settings.topics.elements, "benchcrm", element("60"))]
    for n in range(count):
        instance_id = f"idle-{n}"
        p = n % partitions
        definitions.append(model_record(settings.topics.instances, instance_id, instance(instance_id, base_url),
                                        partition=p))
        # A cursor polled just now: the next poll is an hour away.
        cursor = Cursor(instance_id=instance_id, resource="contacts", last_poll_at=now,
                        status=CursorStatus(last_outcome="ok", last_polled_at=now))
        definitions.append(cursor_record(settings.topics.cursors, p, cursor))
    await RegistryWriter(settings.kafka, settings.topics).write(definitions)
    del definitions
    gc.collect()
    before = rss_bytes()
    metrics = Metrics(CollectorRegistry())
    async with PollerWorker(settings, metrics, Health()):
        await wait_until(
            lambda: (metrics.registry.get_sample_value("connector_events_scheduled_resources") or 0) >= count,
            120, f"{count} resources scheduled",
        )
        gc.collect()
        after = rss_bytes()
        cpu_started, wall_started = time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        cpu = (time.process_time() - cpu_started) / (time.perf_counter() - wall_started)
        polled = sum(
            s.value for metric in metrics.polls.collect() for s in metric.samples if s.name.endswith("_total")
        )
    if polled:
        print(f"  warning: {polled:.0f} polls ran while idling")
    return cpu, (after - before) / count


def serve_provider(count: int, start: datetime, pipe: Any) -> None:
    """The fake provider in its own process (a provider is remote: its CPU is not the poller's)."""

    async def run() -> None:
        async with FakeProvider(make_records(count, start=start, step_seconds=1), max_page_size=PAGE) as provider:
            pipe.send(provider.base_url)
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


async def measure(args: argparse.Namespace, base_url: str, start: datetime) -> None:
    """Run the four measurements and print them with their ratios."""
    bootstrap = ensure_broker(os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    rendered = [
        {"id": r.id, "createdDate": iso_millis(r.created), "lastModifiedDate": iso_millis(r.updated), **r.fields}
        for r in make_records(args.records, start=start, step_seconds=1)
    ]
    settings, raw_settings = settings_for_run(bootstrap), settings_for_run(bootstrap)
    await prepare_topics(settings)
    await prepare_topics(raw_settings)
    fetch = await ceiling_fetch(base_url, args.records)
    produce = await ceiling_produce(raw_settings, events_of(rendered, raw_settings.topics.events))
    polled = await pipeline(settings, base_url, args.records)
    print(f"records: {args.records}, page size {PAGE}, provider in another process")
    print(f"  fetch ceiling    {fetch:10.0f} records/s")
    print(f"  produce ceiling  {produce:10.0f} events/s")
    print(f"  poll pipeline    {polled:10.0f} events/s")
    print(f"  pipeline / fetch   = {polled / fetch:.2f}")
    print(f"  pipeline / produce = {polled / produce:.2f}")
    print(f"  pipeline / min(ceilings) = {polled / min(fetch, produce):.2f}")
    cpu, per_resource = await idle(bootstrap, args.idle, base_url, args.idle_seconds)
    print(f"idle: {args.idle} scheduled resources for {args.idle_seconds:g}s")
    print(f"  CPU {cpu * 100:.2f}% of one core; memory {per_resource / 1024:.2f} KiB per scheduled resource")


def main() -> None:
    """Start the provider process, measure, stop it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--idle", type=int, default=10_000)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    args = parser.parse_args()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    receive, send_end = multiprocessing.Pipe(duplex=False)
    provider = multiprocessing.Process(target=serve_provider, args=(args.records, start, send_end), daemon=True)
    provider.start()
    try:
        base_url = receive.recv()
        asyncio.run(measure(args, base_url, start))
    finally:
        provider.terminate()
        provider.join()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
