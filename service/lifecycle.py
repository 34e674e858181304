"""The shape every component of the service shares: start once, stop any number of times, `async with` both."""

from __future__ import annotations

import asyncio
from typing import Any, Self


async def cancel_and_wait(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel the tasks and wait until they have finished.

    `asyncio.wait` rather than `await task`: a cancellation of the caller itself still propagates, and the tasks'
    own CancelledError is not mistaken for it.
    """
    pending = [task for task in tasks if task is not None]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)


class Component:
    """Base of the long-lived parts of the service.

    Subclasses implement `start` (acquire; call `_claim_start()` first so a second start is refused) and `stop`
    (release; idempotent and safe after a failed start). `async with component:` runs the two.
    """

    _started: bool = False

    def _claim_start(self) -> None:
        """Mark the component started; raise RuntimeError when it already was."""
        if self._started:
            raise RuntimeError(f"{type(self).__name__} already started")
        self._started = True

    async def start(self) -> None:
        """Acquire what the component needs."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Release it; idempotent."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
