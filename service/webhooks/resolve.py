"""Which element and instances a webhook is for: path ids (plain or base64), `Element-Instances`, the finder.

Pure lookups in the registry's tables; failures are typed errors that the route turns into 400, 404 or 409.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from service.errors import ServiceError
from service.registry.models import Element, Instance, ResolvedInstance
from service.webhooks.spec import WebhookSettings

ELEMENT_INSTANCES = "Element-Instances"
# A provider names one account; a longer list is a mistake or an attempt to fan one body out widely.
MAX_NAMED_INSTANCES = 50


class TargetError(ServiceError):
    """A webhook cannot be routed to instances; subclasses say why."""


class InvalidTarget(TargetError):
    """The request names its instances in a way that cannot be read (too many, empty)."""


class UnknownTarget(TargetError):
    """No such element or instance, or no instance matches the body."""


class NotAccepting(TargetError):
    """The element receives no webhooks, or the instance has events disabled."""


def webhook_element(elements: Mapping[str, Element], key: str) -> tuple[Element, WebhookSettings]:
    """The element a webhook URL names, with its webhook settings.

    Raises:
        UnknownTarget: no element has that key.
        NotAccepting: the element has no webhook settings.
    """
    element = elements.get(key)
    if element is None:
        raise UnknownTarget(f"element {_shown(key)} does not exist")
    if element.webhook is None:
        raise NotAccepting(f"element {key!r} has no webhook settings")
    return element, element.webhook


def decode_instance_id(text: str) -> str:
    """The instance id of an Open Connectors URL: base64, standard or url-safe, padded or not.

    Raises:
        UnknownTarget: the text is not base64 of a UTF-8 string.
    """
    compact = text.strip().replace("-", "+").replace("_", "/").rstrip("=")
    try:
        decoded = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise UnknownTarget(f"instance reference {_shown(text)} is not base64 of an instance id") from None
    if not decoded.strip():
        raise UnknownTarget("the instance reference decodes to an empty id")
    return decoded


def by_id(element: Element, instances: Mapping[str, Instance], instance_id: str) -> ResolvedInstance:
    """The instance a URL names, which must belong to the element and accept webhooks.

    Raises:
        UnknownTarget: no such instance of this element.
        NotAccepting: events are disabled for it.
    """
    instance = instances.get(instance_id)
    if instance is None or instance.element_key != element.key:
        raise UnknownTarget(f"element {element.key!r} has no instance {_shown(instance_id)}")
    return _accepting(ResolvedInstance(element=element, instance=instance))


def by_header(element: Element, instances: Mapping[str, Instance], header: str) -> list[ResolvedInstance]:
    """The instances an `Element-Instances` header lists (comma-separated ids; repeats are ignored).

    Raises:
        InvalidTarget: the header lists no id or more than `MAX_NAMED_INSTANCES`.
        UnknownTarget: one of them is not an instance of this element.
        NotAccepting: one of them has events disabled.
    """
    ids = list(dict.fromkeys(part.strip() for part in header.split(",") if part.strip()))
    if not ids:
        raise InvalidTarget(f"{ELEMENT_INSTANCES} lists no instance id")
    if len(ids) > MAX_NAMED_INSTANCES:
        raise InvalidTarget(f"{ELEMENT_INSTANCES} lists {len(ids)} ids; at most {MAX_NAMED_INSTANCES} are accepted")
    return [by_id(element, instances, instance_id) for instance_id in ids]


def by_finder(
    element: Element, settings: WebhookSettings, instances: Mapping[str, Instance], body: object
) -> list[ResolvedInstance]:
    """The instances of the element whose configuration value matches the body (instance finder), by id.

    Instances with events disabled are skipped; one body may match several instances.

    Raises:
        UnknownTarget: the element has no finder, or no instance matches.
        NotAccepting: instances match but none accepts webhooks.
    """
    finder = settings.instance_finder
    if finder is None:
        raise UnknownTarget(
            f"element {element.key!r} has no instance finder: use /events/{element.key}/{{instanceId}} "
            f"or the {ELEMENT_INSTANCES} header"
        )
    wanted = set(finder.values(body))
    matched = [
        ResolvedInstance(element=element, instance=instance)
        for instance in sorted(instances.values(), key=lambda candidate: candidate.id)
        if instance.element_key == element.key
    ]
    matched = [resolved for resolved in matched if resolved.string_config().get(finder.config_key) in wanted]
    if not matched:
        raise UnknownTarget(f"no instance of element {element.key!r} matches {finder.path} of the body")
    accepting = [resolved for resolved in matched if _enabled(resolved)]
    if not accepting:
        raise NotAccepting(f"the instances of element {element.key!r} matching the body have events disabled")
    return accepting


def _accepting(resolved: ResolvedInstance) -> ResolvedInstance:
    if not _enabled(resolved):
        raise NotAccepting(
            f"instance {resolved.instance.id!r} does not accept webhooks: events disabled "
            f"(event.notification.enabled) or element {resolved.element.key!r} is not a webhook element"
        )
    return resolved


def _enabled(resolved: ResolvedInstance) -> bool:
    try:
        return resolved.webhooks_enabled
    except ValueError:
        # A malformed event.notification.enabled value was validated nowhere; treat it as off, not as a crash.
        return False


def _shown(text: str) -> str:
    # Path parts come from anyone: quoted and cut, so an error or a log line cannot be flooded through them.
    return repr(text[:80] + ("..." if len(text) > 80 else ""))
