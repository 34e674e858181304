"""The webhook settings of an element, as its definition embeds them (Open Connectors style camelCase keys).

Verification, handshake, delivery id, hook or mapping, instance finder.

Only shapes and static checks live here; `verify`, `handshake`, `hooks` and `mapping` act on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from service.errors import SignatureError
from service.secrets import resolve_secret
from service.webhooks.mapping import EventMapping, JsonPath

Algorithm = Literal["sha1", "sha256", "sha512"]
Encoding = Literal["hex", "base64"]
HandshakeKind = Literal["dropbox", "slack", "msgraph", "zoom"]

_FIVE_MINUTES = timedelta(minutes=5)


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SecretSource(_Settings):
    """Where a signing secret comes from: exactly one of `secret` and `secret_config_key`."""

    secret: SecretStr | None = Field(
        default=None,
        description="A secret reference: `env:NAME`, `file:/path`, or the secret itself (shared by all instances).",
    )
    secret_config_key: str | None = Field(
        default=None,
        alias="secretConfigKey",
        description="The instance configuration key that holds this instance's secret (taken literally).",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretSource:
        if (self.secret is None) == (self.secret_config_key is None):
            raise ValueError("set exactly one of secret and secretConfigKey")
        return self

    def resolve(self, configuration: Mapping[str, str], *, where: str) -> SecretStr:
        """The secret for one instance.

        A configuration value is used literally, never dereferenced as `env:`/`file:`: instance configuration
        may come from tenants, and the Zoom handshake would return an HMAC keyed with whatever it names.

        Args:
            configuration: the instance's configuration.
            where: names the element and instance in errors.

        Raises:
            SignatureError: reason `no_secret`, the configuration key is missing or empty.
            ConfigError: the `env:`/`file:` reference cannot be resolved.
        """
        if self.secret is not None:
            return resolve_secret(self.secret, where=f"{where} webhook secret")
        key = self.secret_config_key or ""
        value = configuration.get(key, "")
        if not isinstance(value, str) or not value:
            raise SignatureError(f"{where}: configuration {key!r} holds no webhook secret", reason="no_secret")
        return SecretStr(value)


class _Timestamped(SecretSource):
    tolerance: timedelta = Field(
        default=_FIVE_MINUTES,
        description="How far the signed timestamp may be from now, either way (seconds or ISO-8601 duration).",
    )

    @field_validator("tolerance")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be positive")
        return value


class StandardWebhooks(_Timestamped):
    """Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` (`v1,<base64>` ...).

    The secret is base64, usually prefixed `whsec_`.
    """

    scheme: Literal["standard-webhooks"]


class GitHubVerification(SecretSource):
    """GitHub: `X-Hub-Signature-256: sha256=<hex>` (or `X-Hub-Signature: sha1=<hex>` with algorithm sha1)."""

    scheme: Literal["github"]
    algorithm: Literal["sha256", "sha1"] = "sha256"


class StripeVerification(_Timestamped):
    """Stripe: `Stripe-Signature: t=<seconds>,v1=<hex>[,v1=...]` over `<t>.<body>`."""

    scheme: Literal["stripe"]


class SlackVerification(_Timestamped):
    """Slack: `X-Slack-Signature: v0=<hex>` over `v0:<X-Slack-Request-Timestamp>:<body>`."""

    scheme: Literal["slack"]


class ShopifyVerification(SecretSource):
    """Shopify: `X-Shopify-Hmac-Sha256`: base64 HMAC-SHA256 of the body."""

    scheme: Literal["shopify"]


class HmacVerification(_Timestamped):
    """Any provider that puts an HMAC of the body (optionally with a timestamp) in a header."""

    scheme: Literal["hmac"]
    header: str = Field(min_length=1, description="The header holding the signature, e.g. `X-Dropbox-Signature`.")
    algorithm: Algorithm = "sha256"
    encoding: Encoding = Field(default="hex", description="How the signature is written: hex or base64.")
    prefix: str = Field(default="", description="Text before the signature, e.g. `sha256=` (exact match).")
    timestamp_header: str | None = Field(
        default=None,
        alias="timestampHeader",
        description="A header with the signing time in epoch seconds; checked against `tolerance`.",
    )
    signed_payload: str = Field(
        default="{body}",
        alias="signedPayload",
        description="What is signed: a template with `{body}` once and optionally `{timestamp}`, e.g. "
        "`v0:{timestamp}:{body}` (Zoom) or `{timestamp}.{body}`.",
    )

    @model_validator(mode="after")
    def _template(self) -> HmacVerification:
        if self.signed_payload.count("{body}") != 1:
            raise ValueError("signedPayload must contain {body} exactly once")
        if "{timestamp}" in self.signed_payload and self.timestamp_header is None:
            raise ValueError("signedPayload uses {timestamp}: set timestampHeader")
        return self


Verification = Annotated[
    StandardWebhooks
    | GitHubVerification
    | StripeVerification
    | SlackVerification
    | ShopifyVerification
    | HmacVerification,
    Field(discriminator="scheme"),
]


class InstanceFinder(_Settings):
    """`event.notification.instance.finder`: the instances whose configuration `config_key` equals a body value.

    Written as `configKey|json.path` (the path with or without a leading `$`).
    """

    config_key: str = Field(min_length=1, alias="configKey")
    path: str = Field(description="Path into the body, e.g. `$.account.id`.")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: object) -> object:
        if isinstance(value, str):
            key, separator, path = value.partition("|")
            if not separator or not key.strip() or not path.strip():
                raise ValueError("instance finder must read configKey|json.path")
            path = path.strip()
            return {"config_key": key.strip(), "path": path if path.startswith("$") else f"$.{path}"}
        return value

    @field_validator("path")
    @classmethod
    def _parse(cls, value: str) -> str:
        JsonPath.parse(value)
        return value

    def values(self, body: object) -> list[str]:
        """The body values to look up (strings and numbers as text); several when the path has `[*]`."""
        found = JsonPath.parse(self.path).select(body, body=body)
        return [str(value) for value in found if isinstance(value, str | int | float) and not isinstance(value, bool)]


class WebhookSettings(_Settings):
    """Everything an element says about receiving its provider's webhooks."""

    verification: Verification | None = Field(
        default=None, description="How requests are authenticated; unset means they are not (not recommended)."
    )
    handshake: HandshakeKind | None = Field(
        default=None, description="The provider's endpoint check to answer: dropbox, slack, msgraph or zoom."
    )
    handshake_secret: SecretStr | None = Field(
        default=None,
        alias="handshakeSecret",
        description="Zoom only: secret reference for the encrypted token; default: the verification secret.",
    )
    handshake_secret_config_key: str | None = Field(
        default=None, alias="handshakeSecretConfigKey", description="Zoom only: instance configuration key instead."
    )
    delivery_id: str | None = Field(
        default=None,
        alias="deliveryId",
        description="Where the provider's delivery id is: a header name (`X-GitHub-Delivery`, `webhook-id`) or a "
        "path into the body (`$.event_id`). Redeliveries then yield the same event ids.",
    )
    hook: str | None = Field(
        default=None,
        validation_alias=AliasChoices("hook", "eventHook"),
        description="JavaScript source of the event hook (Open Connectors contract).",
    )
    mapping: EventMapping | None = Field(default=None, description="Declarative mapping, for elements without a hook.")
    instance_finder: InstanceFinder | None = Field(
        default=None,
        validation_alias=AliasChoices("instanceFinder", "event.notification.instance.finder", "instance_finder"),
        serialization_alias="instanceFinder",
        description="`configKey|json.path`: finds the instances of a body sent to the element-wide URL.",
    )

    @field_validator("delivery_id")
    @classmethod
    def _delivery_path(cls, value: str | None) -> str | None:
        if value is not None and value.startswith("$"):
            JsonPath.parse(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> WebhookSettings:
        if self.hook is not None and self.mapping is not None:
            raise ValueError("set either hook or mapping, not both")
        if self.handshake_secret is not None and self.handshake_secret_config_key is not None:
            raise ValueError("set at most one of handshakeSecret and handshakeSecretConfigKey")
        if self.handshake == "zoom" and self.handshake_secret_source() is None:
            raise ValueError("the zoom handshake needs a secret: handshakeSecret, handshakeSecretConfigKey or "
                             "a verification secret")
        return self

    def handshake_secret_source(self) -> SecretSource | None:
        """Where the Zoom handshake's secret comes from: its own settings, else the verification's."""
        if self.handshake_secret is not None or self.handshake_secret_config_key is not None:
            return SecretSource(secret=self.handshake_secret, secret_config_key=self.handshake_secret_config_key)
        if self.verification is not None:
            return SecretSource(
                secret=self.verification.secret, secret_config_key=self.verification.secret_config_key
            )
        return None

    def delivery_id_of(self, headers: Mapping[str, str], body: object) -> str | None:
        """The provider's delivery id of one request, or None when not configured or absent.

        Args:
            headers: the request headers (any case).
            body: the parsed body.
        """
        if self.delivery_id is None:
            return None
        if self.delivery_id.startswith("$"):
            value = JsonPath.parse(self.delivery_id).first(body, body=body, headers=headers)
        else:
            wanted = self.delivery_id.lower()
            value = next((v for name, v in headers.items() if name.lower() == wanted), None)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return None
        text = str(value).strip()
        return text or None
