"""Handshakes: Dropbox, Slack, Microsoft Graph and Zoom replies, and requests that are not handshakes."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl

import orjson
import pytest
from pydantic import SecretStr

from service.errors import SignatureError
from service.webhooks.handshake import MAX_CHALLENGE_CHARS, answer, is_signed


def test_dropbox_echoes_challenge_as_plain_text_with_nosniff() -> None:
    reply = answer("dropbox", method="GET", query={"challenge": "JfQ7l2KUz3S4r8"}, body=None)
    assert reply is not None
    assert (reply.status, reply.body, reply.content_type) == (200, b"JfQ7l2KUz3S4r8", "text/plain; charset=utf-8")
    assert reply.headers == {"X-Content-Type-Options": "nosniff"}


@pytest.mark.parametrize(
    ("method", "query"),
    [("POST", {"challenge": "abc"}), ("GET", {}), ("GET", {"challenge": ""}),
     ("GET", {"challenge": "x" * (MAX_CHALLENGE_CHARS + 1)})],
    ids=["notification-post", "no-challenge", "empty", "too-long"],
)
def test_dropbox_other_requests_are_not_handshakes(method: str, query: dict[str, str]) -> None:
    assert answer("dropbox", method=method, query=query, body={"list_folder": {}}) is None


def test_slack_url_verification_returns_challenge() -> None:
    body = {"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification"}
    reply = answer("slack", method="POST", query={}, body=body)
    assert reply is not None
    assert reply.body == b"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    assert reply.content_type.startswith("text/plain")


def test_slack_event_callback_is_not_a_handshake() -> None:
    body = {"type": "event_callback", "event": {"type": "message"}, "challenge": "ignored"}
    assert answer("slack", method="POST", query={}, body=body) is None
    assert answer("slack", method="POST", query={}, body={"type": "url_verification"}) is None


def test_msgraph_echoes_url_decoded_validation_token() -> None:
    raw_query = (
        "validationToken=Validation%3A+Testing+client+application+reachability+for+subscription+Request-Id%3A+"
        "25b1ddc0-4b2e-4e5b-8f77-1c0f4a6a6d1e"
    )
    reply = answer("msgraph", method="POST", query=dict(parse_qsl(raw_query)), body=None)
    assert reply is not None
    assert reply.status == 200
    assert reply.body == (b"Validation: Testing client application reachability for subscription Request-Id: "
                          b"25b1ddc0-4b2e-4e5b-8f77-1c0f4a6a6d1e")
    assert reply.content_type.startswith("text/plain")


def test_msgraph_notification_is_not_a_handshake() -> None:
    body = {"value": [{"subscriptionId": "s", "clientState": "x", "changeType": "created"}]}
    assert answer("msgraph", method="POST", query={}, body=body) is None


def test_zoom_url_validation_returns_hmac_of_plain_token() -> None:
    body = {"payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}, "event_ts": 1654503849680,
            "event": "endpoint.url_validation"}
    reply = answer("zoom", method="POST", query={}, body=body, secret=SecretStr("zoom-secret-token"))
    assert reply is not None
    assert reply.content_type == "application/json"
    expected = hmac.new(b"zoom-secret-token", b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest()
    assert orjson.loads(reply.body) == {"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected}


def test_zoom_without_secret_fails_closed() -> None:
    body = {"payload": {"plainToken": "abc"}, "event": "endpoint.url_validation"}
    with pytest.raises(SignatureError) as caught:
        answer("zoom", method="POST", query={}, body=body)
    assert caught.value.reason == "no_secret"


def test_zoom_event_is_not_a_handshake() -> None:
    body = {"event": "meeting.started", "payload": {"object": {"id": "1"}}}
    assert answer("zoom", method="POST", query={}, body=body, secret=SecretStr("s")) is None


def test_signed_handshakes_are_answered_after_verification() -> None:
    assert is_signed("slack")
    assert is_signed("zoom")
    assert not is_signed("dropbox")
    assert not is_signed("msgraph")
