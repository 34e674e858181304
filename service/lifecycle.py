"""The shape every component of the service shares: start once, stop any number of times, `async with` both."""

from __future__ import annotations

from typing import Self


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
