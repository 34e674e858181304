"""Reading pages one ahead: order kept, errors raised where the reader is, the read closed when left early."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest

from service.errors import UpstreamError
from service.polling.fetch import Page
from service.polling.readahead import read_ahead


def _page(number: int) -> Page:
    return Page(records=[{"id": str(number)}], number=number, url=f"/p{number}", status=200)


class Pages:
    """A page generator that records how far it was read and whether it was closed."""

    def __init__(self, count: int, *, fail_after: int | None = None) -> None:
        self.count = count
        self.fail_after = fail_after
        self.produced = 0
        self.closed = False

    async def read(self) -> AsyncGenerator[Page, None]:
        try:
            for number in range(1, self.count + 1):
                if self.fail_after is not None and number > self.fail_after:
                    raise UpstreamError(f"page {number} failed")
                self.produced = number
                yield _page(number)
        finally:
            self.closed = True


async def test_pages_come_in_order_and_the_read_is_closed() -> None:
    source = Pages(5)
    async with read_ahead(source.read()) as pages:
        numbers = [page.number async for page in pages]
    assert numbers == [1, 2, 3, 4, 5]
    assert source.closed


async def test_an_error_comes_after_the_pages_before_it() -> None:
    source = Pages(5, fail_after=2)
    seen: list[int] = []

    async def read_all() -> None:
        async with read_ahead(source.read()) as pages:
            async for page in pages:
                seen.append(page.number)  # noqa: PERF401 - what arrived before the error is the point

    with pytest.raises(UpstreamError, match="page 3 failed"):
        await read_all()
    assert seen == [1, 2]


async def test_leaving_early_reads_at_most_two_pages_more_and_closes() -> None:
    source = Pages(100)
    async with read_ahead(source.read()) as pages:
        async for page in pages:
            if page.number == 3:
                break
    assert source.closed
    assert source.produced <= 5  # one queued, one waiting to be queued: memory stays bounded
