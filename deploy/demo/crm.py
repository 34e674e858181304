"""A demo CRM provider API: contacts and deals that change over time, for trying the poller end to end.

Run: `python deploy/demo/crm.py --port 8081` (bearer token `demo-token`). Tests import `build_app` and `CrmState`
by path and run it in-process.

- `GET /api/contacts?where=lastModifiedDate>='2026-01-01T00:00:00Z'` (or `modified_since=<epoch ms>`): Open
  Connectors hub pagination (`pageSize`, `nextPage`, `elements-next-page-token` header), a JSON array, dates
  ISO-8601 UTC with milliseconds (`createdDate`, `lastModifiedDate`), oldest change first.
- `GET /api/deals?page=N&per_page=M`: no date filter, newest change first, `{"deals": [...]}`, `created_at` as
  `MM/dd/yyyy HH:mm:ss` in America/Los_Angeles and `updated_at` as `EEE, dd MMM yyyy HH:mm:ss Z`.
- `POST /admin/contacts`, `POST /admin/deals`: create (no or unknown `id`) or update a record now.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import hmac
import random
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from aiohttp import web

DEMO_TOKEN = "demo-token"  # noqa: S105 - the documented credential of a local demo
PACIFIC = ZoneInfo("America/Los_Angeles")
FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Radia", "Linus")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson", "Perlman")
STAGES = ("prospecting", "qualification", "proposal", "negotiation", "closed-won", "closed-lost")
# English names whatever the process locale: strftime's %a and %b follow the locale.
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WHERE = re.compile(r"^\s*lastModifiedDate\s*(?P<op>>=|>)\s*'(?P<date>[^']+)'\s*$")

Kind = Literal["contact", "deal"]


def iso_millis(value: datetime) -> str:
    """`2026-01-01T00:00:00.000Z`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def pacific_local(value: datetime) -> str:
    """`MM/dd/yyyy HH:mm:ss` in America/Los_Angeles, no zone in the text."""
    return value.astimezone(PACIFIC).strftime("%m/%d/%Y %H:%M:%S")


def rfc822(value: datetime) -> str:
    """`EEE, dd MMM yyyy HH:mm:ss Z` in America/Los_Angeles (`Tue, 03 Feb 2026 09:15:00 -0800`)."""
    local = value.astimezone(PACIFIC)
    return f"{DAYS[local.weekday()]}, {local.day:02d} {MONTHS[local.month - 1]} " + local.strftime(
        "%Y %H:%M:%S %z",
    )


def _to_millis(value: datetime) -> datetime:
    # Stored dates have the precision the API shows, so a keyset token compares exactly.
    return value.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)


@dataclass(slots=True)
class Row:
    """One stored record: its id, dates and other fields."""

    id: str
    created: datetime
    updated: datetime
    fields: dict[str, Any] = field(default_factory=dict)


class CrmState:
    """The CRM's records; every change is deterministic given the seed and the clock."""

    def __init__(self, *, seed: int = 1, clock: Callable[[], datetime] | None = None) -> None:
        self.rng = random.Random(seed)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.contacts: dict[str, Row] = {}
        self.deals: dict[str, Row] = {}
        self._next_id = {"contact": 1001, "deal": 5001}

    def seed_history(self, contacts: int, deals: int, *, span: timedelta = timedelta(hours=1)) -> None:
        """Create records dated evenly over the `span` before now (a CRM with a past)."""
        now = self.clock()
        for n in range(contacts):
            self.create("contact", at=now - span + span * n / max(contacts, 1))
        for n in range(deals):
            self.create("deal", at=now - span + span * n / max(deals, 1))

    def create(self, kind: Kind, fields: dict[str, Any] | None = None, *, at: datetime | None = None) -> Row:
        """Create a record with random fields overridden by `fields`, dated `at` (default now)."""
        when = _to_millis(at or self.clock())
        table = self.table(kind)
        prefix = "c" if kind == "contact" else "d"
        row_id = f"{prefix}{self._next_id[kind]}"
        self._next_id[kind] += 1
        row = Row(row_id, when, when, {**self._random_fields(kind), **(fields or {})})
        table[row_id] = row
        return row

    def update(self, kind: Kind, row_id: str, fields: dict[str, Any] | None = None, *,
               at: datetime | None = None) -> Row:
        """Update a record: `fields`, or a random change when None; dated `at` (default now).

        Raises:
            KeyError: no such record.
        """
        row = self.table(kind)[row_id]
        if fields is None:
            fields = self._random_change(kind)
        row.fields.update(fields)
        row.updated = max(_to_millis(at or self.clock()), row.created)
        return row

    def step(self) -> tuple[str, Kind, str]:
        """Make one random change (mostly new contacts, some updates); return (action, kind, id)."""
        roll = self.rng.random()
        if roll < 0.4 or not self.contacts:
            return "created", "contact", self.create("contact").id
        if roll < 0.7:
            return "updated", "contact", self.update("contact", self.rng.choice(sorted(self.contacts))).id
        if roll < 0.85 or not self.deals:
            return "created", "deal", self.create("deal").id
        return "updated", "deal", self.update("deal", self.rng.choice(sorted(self.deals))).id

    def contacts_since(self, since: datetime | None, *, strict: bool = False) -> list[Row]:
        """Contacts changed at or after `since` (after, when strict), oldest change first."""
        rows = [
            r for r in self.contacts.values()
            if since is None or r.updated > since or (not strict and r.updated == since)
        ]
        return sorted(rows, key=lambda r: (r.updated, r.id))

    def deals_newest_first(self) -> list[Row]:
        """Deals, newest change first."""
        return sorted(self.deals.values(), key=lambda r: (r.updated, r.id), reverse=True)

    def table(self, kind: Kind) -> dict[str, Row]:
        """The contacts or the deals, by id."""
        return self.contacts if kind == "contact" else self.deals

    def _random_fields(self, kind: Kind) -> dict[str, Any]:
        if kind == "contact":
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            return {"firstName": first, "lastName": last, "email": f"{first}.{last}@example.com".lower()}
        return {"name": f"{self.rng.choice(LAST_NAMES)} renewal", "amount": self.rng.randrange(1_000, 90_000, 500),
                "stage": STAGES[0]}

    def _random_change(self, kind: Kind) -> dict[str, Any]:
        if kind == "contact":
            return {"phone": f"+1-555-{self.rng.randrange(1000, 9999)}"}
        return {"stage": self.rng.choice(STAGES[1:]), "amount": self.rng.randrange(1_000, 90_000, 500)}


def render_contact(row: Row) -> dict[str, Any]:
    """A contact as the API shows it."""
    return {"id": row.id, **row.fields, "createdDate": iso_millis(row.created),
            "lastModifiedDate": iso_millis(row.updated)}


def render_deal(row: Row) -> dict[str, Any]:
    """A deal as the API shows it."""
    return {"id": row.id, **row.fields, "created_at": pacific_local(row.created), "updated_at": rfc822(row.updated)}


STATE: web.AppKey[CrmState] = web.AppKey("state", CrmState)
TOKEN: web.AppKey[str] = web.AppKey("token", str)
RATE: web.AppKey[float] = web.AppKey("rate", float)


def _bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=f'{{"message": "{message}"}}', content_type="application/json")


@web.middleware
async def require_bearer(request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
    """Reject requests without the right `Authorization: Bearer` token (except `/healthz`)."""
    if request.path != "/healthz":
        sent = request.headers.get("Authorization", "")
        expected = f"Bearer {request.app[TOKEN]}"
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            return web.json_response({"message": "invalid or missing bearer token"}, status=401)
    response: web.StreamResponse = await handler(request)
    return response


def _page_size(request: web.Request, name: str, *, default: int, maximum: int) -> int:
    raw = request.query.get(name, str(default))
    if not raw.isdigit() or int(raw) < 1:
        raise _bad_request(f"{name} must be a positive integer")
    return min(int(raw), maximum)


def _contacts_filter(request: web.Request) -> tuple[datetime | None, bool]:
    where = request.query.get("where")
    if where is not None:
        match = WHERE.match(where)
        if match is None:
            raise _bad_request("where supports lastModifiedDate>='<ISO-8601 date>' only")
        try:
            since = datetime.fromisoformat(match["date"].replace("Z", "+00:00"))
        except ValueError:
            raise _bad_request(f"unparseable date {match['date']!r} in where") from None
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return since, match["op"] == ">"
    modified = request.query.get("modified_since")
    if modified is not None:
        if not modified.isdigit():
            raise _bad_request("modified_since must be epoch milliseconds")
        return datetime.fromtimestamp(int(modified) / 1000, UTC), False
    return None, False


def _encode_key(row: Row) -> str:
    # Keyset token (last change date, id): stable while records change between pages.
    return base64.urlsafe_b64encode(f"{iso_millis(row.updated)}|{row.id}".encode()).decode()


def _decode_key(token: str) -> tuple[datetime, str]:
    try:
        date, _, row_id = base64.urlsafe_b64decode(token.encode()).decode().partition("|")
        return datetime.fromisoformat(date.replace("Z", "+00:00")), row_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _bad_request("invalid nextPage token") from None


async def list_contacts(request: web.Request) -> web.Response:
    """Contacts changed since the filter, hub-paginated, oldest change first."""
    size = _page_size(request, "pageSize", default=20, maximum=200)
    since, strict = _contacts_filter(request)
    rows = request.app[STATE].contacts_since(since, strict=strict)
    if "nextPage" in request.query:
        after = _decode_key(request.query["nextPage"])
        rows = [r for r in rows if (r.updated, r.id) > after]
    page = rows[:size]
    headers = {"elements-next-page-token": _encode_key(page[-1])} if len(rows) > size else {}
    return web.json_response([render_contact(r) for r in page], headers=headers)


async def list_deals(request: web.Request) -> web.Response:
    """Deals, newest change first, page-number pagination."""
    size = _page_size(request, "per_page", default=20, maximum=100)
    number = _page_size(request, "page", default=1, maximum=1_000_000)
    rows = request.app[STATE].deals_newest_first()[(number - 1) * size : number * size]
    return web.json_response({"deals": [render_deal(r) for r in rows], "page": number})


async def _upsert(request: web.Request, kind: Kind) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        raise _bad_request("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise _bad_request("the body must be a JSON object")
    state = request.app[STATE]
    row_id = body.pop("id", None)
    render = render_contact if kind == "contact" else render_deal
    if row_id is not None and row_id in state.table(kind):
        return web.json_response(render(state.update(kind, str(row_id), body)))
    return web.json_response(render(state.create(kind, body)), status=201)


async def upsert_contact(request: web.Request) -> web.Response:
    """Create or update a contact now."""
    return await _upsert(request, "contact")


async def upsert_deal(request: web.Request) -> web.Response:
    """Create or update a deal now."""
    return await _upsert(request, "deal")


async def healthz(request: web.Request) -> web.Response:
    """Liveness, without auth."""
    return web.json_response({"status": "ok"})


async def _changes(app: web.Application) -> AsyncIterator[None]:
    rate = app[RATE]

    async def run() -> None:
        while True:
            await asyncio.sleep(1 / rate)
            action, kind, row_id = app[STATE].step()
            print(f"{action} {kind} {row_id}", flush=True)

    task = asyncio.create_task(run()) if rate > 0 else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def build_app(*, seed: int = 1, rate: float = 0.5, token: str = DEMO_TOKEN, initial: int = 10,
              state: CrmState | None = None) -> web.Application:
    """Return the CRM application.

    Args:
        seed: seeds the random names and changes.
        rate: random changes per second made by a background task (0: none; use the admin endpoints).
        token: the bearer token clients must send.
        initial: contacts created over the past hour at start (and half as many deals).
        state: the state to serve (tests keep a handle to change records); a new seeded one when None.
    """
    if state is None:
        state = CrmState(seed=seed)
        state.seed_history(initial, initial // 2)
    app = web.Application(middlewares=[require_bearer])
    app[STATE] = state
    app[TOKEN] = token
    app[RATE] = rate
    app.router.add_get("/api/contacts", list_contacts)
    app.router.add_get("/api/deals", list_deals)
    app.router.add_post("/admin/contacts", upsert_contact)
    app.router.add_post("/admin/deals", upsert_deal)
    app.router.add_get("/healthz", healthz)
    app.cleanup_ctx.append(_changes)
    return app


def main() -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=0.5, help="random changes per second (0: none)")
    parser.add_argument("--token", default=DEMO_TOKEN)
    parser.add_argument("--initial", type=int, default=10, help="contacts created at start")
    args = parser.parse_args()
    app = build_app(seed=args.seed, rate=args.rate, token=args.token, initial=args.initial)
    print(f"demo CRM on http://{args.host}:{args.port}/api (bearer token {args.token!r})", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
