"""Webhook signature verification: one check per scheme, on the raw body bytes, constant-time, failing closed.

Every failure is a `SignatureError` whose `reason` is one of `REASONS` (a metric label); messages name the
scheme and header but never the secret or the expected signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Final

from pydantic import SecretStr

from service.errors import SignatureError
from service.webhooks.spec import (
    Algorithm,
    Encoding,
    GitHubVerification,
    HmacVerification,
    ShopifyVerification,
    SlackVerification,
    StandardWebhooks,
    StripeVerification,
    Verification,
)

REASONS: Final = frozenset({"missing_header", "malformed", "mismatch", "expired", "no_secret"})

_DIGESTS: dict[Algorithm, Callable[[], hashlib._Hash]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}
_HEX = re.compile(r"[0-9a-fA-F]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_SECONDS = re.compile(r"\d{1,15}")
_WHSEC = "whsec_"


def verify(
    settings: Verification, secret: SecretStr, headers: Mapping[str, str], body: bytes, now: datetime
) -> None:
    """Check that a request was signed by the provider, within the scheme's replay window.

    Args:
        settings: the element's verification settings.
        secret: the resolved secret (see `SecretSource.resolve`).
        headers: the request headers; names are matched case-insensitively whatever the mapping type.
        body: the raw body, exactly as received.
        now: the current time (aware).

    Raises:
        SignatureError: reason `missing_header`, `malformed`, `mismatch`, `expired` or `no_secret`.
    """
    key = secret.get_secret_value().encode()
    if not key:
        raise SignatureError(f"{settings.scheme}: the webhook secret is empty", reason="no_secret")
    lowered = {str(name).lower(): str(value) for name, value in headers.items()}
    if isinstance(settings, StandardWebhooks):
        _standard_webhooks(settings, key, lowered, body, now)
    elif isinstance(settings, GitHubVerification):
        _github(settings, key, lowered, body)
    elif isinstance(settings, StripeVerification):
        _stripe(settings, key, lowered, body, now)
    elif isinstance(settings, SlackVerification):
        _slack(settings, key, lowered, body, now)
    elif isinstance(settings, ShopifyVerification):
        _match("shopify", _decode("shopify", _header(lowered, "x-shopify-hmac-sha256"), "base64"),
               _mac(key, body, "sha256"))
    else:
        _generic(settings, key, lowered, body, now)


def _standard_webhooks(
    settings: StandardWebhooks, key: bytes, headers: dict[str, str], body: bytes, now: datetime
) -> None:
    message_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    _fresh("standard-webhooks", timestamp, settings.tolerance.total_seconds(), now)
    try:
        raw_key = key.decode().removeprefix(_WHSEC)
        secret = base64.b64decode(raw_key, validate=True)
    except (UnicodeDecodeError, binascii.Error):
        raise SignatureError("standard-webhooks: the secret is not base64 (whsec_...)", reason="no_secret") from None
    expected = _mac(secret, f"{message_id}.{timestamp}.".encode() + body, "sha256")
    # Space-separated `version,signature` pairs; several during a secret rotation. Other versions (v1a is
    # asymmetric) are skipped, not failed, as the specification asks.
    candidates = [
        _decode("standard-webhooks", value, "base64")
        for version, _, value in (entry.partition(",") for entry in signatures.split())
        if version == "v1"
    ]
    if not candidates:
        raise SignatureError("standard-webhooks: webhook-signature has no v1 signature", reason="malformed")
    _match_any("standard-webhooks", candidates, expected)


def _github(settings: GitHubVerification, key: bytes, headers: dict[str, str], body: bytes) -> None:
    name = "x-hub-signature-256" if settings.algorithm == "sha256" else "x-hub-signature"
    value = _header(headers, name)
    prefix = f"{settings.algorithm}="
    if not value.startswith(prefix):
        raise SignatureError(f"github: {name} must start with {prefix}", reason="malformed")
    _match("github", _decode("github", value.removeprefix(prefix), "hex"), _mac(key, body, settings.algorithm))


def _stripe(settings: StripeVerification, key: bytes, headers: dict[str, str], body: bytes, now: datetime) -> None:
    timestamp: str | None = None
    candidates: list[bytes] = []
    for part in _header(headers, "stripe-signature").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            timestamp = value
        elif name == "v1":
            candidates.append(_decode("stripe", value, "hex"))
    if timestamp is None or not candidates:
        raise SignatureError("stripe: Stripe-Signature needs t= and at least one v1=", reason="malformed")
    _fresh("stripe", timestamp, settings.tolerance.total_seconds(), now)
    _match_any("stripe", candidates, _mac(key, timestamp.encode() + b"." + body, "sha256"))


def _slack(settings: SlackVerification, key: bytes, headers: dict[str, str], body: bytes, now: datetime) -> None:
    timestamp = _header(headers, "x-slack-request-timestamp")
    value = _header(headers, "x-slack-signature")
    _fresh("slack", timestamp, settings.tolerance.total_seconds(), now)
    if not value.startswith("v0="):
        raise SignatureError("slack: X-Slack-Signature must start with v0=", reason="malformed")
    expected = _mac(key, b"v0:" + timestamp.encode() + b":" + body, "sha256")
    _match("slack", _decode("slack", value.removeprefix("v0="), "hex"), expected)


def _generic(settings: HmacVerification, key: bytes, headers: dict[str, str], body: bytes, now: datetime) -> None:
    value = _header(headers, settings.header.lower())
    if not value.startswith(settings.prefix):
        raise SignatureError(f"hmac: {settings.header} must start with {settings.prefix!r}", reason="malformed")
    timestamp = ""
    if settings.timestamp_header is not None:
        timestamp = _header(headers, settings.timestamp_header.lower())
        _fresh("hmac", timestamp, settings.tolerance.total_seconds(), now)
    before, _, after = settings.signed_payload.partition("{body}")
    payload = b"".join(
        (before.replace("{timestamp}", timestamp).encode(), body, after.replace("{timestamp}", timestamp).encode())
    )
    provided = _decode("hmac", value.removeprefix(settings.prefix), settings.encoding)
    _match("hmac", provided, _mac(key, payload, settings.algorithm))


def _header(headers: dict[str, str], name: str) -> str:
    value = headers.get(name, "").strip()
    if not value:
        raise SignatureError(f"missing header {name}", reason="missing_header")
    return value


def _fresh(scheme: str, timestamp: str, tolerance: float, now: datetime) -> None:
    # Compared as numbers, never converted to a datetime: an absurd value must not raise OverflowError.
    if not _SECONDS.fullmatch(timestamp):
        raise SignatureError(f"{scheme}: the timestamp is not epoch seconds", reason="malformed")
    if abs(now.timestamp() - int(timestamp)) > tolerance:
        raise SignatureError(
            f"{scheme}: the timestamp is more than {tolerance:g}s away from now (replay or clock skew)",
            reason="expired",
        )


def _decode(scheme: str, value: str, encoding: Encoding) -> bytes:
    text = value.strip()
    pattern = _HEX if encoding == "hex" else _BASE64
    if not pattern.fullmatch(text) or (encoding == "hex" and len(text) % 2):
        raise SignatureError(f"{scheme}: the signature is not {encoding}", reason="malformed")
    try:
        return bytes.fromhex(text) if encoding == "hex" else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise SignatureError(f"{scheme}: the signature is not {encoding}", reason="malformed") from None


def _mac(key: bytes, payload: bytes, algorithm: Algorithm) -> bytes:
    return hmac.new(key, payload, _DIGESTS[algorithm]).digest()


def _match(scheme: str, provided: bytes, expected: bytes) -> None:
    if not hmac.compare_digest(provided, expected):
        raise SignatureError(f"{scheme}: the signature does not match the body", reason="mismatch")


def _match_any(scheme: str, candidates: list[bytes], expected: bytes) -> None:
    # Every candidate is compared, so the time taken does not reveal which one matched.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(candidate, expected)
    if not matched:
        raise SignatureError(f"{scheme}: no signature matches the body", reason="mismatch")
