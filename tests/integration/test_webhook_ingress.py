"""The webhook ingress on a real broker: routes and instance resolution, statuses, verification, handshakes,
hooks on real payload shapes, dead letters, redeliveries and metrics.

`harness` (also used by the fuzz and outage tests) applies `ELEMENTS`/`INSTANCES` to this test's topics and serves
the ingress routes through aiohttp's test client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from service.app import Service, prepare_topics
from service.bus.producer import EventBus
from service.config import Settings
from service.metrics import Metrics
from service.registry.manifest import parse_manifest
from service.registry.models import Element, Instance
from service.registry.operations import apply_manifest
from service.registry.store import RegistryReader
from service.webhooks.ingress import WebhookIngress
from service.webhooks.publish import MAX_RECORD_BYTES
from tests.kafka_helpers import Record, consume, consume_all

pytestmark = pytest.mark.kafka

GH_SECRET = "gh-secret-1"
STRIPE_SECRET = "sk_stripe_signing"
SLACK_SECRET = "slack-signing-secret"
SHOPIFY_SECRET = "shopify-app-secret"
SVIX_KEY = b"standard-webhooks-key-bytes-0123"
SVIX_SECRET = "whsec_" + base64.b64encode(SVIX_KEY).decode()
BOX_SECRET = "box-primary-key"
DROPBOX_SECRET = "dropbox-app-secret"
ZOOM_SECRET = "zoom-secret-token"
OC_INSTANCE = "ab?>~xy"  # standard base64 of it has '/' and '=': "YWI/Pn54eQ=="

GITHUB_PUSH = {
    "ref": "refs/heads/main",
    "repository": {"id": 35129377, "full_name": "baxterthehacker/public-repo"},
    "commits": [
        {"id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "timestamp": "2015-05-05T19:40:15-04:00", "added": []},
        {"id": "1481a2de7b2a7d02428ad93446ab166be7793fbb", "timestamp": "2015-05-05T19:41:15-04:00",
         "added": ["LICENSE"]},
    ],
}
GITHUB_HOOK = """
if (events.eventHeaders["x-github-event"] !== "push") return { events: [] };
done({ events: events.commits.map((commit) => ({
  event_date: commit.timestamp, event_object_id: commit.id, event_object_type: "commits",
  event_type: commit.added.length > 0 ? "created" : "updated", delivery: events.eventId,
})) });
"""
STRIPE_EVENT = {
    "id": "evt_1NG8Du2eZvKYlo2CUI79vXWy",
    "object": "event",
    "created": 1686089970,
    "data": {"object": {"id": "cus_9s6XKzkNRiz8i3", "object": "customer"}},
    "type": "customer.deleted",
}
STRIPE_HOOK = """
const object = events.data.object;
return { events: [{ event_date: events.created, event_object_id: object.id,
  event_type: events.type.split(".").pop(), event_object_type: object.object + "s" }] };
"""
BOX_FORM = {"item_id": "123456789", "item_type": "file", "event_type": "uploaded", "enterprise_id": "e-77"}
BOX_HOOK = """
var kinds = { uploaded: "CREATED", moved: "UPDATED", deleted: "DELETED" };
var formatted = getArray();
formatted.add({ event_object_id: events.item_id, event_type: kinds[events.event_type] || "UNKNOWN",
  event_object_type: events.item_type + "s" });
return { events: formatted };
"""
HUBSPOT_BATCH = [
    {"portalId": 62515, "objectId": 1246965, "subscriptionType": "contact.creation", "occurredAt": 1714557600000},
    {"portalId": 62515, "objectId": 1246978, "subscriptionType": "contact.propertyChange", "occurredAt": 1714557601000},
    {"portalId": 62515, "objectId": 88, "subscriptionType": "deal.deletion", "occurredAt": 1714557602000},
]
FLAKY_HOOK = """
if (events.mode === "throw") throw new Error("cannot read this body");
if (events.mode === "timeout") { while (true) {} }
if (events.mode === "memory") { const kept = []; while (true) kept.push(new Array(100000).fill(kept.length)); }
if (events.mode === "shape") return { items: [] };
return { events: [{ event_object_id: "ok", event_object_type: "things", event_type: "updated" }] };
"""


def _webhook_element(key: str, webhook: dict[str, Any], hub: str = "general") -> dict[str, Any]:
    return {"key": key, "hubKey": hub, "configuration": {"event.vendor.type": "webhook"}, "webhook": webhook}


def _instance(
    instance_id: str, element: str, config: dict[str, str] | None = None, *, enabled: bool = True
) -> dict[str, Any]:
    configuration = {"event.notification.enabled": "true" if enabled else "false", **(config or {})}
    return {"id": instance_id, "elementKey": element, "name": f"{instance_id} name", "tags": ["test"],
            "configuration": configuration}


ELEMENTS: list[dict[str, Any]] = [
    _webhook_element("github", {
        "verification": {"scheme": "github", "secretConfigKey": "webhook.secret"},
        "deliveryId": "X-GitHub-Delivery", "hook": GITHUB_HOOK,
    }, hub="code"),
    _webhook_element("stripe", {
        "verification": {"scheme": "stripe", "secret": STRIPE_SECRET}, "deliveryId": "$.id", "hook": STRIPE_HOOK,
    }, hub="payments"),
    _webhook_element("slack", {
        "verification": {"scheme": "slack", "secret": SLACK_SECRET}, "handshake": "slack",
        "mapping": {"id": "$.payload.trigger_id", "objectType": "interactions", "type": "$.payload.type"},
    }),
    _webhook_element("shopify", {
        "verification": {"scheme": "shopify", "secret": SHOPIFY_SECRET}, "deliveryId": "X-Shopify-Webhook-Id",
        "mapping": {"id": "$.id", "objectType": "orders", "type": "$headers.x-shopify-topic",
                    "typeMap": {"orders/create": "CREATED"}, "date": "$.created_at"},
    }),
    _webhook_element("svix", {
        "verification": {"scheme": "standard-webhooks", "secret": SVIX_SECRET}, "deliveryId": "webhook-id",
        "mapping": {"id": "$.data.id", "objectType": "$.type", "type": "updated"},
    }),
    _webhook_element("box", {
        "verification": {"scheme": "hmac", "secret": BOX_SECRET, "header": "Box-Signature-Primary",
                         "encoding": "base64", "timestampHeader": "Box-Delivery-Timestamp",
                         "signedPayload": "{body}{timestamp}"},
        "hook": BOX_HOOK, "instanceFinder": "box.enterprise|$.enterprise_id",
    }),
    _webhook_element("hubspot", {
        "instanceFinder": "hubspot.portal|$[*].portalId",
        "mapping": {"id": "$.objectId", "objectType": "$.subscriptionType", "type": "$.subscriptionType",
                    "typeMap": {"contact.creation": "CREATED", "contact.propertyChange": "UPDATED",
                                "deal.deletion": "DELETED"},
                    "date": "$.occurredAt"},
    }, hub="crm"),
    _webhook_element("dropbox", {
        "verification": {"scheme": "hmac", "secret": DROPBOX_SECRET, "header": "X-Dropbox-Signature"},
        "handshake": "dropbox",
    }),
    _webhook_element("graph", {"handshake": "msgraph"}),
    _webhook_element("zoom", {
        "verification": {"scheme": "hmac", "secret": ZOOM_SECRET, "header": "x-zm-signature", "prefix": "v0=",
                         "timestampHeader": "x-zm-request-timestamp", "signedPayload": "v0:{timestamp}:{body}"},
        "handshake": "zoom",
    }),
    _webhook_element("flaky", {"hook": FLAKY_HOOK}),
    {"key": "plain", "configuration": {"event.vendor.type": "webhook"}},
    {**_webhook_element("polled", {}), "configuration": {"event.vendor.type": "polling"}},
]
INSTANCES: list[dict[str, Any]] = [
    _instance("gh-1", "github", {"webhook.secret": GH_SECRET}),
    _instance("gh-2", "github", {"webhook.secret": GH_SECRET}),
    _instance("gh-off", "github", {"webhook.secret": GH_SECRET}, enabled=False),
    _instance(OC_INSTANCE, "github", {"webhook.secret": GH_SECRET}),
    _instance("stripe-1", "stripe"),
    _instance("slack-1", "slack"),
    _instance("shopify-1", "shopify"),
    _instance("svix-1", "svix"),
    _instance("box-1", "box", {"box.enterprise": "e-77"}),
    _instance("box-2", "box", {"box.enterprise": "e-88"}),
    _instance("hs-1", "hubspot", {"hubspot.portal": "62515"}),
    _instance("hs-2", "hubspot", {"hubspot.portal": "62515"}),
    _instance("hs-off", "hubspot", {"hubspot.portal": "62515"}, enabled=False),
    _instance("hs-other", "hubspot", {"hubspot.portal": "99999"}),
    _instance("hs-lonely", "hubspot", {"hubspot.portal": "55555"}, enabled=False),
    _instance("dropbox-1", "dropbox"),
    _instance("graph-1", "graph"),
    _instance("zoom-1", "zoom"),
    _instance("flaky-1", "flaky"),
    _instance("plain-1", "plain"),
    _instance("polled-1", "polled"),
]


@dataclass
class Harness:
    """The ingress of one test, its client and what it publishes to."""

    settings: Settings
    metrics: Metrics
    client: TestClient[web.Request, web.Application]
    registry: RegistryReader

    async def post(self, path: str, body: bytes | Any, headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
        """POST raw bytes (or JSON for anything else), with the given headers."""
        data = body if isinstance(body, bytes) else orjson.dumps(body)
        merged = {"Content-Type": "application/json", **(headers or {})}
        return await self.client.post(path, data=data, headers=merged)

    async def events(self, n: int) -> list[dict[str, Any]]:
        """The first n events on the events topic, decoded."""
        return [orjson.loads(record.value) for record in await consume(self.bootstrap, self.settings.topics.events, n)]

    async def all_events(self) -> list[Record]:
        """Every record on the events topic now."""
        return await consume_all(self.bootstrap, self.settings.topics.events)

    @property
    def bootstrap(self) -> str:
        """The broker address."""
        return self.settings.kafka.bootstrap_servers

    def sample(self, name: str, **labels: str) -> float:
        """A metric sample's value (0 when absent)."""
        return self.metrics.registry.get_sample_value(name, labels) or 0.0


def fast_hooks(settings: Settings) -> Settings:
    """Settings whose hooks time out quickly (the timeout test waits for it)."""
    hooks = settings.hooks.model_copy(update={"time_limit": timedelta(milliseconds=250)})
    return settings.model_copy(update={"hooks": hooks})


async def prepare(settings: Settings) -> None:
    """Create the test's topics and apply the elements and instances."""
    await prepare_topics(settings)
    manifest = parse_manifest(yaml.safe_dump({"elements": ELEMENTS, "instances": INSTANCES}), source="test")
    await apply_manifest(settings, manifest)


async def serve(settings: Settings, bus: EventBus) -> AsyncIterator[Harness]:
    """Serve the ingress over `bus` with a fresh registry reader and metrics."""
    metrics = Metrics()
    async with (
        RegistryReader(settings.kafka, settings.topics) as registry,
        WebhookIngress(settings, metrics, bus, registry) as ingress,
    ):
        app = web.Application(client_max_size=settings.http.max_body_bytes)
        app.add_routes(ingress.routes())
        async with TestClient(TestServer(app)) as client:
            yield Harness(settings, metrics, client, registry)


@pytest.fixture
async def harness(settings: Settings) -> AsyncIterator[Harness]:
    """The ingress on this test's topics, with every element of `ELEMENTS`."""
    configured = fast_hooks(settings)
    await prepare(configured)
    async with EventBus(configured.kafka) as bus:
        async for served in serve(configured, bus):
            yield served


# --- Signing, as each provider documents it ------------------------------------------------------------------


def _hex(key: str | bytes, payload: bytes, digest: Callable[[], Any] = hashlib.sha256) -> str:
    return hmac.new(key.encode() if isinstance(key, str) else key, payload, digest).hexdigest()


def _b64(key: str | bytes, payload: bytes) -> str:
    raw = hmac.new(key.encode() if isinstance(key, str) else key, payload, hashlib.sha256).digest()
    return base64.b64encode(raw).decode()


def now() -> str:
    """Epoch seconds now, as providers send them."""
    return str(int(time.time()))


def sign_github(body: bytes, _ts: str, secret: str = GH_SECRET) -> dict[str, str]:
    """`X-Hub-Signature-256: sha256=<hex>` (GitHub has no timestamp)."""
    return {"X-Hub-Signature-256": "sha256=" + _hex(secret, body)}


def sign_stripe(body: bytes, ts: str) -> dict[str, str]:
    """`Stripe-Signature: t=<ts>,v1=<hex of "<ts>.<body>">`."""
    return {"Stripe-Signature": f"t={ts},v1={_hex(STRIPE_SECRET, ts.encode() + b'.' + body)}"}


def sign_slack(body: bytes, ts: str) -> dict[str, str]:
    """`X-Slack-Signature: v0=<hex of "v0:<ts>:<body>">`."""
    signature = _hex(SLACK_SECRET, f"v0:{ts}:".encode() + body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={signature}"}


def sign_shopify(body: bytes, _ts: str) -> dict[str, str]:
    """`X-Shopify-Hmac-Sha256: <base64>` (no timestamp)."""
    return {"X-Shopify-Hmac-Sha256": _b64(SHOPIFY_SECRET, body), "X-Shopify-Topic": "orders/create"}


def sign_svix(body: bytes, ts: str, message_id: str = "msg_2a") -> dict[str, str]:
    """Standard Webhooks: `webhook-signature: v1,<base64 of "<id>.<ts>.<body>">` with the base64 key."""
    signature = _b64(SVIX_KEY, f"{message_id}.{ts}.".encode() + body)
    return {"webhook-id": message_id, "webhook-timestamp": ts, "webhook-signature": f"v1,{signature}"}


def sign_box(body: bytes, ts: str) -> dict[str, str]:
    """Box v2: base64 HMAC-SHA256 of body then timestamp."""
    return {"Box-Delivery-Timestamp": ts, "Box-Signature-Primary": _b64(BOX_SECRET, body + ts.encode())}


def sign_zoom(body: bytes, ts: str) -> dict[str, str]:
    """Zoom: `x-zm-signature: v0=<hex of "v0:<ts>:<body>">`."""
    return {"x-zm-request-timestamp": ts, "x-zm-signature": "v0=" + _hex(ZOOM_SECRET, f"v0:{ts}:".encode() + body)}


def sign_dropbox(body: bytes, _ts: str) -> dict[str, str]:
    """Dropbox: `X-Dropbox-Signature: <hex>`."""
    return {"X-Dropbox-Signature": _hex(DROPBOX_SECRET, body)}


# --- Routes and instance resolution --------------------------------------------------------------------------


def _b64_variants(instance_id: str) -> list[str]:
    standard = base64.b64encode(instance_id.encode()).decode()
    urlsafe = base64.urlsafe_b64encode(instance_id.encode()).decode()
    return [standard, standard.rstrip("="), urlsafe, urlsafe.rstrip("=")]


async def test_open_connectors_route_takes_base64_ids_standard_or_urlsafe_padded_or_not(harness: Harness) -> None:
    variants = _b64_variants(OC_INSTANCE)
    assert "/" in variants[0] and variants[0].endswith("=") and "_" in variants[2]
    body = orjson.dumps(GITHUB_PUSH)
    for number, encoded in enumerate(variants):
        headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": f"d-{number}", **sign_github(body, "")}
        response = await harness.post(f"/elements/api-v2/events/github/{encoded}", body, headers)
        assert response.status == 200, await response.text()
        assert (await response.json())["events"] == 2
    events = await harness.events(8)
    assert {event["instanceId"] for event in events} == {OC_INSTANCE}
    assert len({event["eventId"] for event in events}) == 8


async def test_events_route_publishes_normalized_events_with_cloudevents_headers(harness: Harness) -> None:
    body = orjson.dumps(GITHUB_PUSH)
    headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "72d3162e", **sign_github(body, "")}
    response = await harness.post("/events/github/gh-1", body, headers)
    assert response.status == 200
    reply = await response.json()
    records = await consume(harness.bootstrap, harness.settings.topics.events, 2)
    events = sorted((orjson.loads(record.value) for record in records), key=lambda event: event["date"])
    assert sorted(reply["eventIds"]) == sorted(event["eventId"] for event in events)
    first = events[0]
    assert (first["elementKey"], first["hubKey"], first["instanceId"], first["instanceName"]) == (
        "github", "code", "gh-1", "gh-1 name")
    assert (first["objectType"], first["objectId"], first["eventType"]) == (
        "commits", "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "UPDATED")
    assert (first["date"], first["source"], first["instanceTags"]) == ("2015-05-05T23:40:15Z", "webhook", ["test"])
    assert first["raw"] == GITHUB_PUSH
    assert events[1]["eventType"] == "CREATED"
    headers_of = {dict(record.headers)[("ce_id")].decode() for record in records}
    assert headers_of == set(reply["eventIds"])
    assert harness.sample("connector_events_events_published_total", source="webhook", type="CREATED") == 1


async def test_element_instances_header_publishes_for_each_named_instance(harness: Harness) -> None:
    body = orjson.dumps(GITHUB_PUSH)
    headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1", "Element-Instances": "gh-1, gh-2,gh-1",
               **sign_github(body, "")}
    response = await harness.post("/events/github", body, headers)
    assert response.status == 200
    assert (await response.json())["events"] == 4
    events = await harness.events(4)
    assert sorted(event["instanceId"] for event in events) == ["gh-1", "gh-1", "gh-2", "gh-2"]
    assert len({event["eventId"] for event in events}) == 4


async def test_instance_finder_publishes_one_event_set_per_matching_enabled_instance(harness: Harness) -> None:
    response = await harness.post("/events/hubspot", HUBSPOT_BATCH)
    assert response.status == 200
    assert (await response.json())["events"] == 6
    events = await harness.events(6)
    assert sorted({event["instanceId"] for event in events}) == ["hs-1", "hs-2"]  # not hs-off, not hs-other
    by_object = {(e["instanceId"], e["objectId"]): (e["objectType"], e["eventType"], e["date"]) for e in events}
    assert by_object[("hs-1", "88")] == ("deal.deletion", "DELETED", "2024-05-01T10:00:02Z")
    assert by_object[("hs-2", "1246965")] == ("contact.creation", "CREATED", "2024-05-01T10:00:00Z")


async def test_box_form_post_with_a_hook_found_by_the_finder_on_a_form_field(harness: Harness) -> None:
    body = urlencode(BOX_FORM).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign_box(body, now())}
    response = await harness.post("/events/box", body, headers)
    assert response.status == 200, await response.text()
    (event,) = await harness.events(1)
    assert (event["instanceId"], event["objectType"], event["objectId"], event["eventType"]) == (
        "box-1", "files", "123456789", "CREATED")
    assert event["raw"] == BOX_FORM


async def test_stripe_event_ids_come_from_the_body_delivery_id(harness: Harness) -> None:
    body = orjson.dumps(STRIPE_EVENT)
    first = await (await harness.post("/events/stripe/stripe-1", body, sign_stripe(body, now()))).json()
    # Stripe redelivers the same event id with a new signature time.
    second = await (await harness.post("/events/stripe/stripe-1", body, sign_stripe(body, now()))).json()
    assert first["eventIds"] == second["eventIds"]
    event = (await harness.events(1))[0]
    assert (event["objectType"], event["objectId"], event["eventType"], event["date"]) == (
        "customers", "cus_9s6XKzkNRiz8i3", "DELETED", "2023-06-06T22:19:30Z")


async def test_redelivery_yields_the_same_event_ids_with_or_without_a_delivery_id(harness: Harness) -> None:
    body = orjson.dumps(GITHUB_PUSH)
    headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "same-delivery", **sign_github(body, "")}
    first = await (await harness.post("/events/github/gh-1", body, headers)).json()
    again = await (await harness.post("/events/github/gh-1", body, headers)).json()
    other = await (await harness.post("/events/github/gh-1", body, {**headers, "X-GitHub-Delivery": "d2"})).json()
    assert first["eventIds"] == again["eventIds"]
    assert not set(first["eventIds"]) & set(other["eventIds"])
    # No delivery id configured: the body digest identifies the delivery.
    batch_first = await (await harness.post("/events/hubspot", HUBSPOT_BATCH)).json()
    batch_again = await (await harness.post("/events/hubspot", HUBSPOT_BATCH)).json()
    assert batch_first["eventIds"] == batch_again["eventIds"]


async def test_unknown_elements_and_instances_are_404(harness: Harness) -> None:
    paths = [
        "/events/nope/x",
        "/events/nope",
        "/events/github/missing",
        "/events/github/stripe-1",  # an instance of another element
        "/elements/api-v2/events/github/!!!!",
        "/elements/api-v2/events/github/" + base64.b64encode(b"missing").decode(),
        "/events/github",  # no header and no finder
    ]
    for path in paths:
        response = await harness.post(path, {"a": 1})
        assert response.status == 404, path
        assert (await response.json())["error"] == "not_found"
    response = await harness.post("/events/hubspot", [{"portalId": 1}])  # the finder matches nobody
    assert response.status == 404
    response = await harness.post("/events/github", {}, {"Element-Instances": "gh-1,missing"})
    assert response.status == 404
    assert harness.sample("connector_events_webhook_requests_total", element="_unknown", outcome="not_found") == 2
    assert await harness.all_events() == []


async def test_disabled_instances_and_elements_without_webhooks_are_409(harness: Harness) -> None:
    cases = ["/events/github/gh-off", "/events/plain/plain-1", "/events/polled/polled-1"]
    for path in cases:
        response = await harness.post(path, {"a": 1})
        assert response.status == 409, path
        assert "message" in await response.json()
    # The finder matches only an instance with events disabled.
    response = await harness.post("/events/hubspot", [{"portalId": 55555, "objectId": 1}])
    assert response.status == 409
    assert await harness.all_events() == []


async def test_body_over_the_limit_is_413_declared_or_streamed(harness: Harness) -> None:
    limit = harness.settings.http.max_body_bytes
    big = b'{"a":"' + b"x" * limit + b'"}'
    declared = await harness.client.post("/events/hubspot", data=io.BytesIO(big),
                                         headers={"Content-Type": "application/json"})
    assert declared.status == 413

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    response = await harness.client.post("/events/hubspot", data=chunks(), headers={"Content-Type": "application/json"})
    assert response.status == 413
    assert await harness.all_events() == []



async def test_a_body_too_large_for_a_kafka_record_is_dead_lettered_or_refused(harness: Harness) -> None:
    def body_of(size: int) -> bytes:
        return b'{"a":"' + b"x" * (size - 8) + b'"}'

    # The event (body plus event fields and headers) would pass the producer's limit, the body alone does not.
    near = body_of(MAX_RECORD_BYTES - 400)
    response = await harness.client.post("/events/graph/graph-1", data=io.BytesIO(near),
                                         headers={"Content-Type": "application/json"})
    assert response.status == 202, await response.text()
    (record,) = await consume(harness.bootstrap, harness.settings.topics.dlq, 1)
    assert dict(record.headers)["error_reason"] == b"too_large"
    assert record.value == near
    # Not even the dead letter would fit: refused, so that the provider does not retry it forever.
    over = await harness.client.post("/events/graph/graph-1", data=io.BytesIO(body_of(MAX_RECORD_BYTES - 10)),
                                     headers={"Content-Type": "application/json"})
    assert over.status == 413
    assert await harness.all_events() == []

async def test_content_type_and_json_errors_are_415_and_400(harness: Harness) -> None:
    assert (await harness.post("/events/hubspot", b"<xml/>", {"Content-Type": "application/xml"})).status == 415
    assert (await harness.post("/events/hubspot", b"plain", {"Content-Type": "text/plain"})).status == 415
    for broken in (b"", b"{", b'{"a": NaN}', b"\xff\xfe", b"[" * 5000):
        response = await harness.post("/events/hubspot", broken)
        assert response.status == 400, broken[:10]
    bad_form = await harness.post("/events/box", b"a=%ff", {"Content-Type": "application/x-www-form-urlencoded"})
    assert bad_form.status == 400
    get = await harness.client.get("/events/github/gh-1")
    assert get.status == 400  # GET is for handshakes only
    assert harness.sample("connector_events_webhook_requests_total", element="hubspot", outcome="malformed") == 5


# --- Verification --------------------------------------------------------------------------------------------

Signer = Callable[[bytes, str], dict[str, str]]
SCHEMES: list[tuple[str, str, bytes, dict[str, str], Signer, bool]] = [
    # (element, path, body, extra headers, signer, has a timestamp)
    ("github", "/events/github/gh-1", orjson.dumps(GITHUB_PUSH), {"X-GitHub-Event": "push"}, sign_github, False),
    ("stripe", "/events/stripe/stripe-1", orjson.dumps(STRIPE_EVENT), {}, sign_stripe, True),
    ("slack", "/events/slack/slack-1",
     urlencode({"payload": orjson.dumps({"type": "block_actions", "trigger_id": "13345224609.73"}).decode()}).encode(),
     {"Content-Type": "application/x-www-form-urlencoded"}, sign_slack, True),
    ("shopify", "/events/shopify/shopify-1", orjson.dumps({"id": 820982911946154508, "created_at":
                                                           "2024-05-01T10:00:00-04:00"}), {}, sign_shopify, False),
    ("svix", "/events/svix/svix-1", orjson.dumps({"type": "invoices", "data": {"id": "inv_1"}}), {}, sign_svix, True),
    ("box", "/events/box/box-1", urlencode(BOX_FORM).encode(),
     {"Content-Type": "application/x-www-form-urlencoded"}, sign_box, True),
    ("zoom", "/events/zoom/zoom-1", orjson.dumps({"event": "meeting.started", "payload": {}}), {}, sign_zoom, True),
]


@pytest.mark.parametrize(("element", "path", "body", "extra", "signer", "timestamped"), SCHEMES,
                         ids=[case[0] for case in SCHEMES])
async def test_verification_accepts_signed_and_rejects_tampered_expired_and_unsigned(
    harness: Harness, element: str, path: str, body: bytes, extra: dict[str, str], signer: Signer, timestamped: bool
) -> None:
    signed = {**extra, **signer(body, now())}
    response = await harness.post(path, body, signed)
    assert response.status == 200, await response.text()
    tampered = body.replace(b"1", b"2") if b"1" in body else body + b" "
    rejected = {"mismatch": await harness.post(path, tampered, signed),
                "missing_header": await harness.post(path, body, extra)}
    if timestamped:
        rejected["expired"] = await harness.post(path, body, {**extra, **signer(body, str(int(time.time()) - 3600))})
    for reason, answer in rejected.items():
        assert answer.status == 401, reason
        assert (await answer.json())["reason"] == reason
        failures = "connector_events_webhook_verification_failures_total"
        assert harness.sample(failures, element=element, reason=reason) == 1
    assert len(await harness.all_events()) == len((await response.json())["eventIds"]) >= 1


async def test_finder_keeps_only_instances_whose_secret_verifies(harness: Harness) -> None:
    body = urlencode(BOX_FORM).encode()
    wrong = {"Content-Type": "application/x-www-form-urlencoded", "Box-Delivery-Timestamp": now(),
             "Box-Signature-Primary": _b64("not-the-key", body)}
    response = await harness.post("/events/box", body, wrong)
    assert response.status == 401
    assert await harness.all_events() == []


async def test_unsigned_webhooks_are_logged_once_without_secrets(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    body = orjson.dumps(GITHUB_PUSH)
    response = await harness.post("/events/github/gh-1", body, {"X-Hub-Signature-256": "sha256=" + "00" * 32})
    assert response.status == 401
    rejected = [record for record in caplog.records if record.getMessage() == "webhook rejected"]
    assert len(rejected) == 1
    assert rejected[0].__dict__["reason"] == "mismatch"
    text = caplog.text + str(rejected[0].__dict__) + await response.text()
    assert GH_SECRET not in text
    assert _hex(GH_SECRET, body) not in text


# --- Handshakes ----------------------------------------------------------------------------------------------


async def test_dropbox_challenge_is_echoed_before_verification(harness: Harness) -> None:
    response = await harness.client.get("/events/dropbox/dropbox-1", params={"challenge": "abc123"})
    assert response.status == 200
    assert await response.text() == "abc123"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert harness.sample("connector_events_webhook_requests_total", element="dropbox", outcome="handshake") == 1
    # A notification after it is verified and published (no hook: one UNKNOWN event).
    body = orjson.dumps({"list_folder": {"accounts": ["dbid:AAH4f99T0taONIb"]}})
    assert (await harness.post("/events/dropbox/dropbox-1", body, sign_dropbox(body, ""))).status == 200
    (event,) = await harness.events(1)
    assert (event["eventType"], event["objectType"]) == ("UNKNOWN", "unknown")
    assert event["objectId"] == hashlib.sha256(body).hexdigest()


async def test_msgraph_validation_token_by_post_or_get(harness: Harness) -> None:
    token = "Validation: Token with spaces & symbols"
    post = await harness.client.post("/events/graph/graph-1", params={"validationToken": token},
                                     data=b"", headers={"Content-Type": "text/plain"})
    assert post.status == 200
    assert await post.text() == token
    get = await harness.client.get("/events/graph/graph-1", params={"validationToken": token})
    assert await get.text() == token
    assert await harness.all_events() == []


async def test_slack_url_verification_is_answered_after_verification(harness: Harness) -> None:
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    body = orjson.dumps({"type": "url_verification", "challenge": challenge, "token": "Jhj5dZrVaK7ZwHHjRyZWjbDl"})
    assert (await harness.post("/events/slack", body)).status == 401  # element-wide URL, unsigned
    response = await harness.post("/events/slack", body, sign_slack(body, now()))
    assert response.status == 200
    assert await response.text() == challenge
    assert await harness.all_events() == []


async def test_zoom_url_validation_returns_the_encrypted_token(harness: Harness) -> None:
    body = orjson.dumps({"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"},
                         "event_ts": 1654503849680})
    response = await harness.post("/events/zoom/zoom-1", body, sign_zoom(body, now()))
    assert response.status == 200
    assert await response.json() == {
        "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
        "encryptedToken": _hex(ZOOM_SECRET, b"qgg8vlvZRS6UYooatFL8Aw"),
    }
    assert (await harness.post("/events/zoom/zoom-1", body, sign_zoom(body, "1000"))).status == 401
    assert await harness.all_events() == []


# --- Hook failures -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["throw", "timeout", "memory", "shape"])
async def test_hook_failures_dead_letter_the_body_and_answer_202(harness: Harness, mode: str) -> None:
    body = orjson.dumps({"mode": mode, "padding": "x" * 100})
    response = await harness.post("/events/flaky/flaky-1", body)
    assert response.status == 202, await response.text()
    reference = (await response.json())["dlq"]
    topic, partition, offset = reference.split("/")
    assert topic == harness.settings.topics.dlq
    (record,) = await consume(harness.bootstrap, topic, 1)
    assert (record.partition, record.offset) == (int(partition), int(offset))
    assert record.value == body
    headers = {name: value.decode() for name, value in record.headers}
    reason = {"throw": "error"}.get(mode, mode)
    assert (headers["error_reason"], headers["error_instance"], headers["error_element"], headers["error_source"]) == (
        reason, "flaky-1", "flaky", "webhook")
    assert harness.sample("connector_events_hook_failures_total", element="flaky", reason=reason) == 1
    assert harness.sample("connector_events_dlq_records_total", source="webhook", reason=reason) == 1
    assert await harness.all_events() == []
    # The runner is still usable after a failure.
    assert (await harness.post("/events/flaky/flaky-1", {"mode": "fine"})).status == 200


async def test_a_mapping_failure_for_several_found_instances_gives_a_dead_letter_each(harness: Harness) -> None:
    response = await harness.post("/events/hubspot", [{"portalId": 62515, "subscriptionType": "contact.creation"}])
    assert response.status == 202
    reply = await response.json()
    assert reply["events"] == 0
    assert len(reply["dlqAll"]) == 2
    assert reply["dlq"] == reply["dlqAll"][0]
    records = await consume(harness.bootstrap, harness.settings.topics.dlq, 2)
    assert sorted(dict(record.headers)["error_instance"] for record in records) == [b"hs-1", b"hs-2"]
    assert {dict(record.headers)["error_reason"] for record in records} == {b"shape"}


async def test_an_unresolvable_secret_reference_is_503_without_naming_it(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    # Injected into the running registry: `apply` would store it just the same, the reference is resolved late.
    element = Element.model_validate(_webhook_element("envsecret", {
        "verification": {"scheme": "github", "secret": "env:CONNECTOR_EVENTS_TEST_UNSET_SECRET"}}))
    harness.registry.elements["envsecret"] = element
    harness.registry.instances["env-1"] = Instance.model_validate(_instance("env-1", "envsecret"))
    response = await harness.post("/events/envsecret/env-1", {"a": 1})
    assert response.status == 503
    assert int(response.headers["Retry-After"]) > 0
    assert "CONNECTOR_EVENTS_TEST_UNSET_SECRET" not in await response.text()
    assert any(record.getMessage() == "webhook secret unavailable" for record in caplog.records)
    assert await harness.all_events() == []


async def test_metrics_count_requests_latency_and_hook_time(harness: Harness) -> None:
    body = orjson.dumps(GITHUB_PUSH)
    headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "m-1", **sign_github(body, "")}
    assert (await harness.post("/events/github/gh-1", body, headers)).status == 200
    assert (await harness.post("/events/github/gh-1", body)).status == 401
    assert harness.sample("connector_events_webhook_requests_total", element="github", outcome="published") == 1
    assert harness.sample("connector_events_webhook_requests_total", element="github", outcome="unauthorized") == 1
    assert harness.sample("connector_events_webhook_request_duration_seconds_count", element="github") == 2
    assert harness.sample("connector_events_hook_duration_seconds_count", element="github") == 1
    assert harness.sample("connector_events_events_published_total", source="webhook", type="UPDATED") == 1


async def test_the_service_serves_the_webhook_routes_and_their_metrics(settings: Settings) -> None:
    configured = fast_hooks(settings).model_copy(update={"role": "ingress"})
    await prepare(configured)
    body = orjson.dumps(GITHUB_PUSH)
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": "svc-1",
               **sign_github(body, "")}
    async with Service(configured) as service, aiohttp.ClientSession(f"http://127.0.0.1:{service.port}") as http:
        async with http.post("/elements/api-v2/events/github/" + base64.b64encode(b"gh-1").decode(), data=body,
                             headers=headers) as response:
            assert response.status == 200
            assert (await response.json())["events"] == 2
        async with http.get("/metrics") as response:
            exposition = await response.text()
    assert 'connector_events_webhook_requests_total{element="github",outcome="published"} 1.0' in exposition
    assert len(await consume(configured.kafka.bootstrap_servers, configured.topics.events, 2)) == 2
