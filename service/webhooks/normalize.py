"""Webhook bodies become `NormalizedEvent`s: hook, mapping or fallback, then the event id rule.

Event ids: `event_id(instance_id, "delivery", <delivery id>, <index>)` when the element names a delivery id and the
request carries one, else `event_id(instance_id, "body", sha256(raw body), <index>)`; so a redelivery of the same
webhook (same delivery id, or byte-identical body) yields the same ids, as long as the hook is deterministic.

An element with neither hook nor mapping still yields one event per body and instance: type UNKNOWN, object type
`unknown`, object id the delivery id (or the body digest), dated at receipt, `raw` the body. Consumers then see
every delivery and can route on the element key; nothing is silently dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

from pydantic import ValidationError

from service.events import EventSource, EventType, NormalizedEvent, event_id
from service.registry.models import ResolvedInstance
from service.webhooks.hooks import HookError, HookEvent, HookRunner
from service.webhooks.mapping import map_events
from service.webhooks.spec import WebhookSettings

UNKNOWN_OBJECT_TYPE = "unknown"


def delivery_identity(settings: WebhookSettings, headers: Mapping[str, str], body: object, raw: bytes) -> list[str]:
    """The parts that identify one delivery (provider delivery id, else the body digest), for event ids."""
    delivery_id = settings.delivery_id_of(headers, body)
    if delivery_id is not None:
        return ["delivery", delivery_id]
    return ["body", hashlib.sha256(raw).hexdigest()]


async def find_events(
    settings: WebhookSettings,
    resolved: ResolvedInstance,
    body: object,
    headers: Mapping[str, str],
    *,
    runner: HookRunner,
    identity: list[str],
    received_at: datetime,
) -> list[HookEvent]:
    """The changes one body reports for one instance: by the element's hook, its mapping, or the fallback.

    Args:
        settings: the element's webhook settings.
        resolved: the instance (its configuration is the hook's `configuration`).
        body: the parsed body.
        headers: the request headers.
        runner: runs JavaScript hooks.
        identity: from `delivery_identity`; the delivery id part is the hook's `events.eventId`.
        received_at: the date of items without one.

    Raises:
        HookError: the hook or mapping failed (`error`, `timeout`, `memory`, `shape`).
    """
    instance_id = resolved.instance.id
    if settings.hook is not None:
        return await runner.run(
            settings.hook,
            body,
            resolved.string_config(),
            instance_id=instance_id,
            headers=headers,
            event_id=identity[1] if identity[0] == "delivery" else None,
            received_at=received_at,
        )
    if settings.mapping is not None:
        where = f"mapping of element {resolved.element.key!r}, instance {instance_id!r}"
        return map_events(settings.mapping, body, headers, received_at=received_at, where=where)
    return [
        HookEvent(
            object_type=UNKNOWN_OBJECT_TYPE,
            object_id=identity[1],
            event_type=EventType.UNKNOWN,
            date=received_at,
            raw={},
        )
    ]


def normalized(
    resolved: ResolvedInstance, found: list[HookEvent], *, identity: list[str], body: object
) -> list[NormalizedEvent]:
    """The normalized events of one instance, with deterministic ids (`raw` is the provider body).

    Raises:
        HookError: reason `shape`, an event does not fit the normalized model.
    """
    instance = resolved.instance
    try:
        return [
            NormalizedEvent(
                event_id=event_id(instance.id, *identity, str(index)),
                event_type=item.event_type,
                object_type=item.object_type,
                object_id=item.object_id,
                date=item.date,
                element_key=resolved.element.key,
                hub_key=resolved.element.hub_key,
                instance_id=instance.id,
                instance_name=instance.name,
                instance_tags=list(instance.tags),
                source=EventSource.WEBHOOK,
                raw=body,
            )
            for index, item in enumerate(found)
        ]
    except ValidationError as exc:
        raise HookError(
            f"instance {instance.id!r}: an event does not fit the normalized model: {exc.errors()[0]['msg']}",
            reason="shape",
        ) from None
