"""Which partitions this worker polls: membership of the pollers' consumer group on the instances topic.

Kafka's group protocol is the only coordinator. The group consumer never commits offsets: on every assignment it
reads the partition from the beginning (the topic is compacted), then hands the partition to a `PartitionPoller`
and keeps delivering instance changes to it. Revocation stops the partition's polls before the group moves on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from service.bus.records import loads
from service.config import Settings
from service.errors import PublishError
from service.lifecycle import Component, cancel_and_wait
from service.metrics import Metrics
from service.polling.fetch import ProviderClient
from service.polling.partition import PartitionPoller
from service.polling.scheduler import PollLimits
from service.registry.models import Element, Instance

log = logging.getLogger(__name__)

# How long a revoked partition's running polls may go on before they are cancelled: the whole group waits for
# this worker's revocation before the partition gets a new owner.
REVOKE_GRACE_SECONDS = 5.0
_GAUGE_INTERVAL = 5.0


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: PartitionOwnership) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._owner.release([tp.partition for tp in revoked], grace=REVOKE_GRACE_SECONDS)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._owner.acquire([tp.partition for tp in assigned])


class PartitionOwnership(Component):
    """Joins the pollers' group and runs a `PartitionPoller` for each partition it is assigned.

    `start` connects the group consumer and starts the loop that reads instance records and drives rebalances;
    it raises `PublishError` when Kafka cannot be reached. `stop(grace)` stops every partition (running polls
    get `grace` seconds), then leaves the group; idempotent. `failed` holds the loop's error when it crashed.
    """

    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        elements: Mapping[str, Element],
        client: ProviderClient,
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._elements = elements
        self._client = client
        polling = settings.polling
        self._limits = PollLimits(polling.max_concurrent_polls, polling.max_polls_per_host)
        self.partitions: dict[int, PartitionPoller] = {}
        # Partitions being read to their end offset before their poller starts.
        self._loading: dict[int, int | None] = {}
        self._starting: dict[int, asyncio.Task[None]] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._element_snapshot: dict[str, Element] = {}
        self.failed: BaseException | None = None

    @property
    def topic(self) -> str:
        """The instances topic."""
        return self._settings.topics.instances

    async def start(self) -> None:
        """Join the group and start reading."""
        self._claim_start()
        consumer = AIOKafkaConsumer(
            **self._settings.kafka.client_options(),
            group_id=self._settings.polling.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        consumer.subscribe([self.topic], listener=_Rebalance(self))
        # Set before start: the first assignment may be delivered while start() is still running.
        self._consumer = consumer
        try:
            await consumer.start()
        except KafkaError as exc:
            self._consumer = None
            await consumer.stop()
            raise PublishError(f"cannot join the pollers' group: {exc!r}") from exc
        self._element_snapshot = dict(self._elements)
        self._task = asyncio.create_task(self._loop(consumer), name="partition-ownership")
        self._task.add_done_callback(self._loop_done)

    async def stop(self, grace: float = 0.0) -> None:
        """Stop every partition, then leave the group."""
        task, self._task = self._task, None
        await cancel_and_wait(task)
        await self.release(list(self.partitions) + list(self._loading), grace=grace)
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()

    def problem(self) -> str | None:
        """Why polling is not healthy, or None."""
        if self.failed is not None:
            return f"partition ownership crashed: {self.failed!r}"
        for poller in self.partitions.values():
            if (reason := poller.problem) is not None:
                return reason
        return None

    # -- rebalance -------------------------------------------------------------------------------------------

    async def acquire(self, partitions: list[int]) -> None:
        """Start reading newly assigned partitions from their beginning."""
        consumer = self._consumer
        if consumer is None:
            return
        tps = [TopicPartition(self.topic, p) for p in partitions if p not in self.partitions]
        if not tps:
            return
        # Registered before the first await: the fetcher may deliver the partition's records while we wait.
        for tp in tps:
            self.partitions[tp.partition] = PartitionPoller(
                tp.partition, self._settings, self._metrics, self._elements, self._client, self._limits,
            )
            self._loading[tp.partition] = None
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            if tp.partition in self._loading:
                self._loading[tp.partition] = ends[tp]
        log.info("partitions assigned", extra={"partitions": sorted(p.partition for p in tps)})
        await self._start_loaded(consumer)
        self._metrics.owned_partitions.set(len(self.partitions))

    async def release(self, partitions: list[int], *, grace: float) -> None:
        """Stop revoked partitions: their polls finish within `grace` or are cancelled; state is dropped."""
        pollers = []
        for p in set(partitions):
            self._loading.pop(p, None)
            starting = self._starting.pop(p, None)
            if starting is not None:
                starting.cancel()
                await asyncio.wait([starting])  # its outcome is logged by _start_partition
            poller = self.partitions.pop(p, None)
            if poller is not None:
                pollers.append(poller)
        if pollers:
            await asyncio.gather(*(poller.stop(grace) for poller in pollers))
            log.info("partitions released", extra={"partitions": sorted(p.partition for p in pollers)})
        self._metrics.owned_partitions.set(len(self.partitions))
        self._update_scheduled()

    async def _start_loaded(self, consumer: AIOKafkaConsumer) -> None:
        for p, end in list(self._loading.items()):
            if end is None or await consumer.position(TopicPartition(self.topic, p)) < end:
                continue
            # The listener and the loop both get here: the first one (still loading after the await) starts it.
            if self._loading.get(p) != end:
                continue
            del self._loading[p]
            task = asyncio.create_task(self._start_partition(self.partitions[p]), name=f"start-p{p}")
            task.add_done_callback(self._start_done)
            self._starting[p] = task

    async def _start_partition(self, poller: PartitionPoller) -> None:
        try:
            await poller.start()
        except PublishError:
            log.exception("partition %d could not start; it stays idle until the next rebalance", poller.partition)
            self.failed = self.failed or RuntimeError(f"partition {poller.partition} could not start")
        finally:
            self._starting.pop(poller.partition, None)
        self._update_scheduled()

    # -- the loop --------------------------------------------------------------------------------------------

    async def _loop(self, consumer: AIOKafkaConsumer) -> None:
        next_gauges = 0.0
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=1000)
            for tp, messages in batches.items():
                poller = self.partitions.get(tp.partition)
                if poller is None:
                    continue
                for message in messages:
                    self._apply(poller, message.key, message.value)
            if self._loading:
                await self._start_loaded(consumer)
            self._check_elements()
            if (now := time.monotonic()) >= next_gauges:
                next_gauges = now + _GAUGE_INTERVAL
                self._update_gauges()

    def _apply(self, poller: PartitionPoller, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        instance_id = key.decode(errors="replace")
        try:
            instance = None if value is None else Instance.model_validate(loads(value))
        except (ValidationError, ValueError) as exc:
            log.warning("skipping invalid instance %r: %s", instance_id, exc)
            return
        poller.apply(instance_id, instance)
        self._update_scheduled()

    def _check_elements(self) -> None:
        """Reschedule the instances of elements that changed (the element reader has no change callback)."""
        current = self._elements
        before = self._element_snapshot
        changed = {k for k in current.keys() | before.keys() if current.get(k) is not before.get(k)}
        if not changed:
            return
        self._element_snapshot = dict(current)
        for poller in self.partitions.values():
            for element_key in changed:
                poller.resync_element(element_key)
        self._update_scheduled()

    def _update_scheduled(self) -> None:
        self._metrics.scheduled_resources.set(sum(len(p.scheduler) for p in self.partitions.values()))

    def _update_gauges(self) -> None:
        now = time.time()
        lags: dict[str, float] = {}
        for poller in self.partitions.values():
            for element, lag in poller.cursor_lags(now).items():
                lags[element] = max(lag, lags.get(element, 0.0))
        for element, lag in lags.items():
            self._metrics.cursor_lag.labels(element).set(lag)
        self._update_scheduled()

    def _start_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.failed = task.exception()
            log.error("starting a partition crashed", exc_info=self.failed)

    def _loop_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.failed = task.exception()
            log.error("partition ownership loop crashed", exc_info=self.failed)
