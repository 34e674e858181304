"""`/healthz` (the process is alive) and `/readyz` (Kafka reachable, topics checked, registry loaded, no task dead).

Components register readiness checks; a check returns None when ready, else a short reason shown in `/readyz`.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

ReadinessCheck = Callable[[], str | None]


class Health:
    """Readiness checks of the running components, served over HTTP."""

    def __init__(self) -> None:
        self._checks: dict[str, ReadinessCheck] = {}
        self.stopping = False

    def add(self, name: str, check: ReadinessCheck) -> None:
        """Register (or replace) the readiness check of a component."""
        self._checks[name] = check

    def remove(self, name: str) -> None:
        """Forget a component's check (it stopped on purpose)."""
        self._checks.pop(name, None)

    def problems(self) -> dict[str, str]:
        """Component name → why it is not ready; empty when ready."""
        found = {name: reason for name, check in self._checks.items() if (reason := check()) is not None}
        if self.stopping:
            found["process"] = "shutting down"
        return found

    def routes(self) -> list[web.RouteDef]:
        """The two endpoints."""
        return [web.get("/healthz", self._healthz), web.get("/readyz", self._readyz)]

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _readyz(self, _request: web.Request) -> web.Response:
        problems = self.problems()
        if problems:
            return web.json_response({"status": "not ready", "problems": problems}, status=503)
        return web.json_response({"status": "ready"})
