"""Element and instance definitions, with the Open Connectors configuration keys and their resolution rules.

An instance's `configuration` overrides its element's: `event.notification.enabled`, `event.poller.refresh_interval`,
`event.poller.configuration`, and any provider key used as `{configKey}` in URLs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, JsonValue, field_validator

from service.polling.auth import Auth, NoAuth
from service.polling.paginate import HubPagination, Pagination
from service.webhooks.spec import WebhookSettings

# Open Connectors configuration keys.
VENDOR_TYPE = "event.vendor.type"
NOTIFICATION_ENABLED = "event.notification.enabled"
REFRESH_INTERVAL = "event.poller.refresh_interval"
POLLER_CONFIGURATION = "event.poller.configuration"
INSTANCE_FINDER = "event.notification.instance.finder"

DEFAULT_REFRESH_MINUTES = 15.0
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off", ""}


class VendorType(StrEnum):
    """How an element learns of changes."""

    POLLING = "polling"
    WEBHOOK = "webhook"
    BOTH = "both"


def _vendor_type(value: object) -> VendorType:
    text = str(value).strip().lower().replace(" ", "")
    aliases = {"webhooks": "webhook", "polling,webhook": "both", "webhook,polling": "both", "polling,webhooks": "both"}
    text = aliases.get(text, text)
    try:
        return VendorType(text)
    except ValueError:
        raise ValueError(f"{VENDOR_TYPE} must be polling, webhook or both, not {value!r}") from None


def as_bool(value: object, *, key: str) -> bool:
    """Open Connectors configuration booleans are often strings: "true", "false"."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{key} must be true or false, not {value!r}")


def _safe_id(value: str) -> str:
    # ':' separates the parts of an event key and '/' those of a cursor key.
    if any(ch in value for ch in ":/") or not value.strip():
        raise ValueError("must be non-empty and contain neither ':' nor '/'")
    return value


SafeId = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_safe_id)]
Configuration = dict[str, JsonValue]


class _Definition(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Element(_Definition):
    """A connector: how to talk to one provider, and the defaults its instances inherit."""

    key: SafeId
    hub_key: str = Field(default="general", alias="hubKey")
    name: str | None = None
    configuration: Configuration = Field(
        default_factory=dict, description="Defaults of the Open Connectors keys (event.vendor.type ...)."
    )
    pagination: Pagination = Field(default_factory=HubPagination)
    webhook: WebhookSettings | None = None

    @field_validator("configuration")
    @classmethod
    def _check_vendor(cls, value: Configuration) -> Configuration:
        if VENDOR_TYPE in value:
            _vendor_type(value[VENDOR_TYPE])
        return value

    @property
    def vendor_type(self) -> VendorType:
        """`event.vendor.type`; polling when unset."""
        return _vendor_type(self.configuration.get(VENDOR_TYPE, VendorType.POLLING))


class Instance(_Definition):
    """A connected account of an element: where to reach it, how to authenticate, its configuration overrides."""

    id: SafeId
    element_key: SafeId = Field(alias="elementKey")
    name: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    base_url: HttpUrl | None = Field(default=None, alias="baseUrl")
    auth: Auth = Field(default_factory=NoAuth)
    configuration: Configuration = Field(default_factory=dict)
    backfill_from: datetime | None = Field(
        default=None, alias="backfillFrom", description="First poll window start; default: when first seen."
    )
    created_at: datetime | None = Field(
        default=None, alias="createdAt", description="Set by the registry when the instance is first written."
    )

    @field_validator("backfill_from", "created_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must carry a time zone (e.g. 2026-01-01T00:00:00Z)")
        return value


class ResolvedInstance(BaseModel):
    """An instance with its element: the configuration lookups both paths need."""

    model_config = ConfigDict(frozen=True)

    element: Element
    instance: Instance

    def config(self, key: str, default: JsonValue = None) -> JsonValue:
        """The instance's value of `key`, else the element's, else `default`."""
        if key in self.instance.configuration:
            return self.instance.configuration[key]
        return self.element.configuration.get(key, default)

    def string_config(self) -> dict[str, str]:
        """Flat string view of the merged configuration (for `{configKey}` in URLs and for event hooks)."""
        merged = {**self.element.configuration, **self.instance.configuration}
        return {key: value if isinstance(value, str) else _json_text(value) for key, value in merged.items()}

    @property
    def events_enabled(self) -> bool:
        """`event.notification.enabled` (Open Connectors default: false)."""
        return as_bool(self.config(NOTIFICATION_ENABLED, default=False), key=NOTIFICATION_ENABLED)

    @property
    def polling_enabled(self) -> bool:
        """Events enabled and the element polls."""
        return self.events_enabled and self.element.vendor_type in (VendorType.POLLING, VendorType.BOTH)

    @property
    def webhooks_enabled(self) -> bool:
        """Events enabled and the element receives webhooks."""
        return self.events_enabled and self.element.vendor_type in (VendorType.WEBHOOK, VendorType.BOTH)

    @property
    def refresh_interval(self) -> timedelta:
        """`event.poller.refresh_interval` in minutes (fractions allowed), instance over element."""
        raw = self.config(REFRESH_INTERVAL, default=DEFAULT_REFRESH_MINUTES)
        try:
            minutes = float(str(raw))
        except ValueError:
            raise ValueError(f"{REFRESH_INTERVAL} must be a number of minutes, not {raw!r}") from None
        if minutes <= 0:
            raise ValueError(f"{REFRESH_INTERVAL} must be positive, not {raw!r}")
        return timedelta(minutes=minutes)


def resolve(
    instance_id: str, instances: Mapping[str, Instance], elements: Mapping[str, Element]
) -> ResolvedInstance | None:
    """The instance and its element from two tables, or None when either is unknown."""
    instance = instances.get(instance_id)
    if instance is None:
        return None
    element = elements.get(instance.element_key)
    return None if element is None else ResolvedInstance(element=element, instance=instance)


def _json_text(value: JsonValue) -> str:
    import orjson  # noqa: PLC0415 - rarely needed (non-string configuration values)

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return orjson.dumps(value).decode()
