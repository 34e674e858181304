"""Provider pages read one ahead: the next page is fetched while the poll handles the current one.

The provider's latency then overlaps the poll's own work; at most one page waits, so memory stays bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator

from service.lifecycle import cancel_and_wait
from service.polling.fetch import Page


def page_reader(
    pages: AsyncGenerator[Page, None], *, ahead: bool
) -> contextlib.AbstractAsyncContextManager[AsyncIterator[Page]]:
    """The pages, read ahead unless the read may stop early (newest-first): no request is made in vain."""
    return read_ahead(pages) if ahead else contextlib.aclosing(pages)


@contextlib.asynccontextmanager
async def read_ahead(pages: AsyncGenerator[Page, None]) -> AsyncIterator[AsyncIterator[Page]]:
    """Fetch the next page while the caller handles this one: the provider's latency overlaps our work.

    One page ahead at most (memory stays bounded); an error of the read is raised where the caller iterates.
    """
    queue: asyncio.Queue[Page | Exception | None] = asyncio.Queue(maxsize=1)

    async def pump() -> None:
        try:
            async for page in pages:
                await queue.put(page)
        except Exception as exc:  # noqa: BLE001 - handed over and raised in the reader's task
            await queue.put(exc)
        else:
            await queue.put(None)

    async def read() -> AsyncIterator[Page]:
        while (item := await queue.get()) is not None:
            if isinstance(item, Exception):
                raise item
            yield item

    task = asyncio.create_task(pump(), name="read-ahead")
    try:
        yield read()
    finally:
        await cancel_and_wait(task)
        await pages.aclose()
