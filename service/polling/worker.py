"""The poller role of a process: provider HTTP client, element table, and the partitions it owns.

`service.app` runs one `PollerWorker` for the roles `all` and `poller`.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

from service.config import Settings
from service.health import Health
from service.lifecycle import Component
from service.metrics import Metrics
from service.polling.fetch import ProviderClient
from service.polling.ownership import PartitionOwnership
from service.registry.store import RegistryReader


class PollerWorker(Component):
    """Polls the instances of the partitions this process is assigned in the pollers' group.

    `start` opens the provider HTTP session, loads the elements, and joins the group; it raises `PublishError`
    when Kafka cannot be reached (what was started is stopped again). `stop` gives running polls the settings'
    grace period to finish and commit, then leaves the group and closes everything; idempotent.
    """

    def __init__(self, settings: Settings, metrics: Metrics, health: Health) -> None:
        self._settings = settings
        self._metrics = metrics
        self._health = health
        polling = settings.polling
        self.client = ProviderClient(
            metrics=metrics, limit=polling.max_concurrent_polls,
            limit_per_host=polling.max_polls_per_host,
        )
        # Elements only: the instances come from the group consumer, partition by partition.
        self.elements = RegistryReader(settings.kafka, settings.topics, instance_partitions=[], read_elements=True)
        self.ownership = PartitionOwnership(settings, metrics, self.elements.elements, self.client)
        self._stack: AsyncExitStack | None = None

    async def start(self) -> None:
        """Open the HTTP session, load elements, join the group."""
        self._claim_start()
        stack = AsyncExitStack()
        try:
            await stack.enter_async_context(self.client)
            await stack.enter_async_context(self.elements)
            await self.ownership.start()
            stack.push_async_callback(self.ownership.stop, self._settings.grace_period.total_seconds())
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        self._health.add("poller", self._problem)

    async def stop(self) -> None:
        """Let running polls finish within the grace period, commit, leave the group; idempotent."""
        self._health.remove("poller")
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()

    def _problem(self) -> str | None:
        if self.elements.failed is not None:
            return f"element reader crashed: {self.elements.failed!r}"
        return self.ownership.problem()
