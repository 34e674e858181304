"""Composition root: builds the components for the configured role, starts them in order, stops them in reverse.

Start order: topics checked → event bus → registry → poller → HTTP server (webhooks, admin, health, metrics).
SIGTERM stops the HTTP server first (no new webhooks), gives in-flight polls the grace period to finish and
commit, then flushes the bus.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import AsyncExitStack

from aiohttp import web
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service.admin import AdminApi
from service.bus.producer import EventBus
from service.bus.topics import ensure_topics, topic_specs
from service.config import Settings
from service.errors import PublishError
from service.health import Health
from service.lifecycle import Component
from service.metrics import Metrics
from service.polling.worker import PollerWorker
from service.registry.store import RegistryReader
from service.webhooks.ingress import WebhookIngress

log = logging.getLogger(__name__)


async def prepare_topics(settings: Settings) -> None:
    """Create missing topics and refuse to go on when an existing one has the wrong shape.

    Raises:
        TopicMismatchError: a topic has the wrong cleanup policy or partition count.
        PublishError: Kafka cannot be reached.
    """
    admin = AIOKafkaAdminClient(**settings.kafka.client_options())
    try:
        await admin.start()
        await ensure_topics(
            admin,
            topic_specs(settings.topics),
            replication_factor=settings.topics.replication_factor,
            create=settings.topics.create,
        )
    except KafkaError as exc:
        raise PublishError(f"cannot reach Kafka at {settings.kafka.bootstrap_servers}: {exc!r}") from exc
    finally:
        await admin.close()


class Service(Component):
    """The whole process for one role (`all`, `poller`, `ingress`).

    `start` acquires, in order: the topic check, the event bus, the registry reader, the poller, and the HTTP
    listener; if any step fails, what was started is stopped again and the error escapes (`ConfigError`,
    `TopicMismatchError`, `PublishError`). `stop` is idempotent and stops in reverse order.
    """

    def __init__(self, settings: Settings, *, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.health = Health()
        self.bus = EventBus(settings.kafka)
        self.registry: RegistryReader | None = None
        self.ingress: WebhookIngress | None = None
        self.poller: PollerWorker | None = None
        self.port: int | None = None
        self._stack: AsyncExitStack | None = None

    async def start(self) -> None:
        """Start every component of the role."""
        self._claim_start()
        stack = AsyncExitStack()
        try:
            await prepare_topics(self.settings)
            await stack.enter_async_context(self.bus)
            self.health.add("kafka", lambda: None if self.bus.running else "event bus not connected")
            if self.settings.role in ("all", "ingress"):
                self.registry = RegistryReader(self.settings.kafka, self.settings.topics)
                await stack.enter_async_context(self.registry)
                registry = self.registry
                self.health.add("registry", lambda: _failed("registry reader", registry.failed))
                self.metrics.registry_entries.labels("elements").set_function(lambda: len(registry.elements))
                self.metrics.registry_entries.labels("instances").set_function(lambda: len(registry.instances))
                self.ingress = WebhookIngress(self.settings, self.metrics, self.bus, registry)
                await stack.enter_async_context(self.ingress)
            if self.settings.role in ("all", "poller"):
                self.poller = PollerWorker(self.settings, self.metrics, self.health)
                await stack.enter_async_context(self.poller)
            await self._start_http(stack)
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        log.info("service started", extra={"role": self.settings.role, "port": self.port})

    async def stop(self) -> None:
        """Stop accepting, let in-flight work finish within the grace period, flush; idempotent."""
        self.health.stopping = True
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()
            log.info("service stopped")


    def build_http_app(self) -> web.Application:
        """The aiohttp application: health, metrics, and the routes of the role."""
        app = web.Application(client_max_size=self.settings.http.max_body_bytes)
        app.add_routes([*self.health.routes(), web.get("/metrics", self._metrics)])
        if self.ingress is not None:
            app.add_routes(self.ingress.routes())
        token = self.settings.http.admin_token
        if self.registry is not None and token is not None:
            app.add_routes(AdminApi(self.settings, self.registry, token).routes())
        return app

    async def _start_http(self, stack: AsyncExitStack) -> None:
        runner = web.AppRunner(self.build_http_app(), access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, self.settings.http.host, self.settings.http.port)
        await site.start()
        server = site._server  # aiohttp exposes the bound port only through the server's sockets
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.settings.http.port

    async def _metrics(self, _request: web.Request) -> web.Response:
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def _failed(what: str, error: BaseException | None) -> str | None:
    return None if error is None else f"{what} crashed: {error!r}"


async def run_service(settings: Settings) -> int:
    """Run until SIGTERM or SIGINT; return the exit code (0 after a clean stop)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    service = Service(settings)
    async with service:
        await stop.wait()
        log.info("signal received; shutting down", extra={"grace_seconds": settings.grace_period.total_seconds()})
    return 0
