"""One owned partition of the instances topic: its instances, cursors, transactional writer and poll schedule.

Created when the partition is assigned (with the instances the group consumer read from it), started once they
are all read; stopped on revocation. A deleted instance (or a resource gone from its configuration) has its
cursors tombstoned through the partition's own committer, so only the owner ever writes them.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from service.bus.transactions import PartitionCommitter
from service.config import Settings
from service.cursors import CursorTable, cursor_key, tombstone_record
from service.errors import ConfigError, PublishError
from service.lifecycle import Component, cancel_and_wait
from service.metrics import Metrics
from service.polling.fetch import ProviderClient
from service.polling.poll import PollContext, run_poll
from service.polling.resources import PollerConfiguration
from service.polling.scheduler import Key, PollLimits, PollScheduler
from service.registry.models import (
    DEFAULT_REFRESH_MINUTES,
    POLLER_CONFIGURATION,
    Element,
    Instance,
    ResolvedInstance,
    resolve,
)

log = logging.getLogger(__name__)

_DEFAULT_INTERVAL = DEFAULT_REFRESH_MINUTES * 60.0


class PartitionPoller(Component):
    """Polls the instances of one partition and commits through one transactional writer.

    `start` loads the partition's cursors to their end, starts the writer (fencing the previous owner),
    tombstones cursors whose instance is gone, and schedules every polling-enabled resource; it raises
    `PublishError` when Kafka cannot be reached. `stop(grace)` lets running polls finish for `grace` seconds,
    cancels the rest, commits what finished, and closes the writer; it is idempotent and safe after a failed start.
    """

    def __init__(
        self,
        partition: int,
        settings: Settings,
        metrics: Metrics,
        elements: Mapping[str, Element],
        client: ProviderClient,
        limits: PollLimits,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.partition = partition
        self._settings = settings
        self._metrics = metrics
        self._elements = elements
        self._client = client
        self.instances: dict[str, Instance] = {}
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.table = CursorTable(partition)
        self.scheduler = PollScheduler(f"p{partition}", self._poll, limits, self._host_of)
        self._committer: PartitionCommitter | None = None
        # Bumped when an instance is deleted: a poll that started before must not write its cursor back.
        self._epochs: dict[str, int] = {}
        self._background: set[asyncio.Task[None]] = set()
        self.ready = False
        self.fenced = False

    # -- instances -------------------------------------------------------------------------------------------

    def apply(self, instance_id: str, instance: Instance | None) -> None:
        """An instance record of this partition was read: remember it and, once running, reschedule it."""
        if instance is None:
            self.instances.pop(instance_id, None)
            self._epochs[instance_id] = self._epochs.get(instance_id, 0) + 1
        else:
            self.instances[instance_id] = instance
        if self.ready:
            self.resync(instance_id)

    def resync_element(self, element_key: str) -> None:
        """An element changed: reschedule its instances."""
        if self.ready:
            for instance_id, instance in list(self.instances.items()):
                if instance.element_key == element_key:
                    self.resync(instance_id)

    def resync(self, instance_id: str) -> None:
        """Make the schedule and the cursors match the instance as it is now.

        An instance that does not poll now (events disabled, element unknown yet, invalid configuration) is
        unscheduled but keeps its cursors; the ownership loop resyncs it when its element changes.
        """
        instance = self.instances.get(instance_id)
        scheduled = {key for key in self.scheduler.scheduled_keys() if key[0] == instance_id}
        if instance is None:
            for key in scheduled:
                self.scheduler.unschedule(key)
            self._tombstone(self.table.keys_of(instance_id))
            return
        names = self._resource_names(instance)
        if names is None:  # not polling (disabled, unknown element, invalid configuration): keep the cursors
            for key in scheduled:
                self.scheduler.unschedule(key)
            return
        for key in scheduled - {(instance_id, name) for name in names}:
            self.scheduler.unschedule(key)
        self._tombstone([k for k in self.table.keys_of(instance_id) if k.split("/", 1)[1] not in names])
        interval = self._interval(instance)
        for name in names:
            # Rescheduled even when already scheduled: a new refresh interval applies to the coming poll.
            key = (instance_id, name)
            self.scheduler.schedule(key, self._first_due(key, interval))

    def _resolve(self, instance_id: str) -> ResolvedInstance | None:
        return resolve(instance_id, self.instances, self._elements)

    def _resource_names(self, instance: Instance) -> list[str] | None:
        resolved = self._resolve(instance.id)
        if resolved is None:
            return None
        try:
            if not resolved.polling_enabled:
                return None
            configuration = PollerConfiguration.parse(resolved.config(POLLER_CONFIGURATION))
        except (ConfigError, ValueError) as exc:
            log.warning("instance %s is not polled: %s", instance.id, exc, extra={"instance": instance.id})
            return None
        return list(configuration.resources)

    def _interval(self, instance: Instance) -> float:
        resolved = self._resolve(instance.id)
        try:
            return resolved.refresh_interval.total_seconds() if resolved else _DEFAULT_INTERVAL
        except ValueError:
            return _DEFAULT_INTERVAL

    def _jitter(self, interval: float) -> float:
        return interval * self._settings.polling.jitter * self._rng.random()

    def _first_due(self, key: Key, interval: float) -> float:
        cursor = self.table.get(*key)
        if cursor is None:
            return time.time()
        last = cursor.status.last_polled_at or cursor.last_poll_at
        if last is None:
            return time.time()
        return last.timestamp() + interval + self._jitter(interval)

    def _host_of(self, key: Key) -> str:
        instance = self.instances.get(key[0])
        return (instance.base_url.host or "") if instance is not None and instance.base_url else ""

    # -- lifecycle -------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load cursors, fence the previous writer, schedule."""
        self._claim_start()
        kafka, topics = self._settings.kafka, self._settings.topics
        self.table = await CursorTable.load(kafka, topics.cursors, self.partition)
        self._committer = PartitionCommitter(
            kafka, self.partition, self._metrics,
            linger=self._settings.polling.commit_interval.total_seconds(), on_fenced=self._fenced,
        )
        await self._committer.start()
        # Cursors whose instance was deleted while nobody owned the partition.
        self._tombstone([key for key in self.table.cursors if key.split("/", 1)[0] not in self.instances])
        self.ready = True
        for instance_id in list(self.instances):
            self.resync(instance_id)
        await self.scheduler.start()
        log.info(
            "partition %d started", self.partition,
            extra={"partition": self.partition, "instances": len(self.instances), "scheduled": len(self.scheduler)},
        )

    async def stop(self, grace: float = 0.0) -> None:
        """Finish or cancel running polls, commit what finished, close the writer."""
        self.ready = False
        await self.scheduler.stop(grace)
        background = list(self._background)
        if background:
            await asyncio.wait(background, timeout=max(grace, 1.0))
        committer, self._committer = self._committer, None
        if committer is not None:
            await committer.stop()
        await cancel_and_wait(*background)

    @property
    def problem(self) -> str | None:
        """Why this partition is not healthy, or None."""
        if self.fenced:
            return f"writer of partition {self.partition} was fenced"
        if self.scheduler.failed is not None:
            return f"scheduler of partition {self.partition} crashed: {self.scheduler.failed!r}"
        return None

    def cursor_lags(self, now: float) -> dict[str, float]:
        """Element key → largest `now - lastPollAt` over this partition's scheduled resources."""
        lags: dict[str, float] = {}
        for instance_id, resource in self.scheduler.scheduled_keys():
            instance = self.instances.get(instance_id)
            cursor = self.table.get(instance_id, resource)
            if instance is None or cursor is None or cursor.last_poll_at is None:
                continue
            lag = now - cursor.last_poll_at.timestamp()
            lags[instance.element_key] = max(lag, lags.get(instance.element_key, 0.0))
        return lags

    def _fenced(self, partition: int) -> None:
        self.fenced = True
        self.ready = False
        log.warning("partition %d: another worker owns the writer now; polling stops", partition)

    # -- polls -----------------------------------------------------------------------------------------------

    async def _poll(self, key: Key) -> float | None:
        instance_id, resource_name = key
        resolved = self._resolve(instance_id)
        committer = self._committer
        if resolved is None or committer is None or not self.ready:
            return None
        try:
            configuration = PollerConfiguration.parse(resolved.config(POLLER_CONFIGURATION))
            interval = resolved.refresh_interval.total_seconds()
        except (ConfigError, ValueError) as exc:
            log.warning("instance %s is not polled: %s", instance_id, exc)
            return None
        resource = configuration.resources.get(resource_name)
        if resource is None:
            return None
        epoch = self._epochs.get(instance_id, 0)

        def alive() -> bool:
            # Still wanted: not deleted, not unscheduled. A stopping partition still commits its running polls.
            return key in self.scheduler and self._epochs.get(instance_id, 0) == epoch

        context = PollContext(
            settings=self._settings, metrics=self._metrics, client=self._client, committer=committer,
            partition=self.partition,
        )
        now = datetime.now(UTC)
        try:
            cursor = await run_poll(
                context, resolved, resource_name, resource, self.table.get(instance_id, resource_name),
                now=now, alive=alive,
            )
        except PublishError as exc:
            # Nothing of this poll is visible and the cursor did not move: the next poll redoes it.
            log.warning(
                "poll of %s/%s not committed: %s", instance_id, resource_name, exc,
                extra={"instance": instance_id, "resource": resource_name},
            )
            return time.time() + min(interval, 30.0)
        # A deletion meanwhile wrote a tombstone after this cursor: the table follows the topic.
        if cursor is not None and alive():
            self.table.put(cursor)
        return now.timestamp() + interval + self._jitter(interval)

    # -- tombstones ------------------------------------------------------------------------------------------

    def _tombstone(self, keys: list[str]) -> None:
        committer = self._committer
        if not keys or committer is None:
            return
        topic = self._settings.topics.cursors
        records = [tombstone_record(topic, self.partition, key) for key in keys]

        async def write() -> None:
            try:
                await committer.commit(records)
            except PublishError as exc:
                # The next owner's start sweeps cursors without an instance again.
                log.warning("partition %d: cursor tombstones not written: %s", self.partition, exc)
                return
            live = self._live_cursor_keys()
            for key in keys:
                if key not in live:  # re-added meanwhile: its new cursor stays
                    self.table.drop(key)

        task = asyncio.create_task(write(), name=f"tombstones-p{self.partition}")
        self._background.add(task)
        task.add_done_callback(self._background_done)

    def _live_cursor_keys(self) -> set[str]:
        return {cursor_key(*key) for key in self.scheduler.scheduled_keys()}

    def _background_done(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("partition %d: background write crashed", self.partition, exc_info=task.exception())

