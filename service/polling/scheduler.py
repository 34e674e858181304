"""When polls run: a heap of due times per owned partition, and the concurrency caps every partition shares.

An idle scheduled resource is one heap entry and one dict slot, never a task; a task exists only while a poll
runs. At most `max_concurrent_polls` polls run per worker and `max_polls_per_host` against one provider host.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from service.lifecycle import Component, cancel_and_wait

log = logging.getLogger(__name__)

Key = tuple[str, str]
"""(instance id, resource name)."""

Runner = Callable[[Key], Awaitable[float | None]]
"""Runs one poll; returns the next due time (epoch seconds) or None to stop scheduling the key."""

# A poll whose runner raised unexpectedly is tried again after this long rather than never.
CRASH_RETRY_SECONDS = 60.0


class PollLimits:
    """The worker-wide caps: total concurrent polls and concurrent polls per provider host."""

    def __init__(self, max_concurrent: int, max_per_host: int) -> None:
        self._global = asyncio.Semaphore(max_concurrent)
        self._per_host = max_per_host
        self._hosts: dict[str, asyncio.Semaphore] = {}

    @contextlib.asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one poll slot for `host`: the host's first, so a busy host does not pin global slots."""
        semaphore = self._hosts.get(host)
        if semaphore is None:
            semaphore = self._hosts[host] = asyncio.Semaphore(self._per_host)
        async with semaphore, self._global:
            yield


class PollScheduler(Component):
    """Runs each scheduled key's poll when it is due, one poll per key at a time.

    `start` starts the timer loop; `stop(grace)` stops it, gives running polls `grace` seconds to finish, then
    cancels and awaits the rest. Both are safe to repeat. `failed` holds the loop's error if it crashed.
    """

    def __init__(
        self,
        name: str,
        runner: Runner,
        limits: PollLimits,
        host_of: Callable[[Key], str],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self._runner = runner
        self._limits = limits
        self._host_of = host_of
        self._clock = clock
        self._keys: set[Key] = set()
        self._due: dict[Key, tuple[float, int]] = {}
        self._heap: list[tuple[float, int, Key]] = []
        self._seq = itertools.count()
        self._running: dict[Key, asyncio.Task[None]] = {}
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.failed: BaseException | None = None
        self.crashed_polls = 0

    def __len__(self) -> int:
        """Number of scheduled keys (waiting or running)."""
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def scheduled_keys(self) -> set[Key]:
        """The scheduled keys (a copy)."""
        return set(self._keys)

    @property
    def running(self) -> int:
        """Polls running now."""
        return len(self._running)

    def schedule(self, key: Key, due: float) -> None:
        """Run `key` at `due` (epoch seconds); a running key keeps the due time its poll returns."""
        self._keys.add(key)
        if key in self._running:
            return
        self._push(key, due)

    def unschedule(self, key: Key) -> None:
        """Stop scheduling `key`; a running poll of it finishes, and is not rescheduled."""
        self._keys.discard(key)
        self._due.pop(key, None)

    async def start(self) -> None:
        """Start the timer loop."""
        self._claim_start()
        self._task = asyncio.create_task(self._loop(), name=f"scheduler-{self.name}")
        self._task.add_done_callback(self._loop_done)

    async def stop(self, grace: float = 0.0) -> None:
        """Stop starting polls; let running ones finish for `grace` seconds, then cancel and await them."""
        task, self._task = self._task, None
        await cancel_and_wait(task)
        running = list(self._running.values())
        if running and grace > 0:
            await asyncio.wait(running, timeout=grace)
        for poll in running:
            poll.cancel()
        if running:
            await asyncio.wait(running)

    def _push(self, key: Key, due: float) -> None:
        seq = next(self._seq)
        self._due[key] = (due, seq)
        heapq.heappush(self._heap, (due, seq, key))
        # Rescheduling leaves stale entries behind (lazy deletion); rebuild before they dominate the heap.
        if len(self._heap) > 2 * len(self._due) + 64:
            self._heap = [(d, s, k) for k, (d, s) in self._due.items()]
            heapq.heapify(self._heap)
        if self._heap[0][1] == seq:
            self._wakeup.set()  # the new entry is the earliest: the loop must shorten its sleep

    async def _loop(self) -> None:
        while True:
            now = self._clock()
            while self._heap and self._heap[0][0] <= now:
                due, seq, key = heapq.heappop(self._heap)
                if self._due.get(key) != (due, seq):
                    continue  # stale: rescheduled or unscheduled since
                del self._due[key]
                poll = asyncio.create_task(self._run(key), name=f"poll-{key[0]}-{key[1]}")
                self._running[key] = poll
            self._wakeup.clear()
            delay = self._heap[0][0] - now if self._heap else None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wakeup.wait()

    async def _run(self, key: Key) -> None:
        next_due: float | None = None
        try:
            async with self._limits.slot(self._host_of(key)):
                next_due = await self._runner(key)
        except Exception:
            # The runner handles provider and Kafka errors itself: this is a bug. Count it, keep polling later.
            self.crashed_polls += 1
            log.exception("poll of %s/%s crashed; retrying in %ss", key[0], key[1], CRASH_RETRY_SECONDS)
            next_due = self._clock() + CRASH_RETRY_SECONDS
        finally:
            self._running.pop(key, None)
        if key in self._keys and next_due is not None:
            self._push(key, next_due)
        else:
            self._keys.discard(key)

    def _loop_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.failed = task.exception()
            log.error("scheduler %s crashed", self.name, exc_info=self.failed)
