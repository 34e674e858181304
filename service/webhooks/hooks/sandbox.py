"""The JavaScript sandbox that runs event hooks: QuickJS contexts on worker threads, with time and memory limits.

Owns compilation (once per hook source and worker), the Open Connectors calling convention and the mapping of
script failures to `HookError`. The contract of the result lives in `contract`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

# The C extension itself: the `quickjs` wrapper module starts a thread of its own at import.
import _quickjs  # type: ignore[import-not-found]
import orjson

from service.webhooks.hooks.contract import HookError, HookErrorReason, HookEvent, events_from_output

# The driver of every context (console buffer, Open Connectors calling convention), in JavaScript beside this file.
_PRELUDE = resources.files(__package__).joinpath("prelude.js").read_text(encoding="utf-8")


# One hook that logs in a loop must not flood the service's logs.
_MAX_LOG_LINES = 100
_MAX_LOG_CHARS = 2000
_PRELUDE = _PRELUDE.replace("__MAX_LINES__", str(_MAX_LOG_LINES)).replace("__MAX_CHARS__", str(_MAX_LOG_CHARS))
_MAX_ERROR_CHARS = 500
# Hooks run in strict mode, as in Open Connectors, as the body of a function so that they may `return`.
_WRAPPER_HEAD = 'function (events, configuration, done) {\n"use strict";\n'
_WRAPPER_TAIL = "\n}"
_LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


@dataclass
class _CompiledHook:
    """One hook source compiled in its own context (so hooks of different elements share no globals)."""

    context: _quickjs.Context
    hook: _quickjs.Object
    start: _quickjs.Object
    finish: _quickjs.Object
    drain: _quickjs.Object
    baseline_bytes: int


@dataclass
class _Worker:
    """A single thread and the contexts that live on it; QuickJS runtimes must never change threads."""

    executor: ThreadPoolExecutor
    in_flight: int = 0  # touched only on the event loop thread
    hooks: OrderedDict[str, _CompiledHook] = field(default_factory=OrderedDict)  # only on the worker thread


@dataclass(frozen=True)
class _Call:
    source: str
    body: object
    configuration: Mapping[str, str]
    instance_id: str
    headers: Mapping[str, str] | None
    event_id: str | None


class HookRunner:
    """Runs Open Connectors event hooks in QuickJS, off the event loop, with a time and a memory limit per call.

    Each hook source is compiled once per worker thread, in a context of its own, and cached (LRU). The
    sandbox exposes only the ECMAScript built-ins, `console` (forwarded to `logger` with the instance id) and
    `getArray()`: no `require`, `fetch`, `std`, `os` or module loading, so no file, network or process access.
    A call that throws, times out, runs out of memory or returns a wrong shape raises `HookError` and leaves
    the runner usable; after a timeout or memory failure the context is discarded and rebuilt on next use.

    The time limit is measured by QuickJS with `clock()`, the process's CPU time: with several busy threads
    it fires early, never late. Cancelling `run` does not stop the script; it ends by the time limit.
    """

    def __init__(
        self,
        *,
        workers: int,
        time_limit: float,
        memory_limit_bytes: int,
        logger: logging.Logger | None = None,
        max_cached_hooks: int = 32,
    ) -> None:
        """Start the worker threads.

        Args:
            workers: threads, hence calls that can run at once.
            time_limit: seconds of CPU time one call may take.
            memory_limit_bytes: heap one call may allocate beyond the compiled hook (its input included).
            logger: receives the hooks' `console` output; defaults to this module's logger.
            max_cached_hooks: compiled hook sources kept per worker.
        """
        if workers < 1 or time_limit <= 0 or memory_limit_bytes <= 0 or max_cached_hooks < 1:
            raise ValueError("workers, time_limit, memory_limit_bytes and max_cached_hooks must be positive")
        self._time_limit = time_limit
        self._memory_limit = memory_limit_bytes
        self._logger = logger if logger is not None else logging.getLogger(__name__)
        self._max_cached = max_cached_hooks
        self._workers = [
            _Worker(ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"event-hook-{index}"))
            for index in range(workers)
        ]
        self._closed = False

    async def run(
        self,
        source: str,
        body: object,
        configuration: Mapping[str, str],
        *,
        instance_id: str,
        headers: Mapping[str, str] | None = None,
        event_id: str | None = None,
        received_at: datetime | None = None,
    ) -> list[HookEvent]:
        """Run a hook on one webhook body and return the events it produced.

        Args:
            source: the hook's JavaScript (a function body: it calls `done({...})` or `return`s the result).
            body: the parsed body (JSON object or array, or form fields as strings): the `events` variable.
            configuration: the instance's configuration: the `configuration` variable.
            instance_id: named in errors and in the `console` log lines.
            headers: the request headers, exposed as `events.eventHeaders` with lower-case names.
            event_id: exposed as `events.eventId` (for example the provider's delivery id).
            received_at: the date of events whose item has no `event_date`; defaults to now.

        Raises:
            HookError: reason `error`, `timeout`, `memory` or `shape`.
            RuntimeError: the runner is closed.
        """
        if self._closed:
            raise RuntimeError("the hook runner is closed")
        call = _Call(
            source=source,
            body=body,
            configuration=dict(configuration),
            instance_id=instance_id,
            headers=None if headers is None else {name.lower(): value for name, value in headers.items()},
            event_id=event_id,
        )
        worker = min(self._workers, key=lambda candidate: candidate.in_flight)
        worker.in_flight += 1
        try:
            output = await asyncio.wrap_future(worker.executor.submit(self._execute, worker, call))
        finally:
            worker.in_flight -= 1
        when = received_at if received_at is not None else datetime.now(UTC)
        return events_from_output(output, received_at=when, where=_where(instance_id))

    def close(self) -> None:
        """Free every context on its own thread and stop the workers (waits for running calls). Idempotent."""
        if self._closed:
            return
        self._closed = True
        for worker in self._workers:
            worker.executor.submit(worker.hooks.clear)
            worker.executor.shutdown(wait=True)

    def __enter__(self) -> HookRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Everything below runs on a worker thread.

    def _execute(self, worker: _Worker, call: _Call) -> object:
        where = _where(call.instance_id)
        compiled = self._compiled(worker, call.source, where)
        request = orjson.dumps(
            {"body": call.body, "configuration": call.configuration, "headers": call.headers, "eventId": call.event_id}
        ).decode()
        context = compiled.context
        context.set_memory_limit(compiled.baseline_bytes + self._memory_limit)
        key = _digest(call.source)
        try:
            outcome = self._drive(compiled, request, where)
            # Promise jobs still queued after the result belong to this call: rather than let them run inside
            # the next one, the context is rebuilt.
            if context.execute_pending_job():
                worker.hooks.pop(key, None)
        except _quickjs.JSException as exc:
            reason = _reason(exc)
            if reason in {"timeout", "memory"}:
                # A context interrupted mid-allocation may hold half-built state: start the next call afresh.
                worker.hooks.pop(key, None)
            raise HookError(_describe(where, reason, exc), reason=reason) from None
        except HookError:
            worker.hooks.pop(key, None)
            raise
        finally:
            # No explicit gc(): QuickJS frees by reference counting at once and collects cycles on its own
            # threshold, while a forced collection costs milliseconds per call.
            self._forward_console(compiled, call.instance_id)
        if "failure" in outcome:
            raise HookError(f"{where}: rejected: {str(outcome['failure'])[:_MAX_ERROR_CHARS]}", reason="error")
        if "value" not in outcome:
            raise HookError(f"{where}: called done() without a result", reason="shape")
        return outcome["value"]

    def _drive(self, compiled: _CompiledHook, request: str, where: str) -> dict[str, Any]:
        state = compiled.start(compiled.hook, request)
        # Promise jobs each get the time limit anew, so the whole call is also bounded by a wall-clock deadline.
        deadline = time.monotonic() + self._time_limit
        while True:
            result = compiled.finish(state)
            if isinstance(result, str):
                outcome: dict[str, Any] = orjson.loads(result)
                return outcome
            if not compiled.context.execute_pending_job():
                raise HookError(f"{where}: neither returned a result nor called done()", reason="shape")
            if time.monotonic() > deadline:
                raise HookError(f"{where}: pending promise jobs exceeded the time limit", reason="timeout")

    def _forward_console(self, compiled: _CompiledHook, instance_id: str) -> None:
        try:
            taken = compiled.drain()
        except _quickjs.JSException as exc:
            # Only after the call already failed on its limits; the failure itself is what gets reported.
            self._logger.warning("event hook of instance %s: console output lost: %s", instance_id, _first_line(exc))
            return
        if not isinstance(taken, str):
            return
        console = orjson.loads(taken)
        for level, text in console["lines"]:
            self._logger.log(
                _LOG_LEVELS.get(level, logging.INFO), "event hook of instance %s: %s", instance_id, text,
                extra={"instance_id": instance_id},
            )
        if console["dropped"]:
            self._logger.warning(
                "event hook of instance %s: %d further console lines dropped", instance_id, console["dropped"],
                extra={"instance_id": instance_id},
            )

    def _compiled(self, worker: _Worker, source: str, where: str) -> _CompiledHook:
        key = _digest(source)
        cached = worker.hooks.get(key)
        if cached is not None:
            worker.hooks.move_to_end(key)
            return cached
        context = _quickjs.Context()
        context.set_time_limit(self._time_limit)
        context.eval(_PRELUDE)
        start, finish = _take_global(context, "__start"), _take_global(context, "__finish")
        drain = _take_global(context, "__drain")
        source_of = _take_global(context, "__sourceOf")
        context.set_memory_limit(int(context.memory()["memory_used_size"]) + self._memory_limit)
        wrapped = _WRAPPER_HEAD + source + _WRAPPER_TAIL
        try:
            hook = context.eval(f"({wrapped})")
            intact = isinstance(hook, _quickjs.Object) and source_of(hook) == wrapped
        except _quickjs.JSException as exc:
            raise HookError(f"{where}: does not compile: {_first_line(exc)}", reason="error") from None
        if not intact:
            raise HookError(f"{where}: does not compile: unbalanced braces close the hook function", reason="error")
        context.gc()
        baseline = int(context.memory()["memory_used_size"])
        compiled = _CompiledHook(context, hook, start, finish, drain, baseline)
        worker.hooks[key] = compiled
        if len(worker.hooks) > self._max_cached:
            worker.hooks.popitem(last=False)
        return compiled


def _take_global(context: _quickjs.Context, name: str) -> _quickjs.Object:
    """Read a function the prelude left on the global object, then remove it from the hooks' reach."""
    value = context.get(name)
    context.eval(f"delete globalThis.{name};")
    if not isinstance(value, _quickjs.Object):
        raise TypeError(f"the sandbox prelude did not define {name}")
    return value


def _digest(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def _where(instance_id: str) -> str:
    return f"event hook of instance {instance_id}"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or ["(no message)"])[0][:_MAX_ERROR_CHARS]


def _reason(exc: _quickjs.JSException) -> HookErrorReason:
    first = _first_line(exc)
    if isinstance(exc, _quickjs.StackOverflow) or "stack size exceeded" in first or "stack overflow" in first:
        return "memory"
    if first.startswith("InternalError: interrupted"):
        return "timeout"
    if first.startswith("InternalError:") and ("out of memory" in first or "too long" in first):
        return "memory"
    # When the heap is so full that not even the InternalError fits, QuickJS throws a bare null. A script
    # that throws null itself cannot be told apart and is reported as memory too.
    if first == "null":
        return "memory"
    return "error"


def _describe(where: str, reason: HookErrorReason, exc: BaseException) -> str:
    if reason == "timeout":
        return f"{where}: exceeded its time limit"
    if reason == "memory":
        detail = _first_line(exc)
        return f"{where}: exceeded its memory or stack limit" + ("" if detail == "null" else f" ({detail})")
    return f"{where}: threw {_first_line(exc)}"
