"""PollScheduler: due order, one poll per key, rescheduling, unscheduling, caps per host and in total."""

from __future__ import annotations

import asyncio
import time

from service.polling.scheduler import Key, PollLimits, PollScheduler


def _host(key: Key) -> str:
    return key[0].split("-")[0]


async def test_runs_due_keys_in_due_order_and_reschedules() -> None:
    ran: list[Key] = []
    done = asyncio.Event()

    async def runner(key: Key) -> float | None:
        ran.append(key)
        if len(ran) == 4:
            done.set()
        # The first key polls again soon; the others stop.
        return time.time() + 0.01 if key == ("a", "r") and ran.count(key) < 2 else None

    scheduler = PollScheduler("t", runner, PollLimits(1, 1), _host)
    now = time.time()
    scheduler.schedule(("c", "r"), now + 0.03)
    scheduler.schedule(("a", "r"), now)
    scheduler.schedule(("b", "r"), now + 0.02)
    async with scheduler:
        await asyncio.wait_for(done.wait(), 5)
    assert ran[:3] == [("a", "r"), ("a", "r"), ("b", "r")] or ran[:3] == [("a", "r"), ("b", "r"), ("a", "r")]
    assert sorted(set(ran)) == [("a", "r"), ("b", "r"), ("c", "r")]
    assert len(scheduler) == 0  # every runner returned None at last


async def test_unscheduled_key_does_not_run_and_is_not_rescheduled() -> None:
    ran: list[Key] = []

    async def runner(key: Key) -> float | None:
        ran.append(key)
        return time.time()

    scheduler = PollScheduler("t", runner, PollLimits(4, 4), _host)
    scheduler.schedule(("gone", "r"), time.time() + 0.05)
    scheduler.schedule(("kept", "r"), time.time() + 3600)
    scheduler.unschedule(("gone", "r"))
    async with scheduler:
        await asyncio.sleep(0.1)
    assert ran == []
    assert scheduler.scheduled_keys() == {("kept", "r")}


async def test_caps_concurrency_in_total_and_per_host() -> None:
    running: dict[str, int] = {}
    peak_total = 0
    peak_host: dict[str, int] = {}
    finished = 0
    all_done = asyncio.Event()

    async def runner(key: Key) -> float | None:
        nonlocal peak_total, finished
        host = _host(key)
        running[host] = running.get(host, 0) + 1
        peak_total = max(peak_total, sum(running.values()))
        peak_host[host] = max(peak_host.get(host, 0), running[host])
        await asyncio.sleep(0.01)
        running[host] -= 1
        finished += 1
        if finished == 40:
            all_done.set()
        return None

    scheduler = PollScheduler("t", runner, PollLimits(max_concurrent=5, max_per_host=2), _host)
    for n in range(40):
        scheduler.schedule((f"h{n % 4}-i{n}", "r"), time.time())
    async with scheduler:
        await asyncio.wait_for(all_done.wait(), 10)
    assert peak_total == 5
    assert max(peak_host.values()) == 2


async def test_stop_cancels_polls_that_outlive_the_grace() -> None:
    started = asyncio.Event()
    cancelled = False

    async def runner(_key: Key) -> float | None:
        nonlocal cancelled
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled = True
            raise
        return None

    scheduler = PollScheduler("t", runner, PollLimits(1, 1), _host)
    scheduler.schedule(("a", "r"), time.time())
    await scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    await scheduler.stop(grace=0.05)
    assert cancelled
    assert scheduler.running == 0


async def test_a_crashing_runner_is_counted_and_retried_later() -> None:
    async def runner(_key: Key) -> float | None:
        raise RuntimeError("bug")

    scheduler = PollScheduler("t", runner, PollLimits(1, 1), _host)
    scheduler.schedule(("a", "r"), time.time())
    async with scheduler:
        for _ in range(100):
            if scheduler.crashed_polls:
                break
            await asyncio.sleep(0.01)
    assert scheduler.crashed_polls == 1
    assert scheduler.scheduled_keys() == {("a", "r")}  # still scheduled, a minute later


async def test_heap_stays_small_when_keys_are_rescheduled_often() -> None:
    async def runner(_key: Key) -> float | None:
        return None

    scheduler = PollScheduler("t", runner, PollLimits(1, 1), _host)
    for n in range(10_000):
        scheduler.schedule(("a", "r"), time.time() + 3600 + n)
    assert len(scheduler._heap) <= 2 * len(scheduler) + 65


async def test_rescheduling_earlier_wakes_the_loop() -> None:
    ran = asyncio.Event()

    async def runner(_key: Key) -> float | None:
        ran.set()
        return None

    scheduler = PollScheduler("t", runner, PollLimits(1, 1), _host)
    scheduler.schedule(("a", "r"), time.time() + 3600)
    async with scheduler:
        await asyncio.sleep(0.05)
        assert not ran.is_set()
        scheduler.schedule(("a", "r"), time.time())
        await asyncio.wait_for(ran.wait(), 5)
    assert len(scheduler) == 0
