"""Verified webhook bodies become records on Kafka: each instance's events, or a dead letter when its hook fails.

`WebhookPublisher.publish` returns only after Kafka acknowledged every record (events and dead letters in one
`EventBus.publish`), and counts hook time and failures, published events and dead letters.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka.record.default_records import DefaultRecordBatchBuilder

from service.bus.producer import EventBus
from service.bus.records import OutgoingRecord, dead_letter_record, event_record
from service.config import TopicSettings
from service.events import EventSource, NormalizedEvent
from service.metrics import Metrics
from service.registry.models import ResolvedInstance
from service.webhooks.hooks import HookError, HookRunner
from service.webhooks.normalize import delivery_identity, find_events, normalized
from service.webhooks.payload import PayloadTooLarge
from service.webhooks.spec import WebhookSettings

log = logging.getLogger(__name__)

# aiokafka's default `max_request_size`, which the event bus keeps: a larger record is refused before sending.
MAX_RECORD_BYTES = 1_048_576
MAX_DETAIL_CHARS = 500
_WEBHOOK = EventSource.WEBHOOK.value


@dataclass(frozen=True)
class Published:
    """What one body became, all acknowledged by Kafka.

    Attributes:
        event_ids: the ids of the published events, in order.
        dead_letters: `topic/partition/offset` of each dead letter (one per instance whose hook failed).
    """

    event_ids: list[str]
    dead_letters: list[str]


class WebhookPublisher:
    """Runs the element's hook or mapping for each instance and publishes the outcome."""

    def __init__(self, topics: TopicSettings, metrics: Metrics, bus: EventBus) -> None:
        self._topics = topics
        self._metrics = metrics
        self._bus = bus

    async def publish(
        self,
        settings: WebhookSettings,
        targets: list[ResolvedInstance],
        *,
        raw: bytes,
        body: object,
        headers: Mapping[str, str],
        runner: HookRunner,
    ) -> Published:
        """Turn one verified body into events for each target instance and publish them.

        A hook or mapping failure for an instance, or an event over the Kafka record limit, sends the body to the
        dead-letter topic for that instance instead; other instances' events are still published.

        Raises:
            PublishError: Kafka did not acknowledge every record.
            PayloadTooLarge: not even the dead letter of the body fits in a Kafka record.
        """
        identity = delivery_identity(settings, headers, body, raw)
        received_at = datetime.now(UTC)
        events: list[NormalizedEvent] = []
        records: list[OutgoingRecord] = []
        dead: list[tuple[OutgoingRecord, str]] = []
        for target in targets:
            element = target.element.key
            started = time.perf_counter()
            try:
                found = await find_events(
                    settings, target, body, headers, runner=runner, identity=identity, received_at=received_at
                )
                made = normalized(target, found, identity=identity, body=body)
            except HookError as exc:
                self._metrics.hook_failures.labels(element, exc.reason).inc()
                dead.append((self._dead_letter(target, raw, reason=exc.reason, detail=str(exc)), exc.reason))
                continue
            finally:
                if settings.hook is not None:
                    self._metrics.hook_duration.labels(element).observe(time.perf_counter() - started)
            built = [event_record(self._topics.events, event) for event in made]
            if not all(_fits(record) for record in built):
                # Every event carries the body; one record over the producer's limit would fail the whole
                # publish on every retry of the provider, so the body goes to the dead-letter topic instead.
                detail = f"an event of the body is over the {MAX_RECORD_BYTES}-byte Kafka record limit"
                dead.append((self._dead_letter(target, raw, reason="too_large", detail=detail), "too_large"))
                continue
            events.extend(made)
            records.extend(built)
        if not all(_fits(record) for record, _ in dead):
            raise PayloadTooLarge(f"the body is over the {MAX_RECORD_BYTES}-byte Kafka record limit")
        records.extend(record for record, _ in dead)
        acknowledged = await self._bus.publish(records)
        for event in events:
            self._metrics.events_published.labels(_WEBHOOK, event.event_type.value).inc()
        for _, reason in dead:
            self._metrics.dlq_records.labels(_WEBHOOK, reason).inc()
        letters = acknowledged[len(events):]
        return Published(
            event_ids=[event.event_id for event in events],
            dead_letters=[f"{self._topics.dlq}/{partition}/{offset}" for partition, offset in letters],
        )

    def _dead_letter(self, target: ResolvedInstance, raw: bytes, *, reason: str, detail: str) -> OutgoingRecord:
        instance, element = target.instance.id, target.element.key
        log.warning(
            "webhook body dead-lettered",
            extra={"element": element, "instance": instance, "reason": reason, "error": detail[:MAX_DETAIL_CHARS]},
        )
        return dead_letter_record(
            self._topics.dlq,
            key=instance,
            value=raw,
            reason=reason,
            context={"instance": instance, "element": element, "source": _WEBHOOK, "detail": detail[:MAX_DETAIL_CHARS]},
        )


def _fits(record: OutgoingRecord) -> bool:
    size = DefaultRecordBatchBuilder.estimate_size_in_bytes(record.key, record.value, record.headers)
    return bool(size <= MAX_RECORD_BYTES)
