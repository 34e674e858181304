"""Exactly-once writes of one owned partition: a transactional producer and its group commit.

`transactional.id = {prefix}-p{partition}`. When the partition moves to another worker, the new owner's
`init_transactions` fences this producer, so a zombie can commit neither events nor cursors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, ProducerFenced

from service.bus.producer import send
from service.bus.records import OutgoingRecord
from service.config import KafkaSettings
from service.errors import PublishError
from service.lifecycle import Component
from service.metrics import Metrics

log = logging.getLogger(__name__)

# Errors that mean "another producer owns this transactional id now".
_FENCING = (ProducerFenced,)


def transactional_id(prefix: str, partition: int) -> str:
    """The transactional id of partition `partition`'s writer."""
    return f"{prefix}-p{partition}"


def _observe(future: asyncio.Future[object]) -> None:
    if not future.cancelled():
        future.exception()


@dataclass
class _Batch:
    records: Sequence[OutgoingRecord]
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class Transaction:
    """An open transaction held exclusively by one caller (a large poll streaming its pages)."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self.sent = 0

    async def send(self, records: Sequence[OutgoingRecord]) -> None:
        """Add records to the transaction (visible only when it commits)."""
        for r in records:
            future = await send(self._producer, r)
            # Failures surface through commit_transaction; retrieve them here so none goes unobserved.
            future.add_done_callback(_observe)
        self.sent += len(records)


class PartitionCommitter(Component):
    """Commits batches of records for one owned partition, many batches per transaction.

    `start` initialises the transactions of `{prefix}-p{partition}` (fencing any previous owner) and starts the
    commit loop; it raises `PublishError` when Kafka cannot be reached. `stop` commits what is queued (or fails
    those batches) and closes the producer; it is idempotent. `commit` and `exclusive` raise `PublishError`
    when the records were not committed; then nothing of them is visible to `read_committed` consumers.
    """

    def __init__(
        self,
        kafka: KafkaSettings,
        partition: int,
        metrics: Metrics,
        *,
        linger: float = 0.2,
        on_fenced: Callable[[int], None] | None = None,
    ) -> None:
        self.partition = partition
        self._kafka = kafka
        self._metrics = metrics
        # Waiting a little gathers the results of polls that finish together into one transaction.
        self._linger = linger
        self._on_fenced = on_fenced
        self._queue: list[_Batch] = []
        self._wakeup = asyncio.Event()
        # Held for the whole of a transaction: the loop's rounds and exclusive holders never interleave.
        self._txn_lock = asyncio.Lock()
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.fenced = False

    @property
    def transactional_id(self) -> str:
        """This writer's transactional id."""
        return transactional_id(self._kafka.transactional_id_prefix, self.partition)

    async def start(self) -> None:
        """Fence the previous owner and start the commit loop."""
        self._claim_start()
        self._producer = await self._new_producer()
        self._task = asyncio.create_task(self._run(), name=f"committer-p{self.partition}")
        self._task.add_done_callback(self._task_done)

    async def stop(self) -> None:
        """Commit what is queued, then close the producer; idempotent."""
        self._closing = True
        self._wakeup.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                await task
            except asyncio.CancelledError:
                if not task.cancelled():
                    raise
            except (KafkaError, PublishError):
                log.warning("commit loop of partition %d ended with an error", self.partition, exc_info=True)
        self._fail_queued(PublishError(f"committer of partition {self.partition} stopped"))
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()


    async def commit(self, records: Sequence[OutgoingRecord]) -> None:
        """Queue records for the next transaction and wait until it committed.

        Raises:
            PublishError: the transaction aborted, the writer was fenced or stopped.
        """
        if self._closing or self.fenced or self._task is None:
            raise PublishError(f"committer of partition {self.partition} is not running")
        batch = _Batch(records)
        self._queue.append(batch)
        self._wakeup.set()
        await asyncio.shield(batch.done)

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[Transaction]:
        """Hold a transaction alone (for a poll too large to buffer); commits on exit, aborts on an exception."""
        if self._closing or self.fenced or self._producer is None:
            raise PublishError(f"committer of partition {self.partition} is not running")
        async with self._txn_lock:
            producer = self._require_producer()
            started = time.perf_counter()
            try:
                await producer.begin_transaction()
                txn = Transaction(producer)
                yield txn
                await producer.commit_transaction()
            except BaseException as exc:
                await self._abort(exc)
                if isinstance(exc, KafkaError):
                    raise PublishError(f"transaction of partition {self.partition} failed: {exc!r}") from exc
                raise
            self._count_commit(started)

    async def _new_producer(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            **self._kafka.client_options(),
            transactional_id=self.transactional_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
            compression_type="gzip",
            transaction_timeout_ms=int(self._kafka.transaction_timeout.total_seconds() * 1000),
        )
        try:
            await producer.start()  # init_transactions: fences the previous holder of the id
        except KafkaError as exc:
            await producer.stop()
            raise PublishError(f"cannot start the writer of partition {self.partition}: {exc!r}") from exc
        return producer

    def _require_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise PublishError(f"committer of partition {self.partition} is not running")
        return self._producer

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            if not self._closing and self._linger > 0:
                await asyncio.sleep(self._linger)
            self._wakeup.clear()
            batches, self._queue = self._queue, []
            if batches:
                await self._commit_round(batches)
            if self._closing and not self._queue:
                return
            if self.fenced:
                return

    async def _commit_round(self, batches: list[_Batch]) -> None:
        async with self._txn_lock:
            started = time.perf_counter()
            try:
                producer = self._require_producer()
                await producer.begin_transaction()
                txn = Transaction(producer)
                for batch in batches:
                    await txn.send(batch.records)
                await producer.commit_transaction()
            except (KafkaError, PublishError) as exc:
                await self._abort(exc)
                error = PublishError(f"transaction of partition {self.partition} aborted: {exc!r}")
                for batch in batches:
                    if not batch.done.done():
                        batch.done.set_exception(error)
                return
            self._count_commit(started)
            for batch in batches:
                if not batch.done.done():
                    batch.done.set_result(None)

    def _count_commit(self, started: float) -> None:
        self._metrics.commits.labels("committed").inc()
        self._metrics.commit_duration.observe(time.perf_counter() - started)

    async def _abort(self, exc: BaseException) -> None:
        """Abort the open transaction; when that fails too, replace the producer (its state is unknown)."""
        self._metrics.commits.labels("aborted").inc()
        if isinstance(exc, _FENCING):
            self._mark_fenced()
            return
        producer = self._producer
        if producer is None:
            return
        try:
            await producer.abort_transaction()
        except KafkaError as abort_exc:
            if isinstance(abort_exc, _FENCING):
                self._mark_fenced()
                return
            log.warning("abort failed on partition %d; restarting its writer", self.partition, exc_info=True)
            self._producer = None
            with contextlib.suppress(KafkaError):
                await producer.stop()
            # init_transactions of the new producer aborts whatever the old one left open.
            self._producer = await self._new_producer()

    def _mark_fenced(self) -> None:
        log.warning("writer %s was fenced: partition %d has a new owner", self.transactional_id, self.partition)
        self.fenced = True
        self._fail_queued(PublishError(f"writer of partition {self.partition} was fenced", retriable=False))
        if self._on_fenced is not None:
            self._on_fenced(self.partition)

    def _fail_queued(self, error: PublishError) -> None:
        batches, self._queue = self._queue, []
        for batch in batches:
            if not batch.done.done():
                batch.done.set_exception(error)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("commit loop of partition %d crashed", self.partition, exc_info=task.exception())
            self._fail_queued(PublishError(f"commit loop of partition {self.partition} crashed"))
