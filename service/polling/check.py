"""`connector-events check-poller-config FILE [--at ISO8601] [--json]`: validate a poller configuration offline.

FILE holds an `event.poller.configuration` value: the object, or the JSON string of it. Prints per resource whether
it is valid, its errors and warnings, and its URL rendered with `since = --at` (default: now). Exit 0 when every
resource is valid, 1 otherwise, 2 when the file cannot be read or `--at` is no ISO-8601 instant.
"""

from __future__ import annotations

import contextlib
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

import orjson

from service.dates import PlaceholderError, compile_url
from service.polling.resources import ResourceReport, check_poller_configuration


class _Result(TypedDict):
    ok: bool
    errors: list[str]
    warnings: list[str]
    url: str  # "" when the resource is invalid


def check_command(path: str, at: str | None, as_json: bool, *, now: datetime | None = None) -> int:
    """Check the configuration in `path` and print the outcome; return the exit status (0, 1 or 2)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        print(f"connector-events: cannot read {path!r}: {reason}", file=sys.stderr)  # noqa: T201
        return 2
    now = now or datetime.now(UTC)
    try:
        since = datetime.fromisoformat(at) if at else now
    except ValueError:
        print(f"connector-events: --at {at!r} is not an ISO-8601 instant (e.g. 2024-01-05T10:00:00Z)",  # noqa: T201
              file=sys.stderr)
        return 2
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    value: object = text
    with contextlib.suppress(orjson.JSONDecodeError):
        value = orjson.loads(text)  # the object itself, or the JSON string of it (decoded again by the check)
    results = {name: _result(report, since, now) for name, report in check_poller_configuration(value).items()}
    if as_json:
        print(orjson.dumps({"resources": results}, option=orjson.OPT_INDENT_2).decode())  # noqa: T201
    else:
        print(_text(results))  # noqa: T201
    return 0 if all(result["ok"] for result in results.values()) else 1


def _result(report: ResourceReport, since: datetime, now: datetime) -> _Result:
    errors, warnings, url = list(report.errors), list(report.warnings), ""
    resource = report.resource
    if resource is not None:
        try:
            template = compile_url(resource.url)
            url = template.render(since, now, keep_missing=True)
        except PlaceholderError as exc:  # the check already compiled it; kept for a zone read from the instance
            errors.append(f"resources.{resource.name}.url: {exc}")
        else:
            warnings += [
                f"resources.{resource.name}.url: reads the instance configuration key {key!r} "
                f"(shown as {{{key}}}; a zone from it is shown in GMT)"
                for key in template.config_keys
            ]
    return {"ok": not errors, "errors": errors, "warnings": warnings, "url": url}


def _text(results: dict[str, _Result]) -> str:
    lines: list[str] = []
    for name, result in results.items():
        lines.append(f"{name}: {'valid' if result['ok'] else 'INVALID'}")
        lines += [f"  error: {error}" for error in result["errors"]]
        lines += [f"  warning: {warning}" for warning in result["warnings"]]
        if result["url"]:
            lines.append(f"  url: {result['url']}")
    return "\n".join(lines)
