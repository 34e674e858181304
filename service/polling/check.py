"""`connector-events check-poller-config FILE [--at ISO8601] [--json]`: validate a poller configuration offline.

Exit 0 when every resource is valid, 1 otherwise, 2 when the file cannot be read.
"""

from __future__ import annotations

import contextlib
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

import orjson

from service.dates import render_url
from service.polling.resources import ResourceReport, check_poller_configuration


def check_command(path: str, at: str | None, as_json: bool) -> int:
    """Print per resource: valid or its errors, its warnings, and its URL rendered with `since = at`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        print(f"connector-events: cannot read {path!r}: {exc.strerror}", file=sys.stderr)  # noqa: T201
        return 2
    now = datetime.now(UTC)
    try:
        since = datetime.fromisoformat(at.replace("Z", "+00:00")) if at else now
    except ValueError:
        print(f"connector-events: --at {at!r} is not an ISO-8601 instant", file=sys.stderr)  # noqa: T201
        return 2
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    value: object = text
    with contextlib.suppress(orjson.JSONDecodeError):
        value = orjson.loads(text)  # a file may hold the object itself or the JSON string of it
    reports = check_poller_configuration(value)
    results = {name: _result(report, since, now) for name, report in reports.items()}
    if as_json:
        print(orjson.dumps({"resources": results}, option=orjson.OPT_INDENT_2).decode())  # noqa: T201
    else:
        for name, result in results.items():
            print(f"{name}: {'valid' if result['ok'] else 'INVALID'}")  # noqa: T201
            lines = [*(f"  error: {e}" for e in result["errors"]), *(f"  warning: {w}" for w in result["warnings"])]
            for line in lines:
                print(line)  # noqa: T201
            if result["url"]:
                print(f"  url: {result['url']}")  # noqa: T201
    return 0 if all(result["ok"] for result in results.values()) else 1


class _Result(TypedDict):
    ok: bool
    errors: list[str]
    warnings: list[str]
    url: str


def _result(report: ResourceReport, since: datetime, now: datetime) -> _Result:
    errors = list(report.errors)
    url = ""
    if report.resource is not None:
        try:
            url = render_url(report.resource.url, since, now, {})
        except ValueError as exc:
            errors.append(f"resources.{report.resource.name}.url: {exc}")
    return {"ok": not errors, "errors": errors, "warnings": report.warnings, "url": url}
