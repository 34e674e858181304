"""Webhook ingress throughput and latency on a real broker, against a bare aiohttp handler in the same run.

Drives `WebhookIngress` over real TCP with GitHub-signed pushes (each a new delivery) through a JavaScript hook that
yields two events per request, every event acknowledged by Kafka (acks=all) before the 200. The baseline is an
aiohttp handler that reads the body and answers 200, served and driven the same way, so the ratio is what the
ingress adds. Client and servers share one event loop (and the machine's cores), as a sidecar load would.

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 python bench/webhooks.py [--seconds 10] [--concurrency 32]

Without a broker at that address, one is started with deploy/kafka.sh (port 9092) and left running.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson
import yaml
from aiohttp import web
from aiokafka.admin import AIOKafkaAdminClient

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from service.app import prepare_topics  # noqa: E402 - after the repository is on the path
from service.bus.producer import EventBus  # noqa: E402
from service.config import Settings, load_settings  # noqa: E402
from service.metrics import Metrics  # noqa: E402
from service.registry.manifest import parse_manifest  # noqa: E402
from service.registry.operations import apply_manifest  # noqa: E402
from service.registry.store import RegistryReader  # noqa: E402
from service.webhooks.ingress import WebhookIngress  # noqa: E402

SECRET = "bench-github-secret"  # noqa: S105 - signs the bench's own requests
HOOK = """
if (events.eventHeaders["x-github-event"] !== "push") return { events: [] };
done({ events: events.commits.map((commit) => ({
  event_date: commit.timestamp, event_object_id: commit.id, event_object_type: "commits",
  event_type: commit.added.length > 0 ? "created" : "updated",
})) });
"""
PUSH = orjson.dumps({
    "ref": "refs/heads/main",
    "repository": {"id": 35129377, "full_name": "baxterthehacker/public-repo"},
    "pusher": {"name": "baxterthehacker"},
    "commits": [
        {"id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "timestamp": "2015-05-05T19:40:15-04:00",
         "message": "Update README.md", "added": [], "removed": [], "modified": ["README.md"]},
        {"id": "1481a2de7b2a7d02428ad93446ab166be7793fbb", "timestamp": "2015-05-05T19:41:15-04:00",
         "message": "Add LICENSE", "added": ["LICENSE"], "removed": [], "modified": []},
    ],
})
MANIFEST = {
    "elements": [{
        "key": "github", "hubKey": "code", "configuration": {"event.vendor.type": "webhook"},
        "webhook": {"verification": {"scheme": "github", "secretConfigKey": "webhook.secret"},
                    "deliveryId": "X-GitHub-Delivery", "hook": HOOK},
    }],
    "instances": [{"id": "gh-bench", "elementKey": "github", "name": "bench",
                   "configuration": {"event.notification.enabled": "true", "webhook.secret": SECRET}}],
}


@dataclass
class Result:
    """One measured target."""

    name: str
    requests: int
    seconds: float
    latencies: list[float]
    failures: int

    @property
    def rate(self) -> float:
        """Successful requests per second."""
        return self.requests / self.seconds

    def percentile(self, fraction: float) -> float:
        """Latency at `fraction` (0..1) in milliseconds."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def _reachable(bootstrap: str) -> bool:
    host, _, port = bootstrap.split(",", maxsplit=1)[0].rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1.0):
            return True
    except OSError:
        return False


def ensure_broker(bootstrap: str) -> str:
    """The broker's address, starting one with deploy/kafka.sh when nothing answers there."""
    if _reachable(bootstrap):
        return bootstrap
    port = bootstrap.rpartition(":")[2]
    print(f"no broker at {bootstrap}: starting one with deploy/kafka.sh (port {port})", file=sys.stderr)
    command = ["bash", str(REPO / "deploy" / "kafka.sh"), "start"]
    started = subprocess.run(  # noqa: S603 - our own script
        command, env={**os.environ, "KAFKA_PORT": port}, capture_output=True, text=True, check=True
    )
    return started.stdout.strip().splitlines()[-1]


def signed_request(delivery: str) -> dict[str, str]:
    """Headers of one GitHub push delivery."""
    signature = hmac.new(SECRET.encode(), PUSH, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": f"sha256={signature}"}


async def drive(
    name: str, send: Callable[[int], Awaitable[bool]], *, seconds: float, concurrency: int
) -> Result:
    """Send requests from `concurrency` workers for `seconds`; time each."""
    latencies: list[float] = []
    failures = 0
    counter = iter(range(10**9))
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal failures
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            ok = await send(next(counter))
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(name, len(latencies), time.perf_counter() - started, latencies, failures)


async def serve(app: web.Application, stack: AsyncExitStack) -> str:
    """Serve `app` on a free local port; its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # aiohttp has no public accessor
    return f"http://127.0.0.1:{port}"


async def bare(request: web.Request) -> web.Response:
    """The baseline: read the body, answer 200 with a small JSON body."""
    await request.read()
    return web.json_response({"events": 0})


def bench_settings(bootstrap: str, hook_workers: int) -> Settings:
    """Settings with topics of this run only."""
    suffix = uuid.uuid4().hex[:8]
    return load_settings(
        kafka={"bootstrap_servers": bootstrap},
        topics={name: f"bench-{name}-{suffix}" for name in ("events", "dlq", "cursors", "instances", "elements")},
        hooks={"workers": hook_workers},
        log_format="text",
    )


async def delete_topics(settings: Settings) -> None:
    """Remove this run's topics from the broker."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap_servers)
    await admin.start()
    try:
        topics = settings.topics
        await admin.delete_topics([topics.events, topics.dlq, topics.cursors, topics.instances, topics.elements])
    finally:
        await admin.close()


async def main(seconds: float, concurrency: int, hook_workers: int) -> None:
    """Set up, warm up, measure the baseline and the ingress, print the comparison."""
    bootstrap = ensure_broker(os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    settings = bench_settings(bootstrap, hook_workers)
    await prepare_topics(settings)
    await apply_manifest(settings, parse_manifest(yaml.safe_dump(MANIFEST), source="bench"))
    run = uuid.uuid4().hex[:8]
    try:
        async with AsyncExitStack() as stack:
            bus = await stack.enter_async_context(EventBus(settings.kafka))
            registry = await stack.enter_async_context(RegistryReader(settings.kafka, settings.topics))
            metrics = Metrics()
            ingress = await stack.enter_async_context(WebhookIngress(settings, metrics, bus, registry))
            app = web.Application(client_max_size=settings.http.max_body_bytes)
            app.add_routes(ingress.routes())
            ingress_url = await serve(app, stack) + "/events/github/gh-bench"
            baseline = web.Application()
            baseline.add_routes([web.post("/bare", bare)])
            bare_url = await serve(baseline, stack) + "/bare"
            connector = aiohttp.TCPConnector(limit=concurrency * 2)
            session = await stack.enter_async_context(aiohttp.ClientSession(connector=connector))

            async def post(url: str, headers: dict[str, str]) -> bool:
                async with session.post(url, data=PUSH, headers=headers) as response:
                    await response.read()
                    return response.status == 200

            async def to_ingress(n: int) -> bool:
                return await post(ingress_url, signed_request(f"{run}-{n}"))

            async def to_bare(n: int) -> bool:
                return await post(bare_url, signed_request(f"{run}-bare-{n}"))

            # Warm-up: connections, hook compilation on each worker, producer metadata.
            await drive("warm-up", to_ingress, seconds=2, concurrency=concurrency)
            await drive("warm-up", to_bare, seconds=1, concurrency=concurrency)
            results = [
                await drive("bare aiohttp handler", to_bare, seconds=seconds, concurrency=concurrency),
                await drive("webhook ingress", to_ingress, seconds=seconds, concurrency=concurrency),
            ]
    finally:
        await delete_topics(settings)
    report(results, concurrency)
    labels = {"element": "github"}
    hook_sum = metrics.registry.get_sample_value("connector_events_hook_duration_seconds_sum", labels)
    hook_count = metrics.registry.get_sample_value("connector_events_hook_duration_seconds_count", labels)
    if hook_sum is not None and hook_count:
        print(f"mean hook wall time (queue + QuickJS run, {settings.hooks.workers} workers): "
              f"{hook_sum / hook_count * 1000:.2f} ms")


def report(results: list[Result], concurrency: int) -> None:
    """Print one line per target and the ingress/bare ratios."""
    print(f"webhooks: GitHub push ({len(PUSH)} bytes, signed, JS hook -> 2 events, acks=all), "
          f"concurrency {concurrency}, {os.cpu_count()} cores")
    print(f"{'target':<22} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'failed':>7}")
    for result in results:
        print(f"{result.name:<22} {result.requests:>9} {result.rate:>9.0f} {result.percentile(0.5):>8.2f} "
              f"{result.percentile(0.99):>8.2f} {result.failures:>7}")
    base, ingress = results
    print(f"ingress/bare: throughput x{ingress.rate / base.rate:.2f}, "
          f"p50 x{ingress.percentile(0.5) / base.percentile(0.5):.1f}, "
          f"p99 x{ingress.percentile(0.99) / base.percentile(0.99):.1f}; "
          f"events/s {2 * ingress.rate:.0f}; mean ingress latency {statistics.fmean(ingress.latencies) * 1000:.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per target")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument("--hook-workers", type=int, default=2, help="event hook threads (settings.hooks.workers)")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.seconds, arguments.concurrency, arguments.hook_workers))
