"""The poller end to end on a real broker and the fake provider: events, types, dates, cursors, metrics.

Each test registers an element and instances, runs an in-process `PollerWorker`, and reads the events, cursors
and dead letters the way consumers do (read_committed).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry

from service.app import prepare_topics
from service.config import Settings
from service.health import Health
from service.metrics import Metrics
from service.polling.worker import PollerWorker
from tests.fake_provider import FakeProvider, FakeRecord, make_records
from tests.kafka_helpers import wait_for
from tests.polling_harness import ELEMENT, collectors, element, instance, polls, register, sample

pytestmark = pytest.mark.kafka

ISO_MILLIS = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
SINCE_GMT = "/contacts?since=${gmtDate:yyyy-MM-dd'T'HH:mm:ss'Z'}"


def contacts(url: str = SINCE_GMT, **extra: Any) -> dict[str, Any]:
    """The poller configuration of the fake provider's contacts."""
    return {
        "contacts": {
            "url": url,
            "idField": "id",
            "pageSize": 5,
            "datesConfiguration": {
                "updatedDateField": "lastModifiedDate",
                "updatedDateFormat": ISO_MILLIS,
                "createdDateField": "createdDate",
                "createdDateFormat": ISO_MILLIS,
            },
            **extra,
        }
    }


@contextlib.asynccontextmanager
async def worker(settings: Settings) -> AsyncIterator[Metrics]:
    """An in-process poller with its own metrics."""
    metrics = Metrics(CollectorRegistry())
    async with PollerWorker(settings, metrics, Health()):
        yield metrics


def now_ms() -> datetime:
    """Now, at the millisecond precision the fake provider shows."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def polled_after(latest: dict[str, dict[str, Any] | None], when: datetime, key: str = "i1/contacts") -> bool:
    """Whether the collected cursor of `key` has a lastPollAt after `when`."""
    cursor = latest.get(key)
    return cursor is not None and cursor["lastPollAt"] is not None and datetime.fromisoformat(
        cursor["lastPollAt"]
    ) > when


def by_object(values: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(objectId, date) → eventType of each event."""
    return {(v["objectId"], v["date"]): v["eventType"] for v in values}


@pytest.mark.parametrize(
    "url",
    [
        SINCE_GMT,
        "/contacts?since=${epoch:ms}",
        "/contacts?since=${milliseconds}",
        "/contacts?since=${dateTimeZone:America/New_York:yyyy-MM-dd'T'HH:mm:ssXXX}",
        "/contacts",
    ],
    ids=["gmtDate", "epoch-ms", "milliseconds", "dateTimeZone", "no-date-filter"],
)
async def test_changes_appear_once_each_with_type_and_date(settings: Settings, url: str) -> None:
    await prepare_topics(settings)
    records = make_records(12, start=now_ms() - timedelta(hours=2))
    async with (
        FakeProvider(records, since_param="since") as provider,
        collectors(settings) as (events, cursors, dlq),
    ):
        await register(settings, [element(contacts(url))], [instance("i1", provider.base_url)])
        async with worker(settings) as metrics:
            await wait_for(lambda: len(events.records) >= 12, 30, what="the 12 existing records")
            changed = now_ms()
            records[2].updated = changed
            provider.add(FakeRecord("r13", created=changed, updated=changed))
            await wait_for(lambda: len(events.records) >= 14, 30, what="the update and the new record")
            settled = polls(metrics.registry) + 2
            await wait_for(lambda: polls(metrics.registry) >= settled, 30, what="two more polls")
            await wait_for(lambda: polled_after(cursors.latest(), changed), 30, what="a cursor past the change")
            registry = metrics.registry
            assert sample(registry, "connector_events_owned_partitions") == 3
            assert sample(registry, "connector_events_scheduled_resources") == 1
            # Refreshed every few seconds: at most a few refresh intervals behind, never the backfill's age.
            lag = await wait_for(
                lambda: registry.get_sample_value("connector_events_cursor_lag_seconds", {"element": ELEMENT}),
                30, what="the cursor lag gauge",
            )
            assert lag is not None
            assert 0 < lag < 60

    values = events.values()
    assert len(values) == 14
    assert len({v["eventId"] for v in values}) == 14
    types = by_object(values)
    assert Counter(types.values()) == {"CREATED": 13, "UPDATED": 1}
    iso = "%Y-%m-%dT%H:%M:%S.%f"
    assert types[("r3", changed.strftime(iso)[:-3] + "Z")] == "UPDATED"
    assert types[("r13", changed.strftime(iso)[:-3] + "Z")] == "CREATED"
    assert types[("r1", records[0].created.strftime(iso)[:-3] + "Z")] == "CREATED"
    first = values[0]
    assert first["source"] == "polling"
    assert first["instanceId"] == "i1"
    assert first["elementKey"] == ELEMENT
    assert first["objectType"] == "contacts"
    assert first["pollDate"] is not None
    assert events.records[0].key == f"i1:contacts:{first['objectId']}".encode()
    # Events of one poll are published in date order (seen per partition of the events topic).
    for partition in {r.partition for r in events.records}:
        dates = [orjson.loads(r.value)["date"] for r in events.records if r.partition == partition and r.value]
        first_poll = [d for d in dates if d < changed.isoformat()]
        assert first_poll == sorted(first_poll)
    cursor = cursors.latest()["i1/contacts"]
    assert cursor is not None
    assert cursor["status"]["lastOutcome"] == "ok"
    assert cursor["status"]["consecutiveFailures"] == 0
    assert datetime.fromisoformat(cursor["lastPollAt"]) > changed
    assert dlq.records == []
    assert sample(registry, "connector_events_events_published_total", source="polling", type="CREATED") == 13
    assert sample(registry, "connector_events_events_published_total", source="polling", type="UPDATED") == 1
    assert sample(registry, "connector_events_owned_partitions") == 0  # released at stop
