"""Provider endpoint checks ("handshakes"): recognise one from a request and build the reply. Pure functions.

A handshake publishes no event. Dropbox and Microsoft Graph checks are unsigned, so the route answers them
before verification; Slack and Zoom sign theirs, so they are answered after it (`is_signed`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

import orjson
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from service.errors import SignatureError
from service.webhooks.spec import HandshakeKind

# A challenge is an opaque token of a few dozen characters; echoing anything much longer would turn the
# endpoint into a reflector for arbitrary content.
MAX_CHALLENGE_CHARS = 2048
_TEXT = "text/plain; charset=utf-8"
_SIGNED: frozenset[HandshakeKind] = frozenset({"slack", "zoom"})


class HandshakeReply(BaseModel):
    """The HTTP response that completes a handshake.

    Attributes:
        status: HTTP status (200).
        content_type: the Content-Type header value.
        body: the response body.
        headers: further response headers.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: int = 200
    content_type: str
    body: bytes
    headers: dict[str, str] = Field(default_factory=dict)


def is_signed(kind: HandshakeKind) -> bool:
    """Whether the provider signs its handshake requests (then verify first, answer after)."""
    return kind in _SIGNED


def answer(
    kind: HandshakeKind,
    *,
    method: str,
    query: Mapping[str, str],
    body: object,
    secret: SecretStr | None = None,
) -> HandshakeReply | None:
    """Recognise a handshake of the element's kind and build its reply; None when the request is not one.

    Args:
        kind: the element's handshake.
        method: the HTTP method.
        query: the query parameters, already URL-decoded (aiohttp's `request.query`).
        body: the parsed body (a JSON object, form fields, or None).
        secret: Zoom's secret token (required for `zoom`).

    Raises:
        SignatureError: reason `no_secret`, a Zoom handshake arrived and no secret is available.
    """
    if kind == "dropbox":
        return _dropbox(method, query)
    if kind == "msgraph":
        return _msgraph(query)
    if kind == "slack":
        return _slack(body)
    return _zoom(body, secret)


def _dropbox(method: str, query: Mapping[str, str]) -> HandshakeReply | None:
    challenge = query.get("challenge")
    if method.upper() != "GET" or not _acceptable(challenge):
        return None
    return _text(challenge or "", nosniff=True)


def _msgraph(query: Mapping[str, str]) -> HandshakeReply | None:
    # Graph POSTs `?validationToken=<url-encoded>` when a subscription is created and wants it back decoded,
    # as text/plain, within 10 seconds.
    token = query.get("validationToken")
    return _text(token or "", nosniff=True) if _acceptable(token) else None


def _slack(body: object) -> HandshakeReply | None:
    if not isinstance(body, dict) or body.get("type") != "url_verification":
        return None
    challenge = body.get("challenge")
    return _text(challenge) if isinstance(challenge, str) and _acceptable(challenge) else None


def _zoom(body: object, secret: SecretStr | None) -> HandshakeReply | None:
    if not isinstance(body, dict) or body.get("event") != "endpoint.url_validation":
        return None
    payload = body.get("payload")
    plain = payload.get("plainToken") if isinstance(payload, dict) else None
    if not isinstance(plain, str) or not _acceptable(plain):
        return None
    if secret is None or not secret.get_secret_value():
        raise SignatureError("zoom: endpoint.url_validation needs the secret token", reason="no_secret")
    encrypted = hmac.new(secret.get_secret_value().encode(), plain.encode(), hashlib.sha256).hexdigest()
    return HandshakeReply(
        content_type="application/json",
        body=orjson.dumps({"plainToken": plain, "encryptedToken": encrypted}),
    )


def _acceptable(token: object) -> bool:
    return isinstance(token, str) and 0 < len(token) <= MAX_CHALLENGE_CHARS


def _text(token: str, *, nosniff: bool = False) -> HandshakeReply:
    # nosniff keeps browsers from rendering an echoed token as HTML (Dropbox asks for it explicitly).
    return HandshakeReply(
        content_type=_TEXT,
        body=token.encode(),
        headers={"X-Content-Type-Options": "nosniff"} if nosniff else {},
    )
