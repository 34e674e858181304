"""The webhook edge: aiohttp routes that read, route, verify, normalize and publish provider webhooks.

Order per request: element → instance in the path → unsigned handshake (Dropbox, Graph) → body (limit, type)
→ instances (header or finder) → verification → signed handshake (Slack, Zoom) → hook or mapping → publish.
Errors become statuses here and only here: 400 malformed, 401 verification, 404 unknown element or instance,
409 not accepting, 413 too large (for the limit, or for a Kafka record), 415 content type, 503 Kafka unavailable
or secret unresolvable (with Retry-After). 2xx only after Kafka acknowledged every record: 200
`{"events": n, "eventIds": [...]}`, or 202 with `"dlq": "topic/partition/offset"` (and `dlqAll` when several
instances failed) when a hook or mapping failed, or an event would exceed the record limit, and the body went to
the dead-letter topic.

Verification: every instance named by the URL or `Element-Instances` must verify; of the instances the finder
matched, those whose secret does not verify are dropped (401 when none is left). A Slack or Zoom endpoint check
sent to the element-wide URL, which names no account, is verified with the element's own secret settings.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import hdrs, web
from pydantic import SecretStr

from service.bus.producer import EventBus
from service.config import Settings
from service.errors import ConfigError, PublishError, SignatureError
from service.lifecycle import Component
from service.metrics import Metrics
from service.registry.models import Element, ResolvedInstance
from service.registry.store import RegistryReader
from service.webhooks import payload as payloads
from service.webhooks import resolve
from service.webhooks.handshake import HandshakeReply, answer, is_signed
from service.webhooks.hooks import HookRunner
from service.webhooks.publish import MAX_DETAIL_CHARS, WebhookPublisher
from service.webhooks.spec import WebhookSettings
from service.webhooks.verify import verify

log = logging.getLogger(__name__)

# Label of requests for an element that does not exist: path text must never become a label value.
UNKNOWN_ELEMENT = "_unknown"
RETRY_AFTER_SECONDS = 5
_CHUNK = 64 * 1024


@dataclass
class _Reply:
    """What one request gets, and how it is counted."""

    status: int
    outcome: str
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    handshake: HandshakeReply | None = None


@dataclass
class _Request:
    """What the pipeline knows about one request so far."""

    method: str
    query: Mapping[str, str]
    headers: dict[str, str]
    element_key: str
    instance_ref: str | None
    encoded: bool
    label: str = UNKNOWN_ELEMENT
    instance_ids: list[str] = field(default_factory=list)


class WebhookIngress(Component):
    """Receives provider webhooks and publishes their normalized events.

    `start` starts the hook runner's worker threads (refuses a second start); `stop` closes them after the calls
    in flight (idempotent, safe after a failed start). The routes answer 503 while the ingress is not started.
    """

    def __init__(self, settings: Settings, metrics: Metrics, bus: EventBus, registry: RegistryReader) -> None:
        self._settings = settings
        self._metrics = metrics
        self._registry = registry
        self._publisher = WebhookPublisher(settings.topics, metrics, bus)
        self._runner: HookRunner | None = None

    async def start(self) -> None:
        """Start the hook runner."""
        self._claim_start()
        hooks = self._settings.hooks
        self._runner = HookRunner(
            workers=hooks.workers,
            time_limit=hooks.time_limit.total_seconds(),
            memory_limit_bytes=hooks.memory_limit_bytes,
            logger=logging.getLogger("service.webhooks.hooks"),
        )

    async def stop(self) -> None:
        """Close the hook runner (waits for running hooks, off the event loop); idempotent."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await asyncio.to_thread(runner.close)


    def routes(self) -> list[web.RouteDef]:
        """POST (events, handshakes) and GET (handshakes) on the three webhook URL forms."""
        # Standard base64 may contain '/', so the encoded id takes the rest of the path.
        open_connectors = "/elements/api-v2/events/{element}/{instance:.+}"
        return [
            web.post(open_connectors, self._open_connectors),
            web.get(open_connectors, self._open_connectors, allow_head=False),
            web.post("/events/{element}/{instance}", self._by_instance),
            web.get("/events/{element}/{instance}", self._by_instance, allow_head=False),
            web.post("/events/{element}", self._by_element),
            web.get("/events/{element}", self._by_element, allow_head=False),
        ]

    async def _open_connectors(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, request.match_info["instance"], encoded=True)

    async def _by_instance(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, request.match_info["instance"], encoded=False)

    async def _by_element(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, None, encoded=False)

    async def _handle(self, request: web.Request, instance_ref: str | None, *, encoded: bool) -> web.StreamResponse:
        started = time.perf_counter()
        state = _Request(
            method=request.method,
            query=request.query,
            headers=dict(request.headers.items()),
            element_key=request.match_info["element"],
            instance_ref=instance_ref,
            encoded=encoded,
        )
        try:
            reply = await self._process(request, state)
        except payloads.PayloadTooLarge as exc:
            reply = _error(413, "too_large", exc)
        except payloads.UnsupportedMediaType as exc:
            reply = _error(415, "unsupported_media_type", exc)
        except (payloads.MalformedPayload, resolve.InvalidTarget) as exc:
            reply = _error(400, "malformed", exc)
        except resolve.UnknownTarget as exc:
            reply = _error(404, "not_found", exc)
        except resolve.NotAccepting as exc:
            reply = _error(409, "not_accepting", exc)
        except SignatureError as exc:
            self._metrics.verification_failures.labels(state.label, exc.reason).inc()
            reply = _error(401, "unauthorized", exc)
            reply.body["reason"] = exc.reason
        except ConfigError as exc:
            # The element's secret reference cannot be resolved: an operator must fix it; the provider retries.
            log.error(  # noqa: TRY400 - the message names the reference; a traceback adds nothing
                "webhook secret unavailable", extra={"element": state.label, "error": str(exc)}
            )
            reply = _Reply(503, "misconfigured", {"error": "misconfigured", "message": "webhook verification is "
                           "not configured correctly"}, {hdrs.RETRY_AFTER: str(RETRY_AFTER_SECONDS * 12)})
        except PublishError as exc:
            log.warning("webhook not published: Kafka unavailable", extra={"element": state.label, "error": str(exc)})
            reply = _Reply(503, "unavailable", {"error": "unavailable", "message": "events could not be stored; "
                           "retry later"}, {hdrs.RETRY_AFTER: str(RETRY_AFTER_SECONDS)})
        self._metrics.webhook_requests.labels(state.label, reply.outcome).inc()
        self._metrics.webhook_latency.labels(state.label).observe(time.perf_counter() - started)
        if reply.status >= 400:
            _log_rejection(state, reply)
        return _response(reply)

    async def _process(self, request: web.Request, state: _Request) -> _Reply:
        if self._runner is None:
            raise PublishError("the webhook ingress is not started")
        element, settings = resolve.webhook_element(self._registry.elements, state.element_key)
        state.label = element.key
        path_target = self._path_target(element, state)
        if settings.handshake is not None and not is_signed(settings.handshake):
            reply = answer(settings.handshake, method=state.method, query=state.query, body=None)
            if reply is not None:
                return _Reply(reply.status, "handshake", handshake=reply)
        if state.method != hdrs.METH_POST:
            raise payloads.MalformedPayload("GET is only answered for the element's handshake")
        raw = await payloads.read_limited(
            request.content.iter_chunked(_CHUNK),
            declared=request.content_length,
            limit=self._settings.http.max_body_bytes,
        )
        content_type = request.content_type if hdrs.CONTENT_TYPE in request.headers else None
        body = payloads.parse(raw, content_type).body
        targets = self._targets(element, settings, path_target, body, state)
        targets = self._verified(element, settings, targets, raw, state)
        handshake = self._signed_handshake(element, settings, targets, body, state)
        if handshake is not None:
            return handshake
        return await self._publish(settings, targets, raw, body, state)

    def _path_target(self, element: Element, state: _Request) -> ResolvedInstance | None:
        if state.instance_ref is None:
            return None
        instance_id = resolve.decode_instance_id(state.instance_ref) if state.encoded else state.instance_ref
        return resolve.by_id(element, self._registry.instances, instance_id)

    def _targets(
        self,
        element: Element,
        settings: WebhookSettings,
        path_target: ResolvedInstance | None,
        body: object,
        state: _Request,
    ) -> list[ResolvedInstance]:
        """The instances of the body; empty only for a signed handshake sent to the element-wide URL."""
        if path_target is not None:
            state.instance_ids = [path_target.instance.id]
            return [path_target]
        header = _header(state.headers, resolve.ELEMENT_INSTANCES)
        try:
            if header is not None:
                targets = resolve.by_header(element, self._registry.instances, header)
            else:
                targets = resolve.by_finder(element, settings, self._registry.instances, body)
        except resolve.UnknownTarget:
            # A Slack or Zoom endpoint check carries no account to find instances by; it is verified with the
            # element's own secret instead.
            if header is None and _is_signed_handshake(settings, state, body):
                return []
            raise
        state.instance_ids = [target.instance.id for target in targets]
        return targets

    def _verified(
        self,
        element: Element,
        settings: WebhookSettings,
        targets: list[ResolvedInstance],
        raw: bytes,
        state: _Request,
    ) -> list[ResolvedInstance]:
        """The targets the request's signature holds for.

        Every named instance must verify. Instances found by the finder that do not verify are dropped, as each
        may have its own subscription and secret at the provider; at least one must remain.

        Raises:
            SignatureError: the signature does not hold (for a finder: for any match).
            ConfigError: the element's secret reference cannot be resolved.
        """
        verification = settings.verification
        if verification is None:
            return targets
        now = datetime.now(UTC)
        where = f"element {element.key!r}"
        if not targets:
            verify(verification, verification.resolve(_element_config(element), where=where), state.headers, raw, now)
            return targets
        passed: list[ResolvedInstance] = []
        first_failure: SignatureError | None = None
        for target in targets:
            try:
                secret = verification.resolve(target.string_config(), where=f"{where} instance {target.instance.id!r}")
                verify(verification, secret, state.headers, raw, now)
            except SignatureError as exc:
                first_failure = first_failure or exc
                continue
            passed.append(target)
        by_finder = state.instance_ref is None and _header(state.headers, resolve.ELEMENT_INSTANCES) is None
        if first_failure is not None and (not by_finder or not passed):
            raise first_failure
        return passed

    def _signed_handshake(
        self,
        element: Element,
        settings: WebhookSettings,
        targets: list[ResolvedInstance],
        body: object,
        state: _Request,
    ) -> _Reply | None:
        if settings.handshake is None or not is_signed(settings.handshake):
            return None
        secret: SecretStr | None = None
        source = settings.handshake_secret_source()
        if settings.handshake == "zoom" and source is not None:
            config = targets[0].string_config() if targets else _element_config(element)
            secret = source.resolve(config, where=f"element {element.key!r} handshake")
        reply = answer(settings.handshake, method=state.method, query=state.query, body=body, secret=secret)
        return None if reply is None else _Reply(reply.status, "handshake", handshake=reply)

    async def _publish(
        self, settings: WebhookSettings, targets: list[ResolvedInstance], raw: bytes, body: object, state: _Request
    ) -> _Reply:
        runner = self._runner
        if runner is None:
            raise PublishError("the webhook ingress is stopped")
        published = await self._publisher.publish(
            settings, targets, raw=raw, body=body, headers=state.headers, runner=runner
        )
        reply: dict[str, Any] = {"events": len(published.event_ids), "eventIds": published.event_ids}
        if not published.dead_letters:
            return _Reply(200, "published", reply)
        reply["dlq"] = published.dead_letters[0]
        if len(published.dead_letters) > 1:
            reply["dlqAll"] = published.dead_letters
        return _Reply(202, "dead_lettered", reply)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _element_config(element: Element) -> dict[str, str]:
    return {key: value for key, value in element.configuration.items() if isinstance(value, str)}


def _is_signed_handshake(settings: WebhookSettings, state: _Request, body: object) -> bool:
    if settings.handshake is None or not is_signed(settings.handshake):
        return False
    # Recognition only: the placeholder secret shapes no reply that is sent.
    probe = answer(settings.handshake, method=state.method, query=state.query, body=body, secret=SecretStr("probe"))
    return probe is not None


def _error(status: int, outcome: str, exc: Exception) -> _Reply:
    return _Reply(status, outcome, {"error": outcome, "message": str(exc)})


def _log_rejection(state: _Request, reply: _Reply) -> None:
    level = logging.WARNING if reply.status in (401, 503) else logging.INFO
    log.log(
        level,
        "webhook rejected",
        extra={
            "element": state.label,
            "instances": state.instance_ids,
            "status": reply.status,
            "outcome": reply.outcome,
            "reason": reply.body.get("reason"),
            "error": str(reply.body.get("message", ""))[:MAX_DETAIL_CHARS],
        },
    )


def _response(reply: _Reply) -> web.Response:
    if reply.handshake is not None:
        handshake = reply.handshake
        return web.Response(
            status=handshake.status,
            body=handshake.body,
            headers={**handshake.headers, hdrs.CONTENT_TYPE: handshake.content_type},
        )
    return web.json_response(reply.body, status=reply.status, headers=reply.headers, dumps=_dumps)


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()
