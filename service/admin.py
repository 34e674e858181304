"""The admin API: read and change elements and instances over HTTP (`/admin/...`), bearer-token protected.

Served only when `CONNECTOR_EVENTS_HTTP__ADMIN_TOKEN` is set. Responses never carry secrets: definitions are
dumped in JSON mode, where secret fields print as `**********`.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import orjson
from aiohttp import web
from pydantic import SecretStr, ValidationError

from service.config import Settings
from service.errors import ConfigError, PublishError
from service.registry.manifest import Manifest, parse_manifest
from service.registry.models import Element, Instance
from service.registry.operations import apply_manifest, delete_element, delete_instance
from service.registry.store import RegistryReader
from service.registry.validation import instance_checks

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class AdminApi:
    """Routes of the admin API over the process's registry reader."""

    def __init__(self, settings: Settings, registry: RegistryReader, token: SecretStr) -> None:
        self._settings = settings
        self._registry = registry
        self._token = token.get_secret_value().encode()

    def routes(self) -> list[web.RouteDef]:
        """`/admin/elements[/{key}]`, `/admin/instances[/{id}]`, `/admin/apply`."""
        guard = self._guard
        return [
            web.get("/admin/elements", guard(self._list_elements)),
            web.get("/admin/elements/{key}", guard(self._get_element)),
            web.put("/admin/elements/{key}", guard(self._put_element)),
            web.delete("/admin/elements/{key}", guard(self._delete_element)),
            web.get("/admin/instances", guard(self._list_instances)),
            web.get("/admin/instances/{id}", guard(self._get_instance)),
            web.put("/admin/instances/{id}", guard(self._put_instance)),
            web.delete("/admin/instances/{id}", guard(self._delete_instance)),
            web.post("/admin/apply", guard(self._apply)),
        ]

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            given = request.headers.get("Authorization", "").removeprefix("Bearer ").encode()
            if not hmac.compare_digest(given, self._token):
                return _error(401, "missing or wrong admin token")
            try:
                return await handler(request)
            except ConfigError as exc:
                return _error(422, str(exc))
            except PublishError as exc:
                return _error(503, str(exc), headers={"Retry-After": "5"})

        return guarded

    async def _list_elements(self, _request: web.Request) -> web.Response:
        return _json([_public(e) for e in self._registry.elements.values()])

    async def _get_element(self, request: web.Request) -> web.Response:
        element = self._registry.elements.get(request.match_info["key"])
        return _json(_public(element)) if element else _error(404, "no such element")

    async def _list_instances(self, _request: web.Request) -> web.Response:
        return _json([_public(i) for i in self._registry.instances.values()])

    async def _get_instance(self, request: web.Request) -> web.Response:
        instance = self._registry.instances.get(request.match_info["id"])
        return _json(_public(instance)) if instance else _error(404, "no such instance")

    async def _put_element(self, request: web.Request) -> web.Response:
        body = await _body(request)
        body["key"] = request.match_info["key"]
        element = _validate(Element, body, "element")
        await apply_manifest(self._settings, Manifest(elements=[element]), current=self._registry)
        return _json(_public(element))

    async def _put_instance(self, request: web.Request) -> web.Response:
        body = await _body(request)
        body["id"] = request.match_info["id"]
        instance = _validate(Instance, body, "instance")
        await apply_manifest(self._settings, Manifest(instances=[instance]), instance_checks(), current=self._registry)
        return _json(_public(instance))

    async def _delete_element(self, request: web.Request) -> web.Response:
        await delete_element(self._settings, request.match_info["key"], current=self._registry)
        return web.Response(status=204)

    async def _delete_instance(self, request: web.Request) -> web.Response:
        await delete_instance(self._settings, request.match_info["id"], current=self._registry)
        return web.Response(status=204)

    async def _apply(self, request: web.Request) -> web.Response:
        manifest = parse_manifest(await request.text(), source="request body")
        result = await apply_manifest(self._settings, manifest, instance_checks(), current=self._registry)
        return _json({"applied": {"elements": result.elements, "instances": result.instances}})


async def _body(request: web.Request) -> dict[str, object]:
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"request body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ConfigError("request body must be a JSON object")
    return body


Definition = TypeVar("Definition", Element, Instance)


def _validate(model: type[Definition], body: dict[str, object], what: str) -> Definition:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid {what}: {problems}") from None


def _public(definition: Element | Instance) -> dict[str, object]:
    """A definition as API output: JSON mode masks every SecretStr as `**********`."""
    return definition.model_dump(mode="json", by_alias=True)


def _json(value: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(value), status=status, content_type="application/json")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps({"error": message}), status=status, content_type="application/json", headers=headers
    )
