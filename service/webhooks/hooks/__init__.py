"""Event hooks: the Open Connectors contract (`contract`) and the QuickJS sandbox that runs them (`sandbox`)."""

from service.webhooks.hooks.contract import (
    HookError,
    HookErrorReason,
    HookEvent,
    event_from_item,
    events_from_output,
    parse_event_date,
    parse_event_type,
)
from service.webhooks.hooks.sandbox import HookRunner

__all__ = [
    "HookError",
    "HookErrorReason",
    "HookEvent",
    "HookRunner",
    "event_from_item",
    "events_from_output",
    "parse_event_date",
    "parse_event_type",
]
