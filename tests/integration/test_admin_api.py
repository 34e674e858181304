"""The admin API on a real broker: token check, upsert, read back without secrets, delete, validation errors."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from service.admin import AdminApi
from service.app import prepare_topics
from service.config import Settings
from service.registry.store import RegistryReader
from tests.kafka_helpers import wait_for

pytestmark = pytest.mark.kafka

TOKEN = "admin-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ELEMENT = {
    "hubKey": "crm",
    "configuration": {"event.vendor.type": "webhook"},
    "webhook": {"verification": {"scheme": "github", "secretConfigKey": "webhook.secret"}},
}
INSTANCE = {
    "elementKey": "gh",
    "name": "GitHub org",
    "baseUrl": "https://api.github.com",
    "auth": {"type": "bearer", "token": "ghp_supersecret"},
    "configuration": {"event.notification.enabled": "true", "webhook.secret": "whs"},
}


async def test_admin_api_round_trip(settings: Settings) -> None:
    await prepare_topics(settings)
    async with RegistryReader(settings.kafka, settings.topics) as registry:
        app = web.Application()
        app.add_routes(AdminApi(settings, registry, SecretStr(TOKEN)).routes())
        async with TestClient(TestServer(app)) as client:
            response = await client.get("/admin/instances")
            assert response.status == 401
            response = await client.get("/admin/instances", headers={"Authorization": "Bearer wrong"})
            assert response.status == 401

            response = await client.put("/admin/instances/gh-1", json=INSTANCE, headers=AUTH)
            assert response.status == 422
            assert "unknown element 'gh'" in (await response.json())["error"]

            response = await client.put("/admin/elements/gh", json=ELEMENT, headers=AUTH)
            assert response.status == 200
            await wait_for(lambda: "gh" in registry.elements, 10, what="element visible")
            response = await client.put("/admin/instances/gh-1", json=INSTANCE, headers=AUTH)
            assert response.status == 200
            assert "ghp_supersecret" not in await response.text()
            await wait_for(lambda: "gh-1" in registry.instances, 10, what="instance visible")

            response = await client.get("/admin/instances/gh-1", headers=AUTH)
            body = await response.text()
            assert response.status == 200
            assert "ghp_supersecret" not in body
            assert '"name":"GitHub org"' in body

            response = await client.put("/admin/instances/gh-2", json={**INSTANCE, "name": ""}, headers=AUTH)
            assert response.status == 422
            assert "name" in (await response.json())["error"]

            response = await client.delete("/admin/elements/gh", headers=AUTH)
            assert response.status == 422  # still used by gh-1
            response = await client.delete("/admin/instances/gh-1", headers=AUTH)
            assert response.status == 204
            await wait_for(lambda: "gh-1" not in registry.instances, 10, what="instance deleted")
            assert (await client.get("/admin/instances/gh-1", headers=AUTH)).status == 404
