"""Signature verification: providers' published vectors, and good/tampered/wrong-secret/expired/unsigned cases."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy
from pydantic import SecretStr, TypeAdapter

from service.errors import SignatureError
from service.webhooks.spec import Verification
from service.webhooks.verify import REASONS, verify

VERIFICATION: TypeAdapter[Verification] = TypeAdapter(Verification)
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
TS = int(NOW.timestamp())


def settings_of(scheme: str, **extra: object) -> Verification:
    return VERIFICATION.validate_python({"scheme": scheme, "secret": "unused-reference", **extra})


def reason_of(
    verification: Verification, secret: str, headers: dict[str, str], body: bytes, now: datetime = NOW
) -> str:
    with pytest.raises(SignatureError) as caught:
        verify(verification, SecretStr(secret), headers, body, now)
    assert caught.value.reason in REASONS
    if secret:
        assert secret not in str(caught.value)
    return caught.value.reason


def hex_mac(key: bytes, payload: bytes, digest: str = "sha256") -> str:
    return hmac.new(key, payload, digest).hexdigest()


def b64_mac(key: bytes, payload: bytes) -> str:
    return base64.b64encode(hmac.new(key, payload, hashlib.sha256).digest()).decode()


# --- Standard Webhooks -------------------------------------------------------------------------------------

SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_BODY = b'{"test": 2432232314}'
SW_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SW_TS = 1614265330
SW_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="  # the specification's test vector
SW_NOW = datetime.fromtimestamp(SW_TS + 10, tz=UTC)


def sw_headers(signature: str = SW_SIGNATURE, ts: int = SW_TS) -> dict[str, str]:
    return {"webhook-id": SW_ID, "webhook-timestamp": str(ts), "webhook-signature": signature}


def test_standard_webhooks_spec_vector_verifies() -> None:
    verify(settings_of("standard-webhooks"), SecretStr(SW_SECRET), sw_headers(), SW_BODY, SW_NOW)


def test_standard_webhooks_accepts_secret_without_prefix_and_rotated_signatures() -> None:
    old = "v1," + base64.b64encode(b"\x00" * 32).decode()
    rotated = f"v1a,ignoredAsymmetric {old} {SW_SIGNATURE}"
    verify(settings_of("standard-webhooks"), SecretStr(SW_SECRET.removeprefix("whsec_")),
           sw_headers(rotated), SW_BODY, SW_NOW)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("tampered", "mismatch"),
        ("wrong_secret", "mismatch"),
        ("expired", "expired"),
        ("future", "expired"),
        ("unsigned", "missing_header"),
        ("no_v1", "malformed"),
        ("bad_base64", "malformed"),
        ("bad_secret", "no_secret"),
        ("timestamp_not_number", "malformed"),
    ],
)
def test_standard_webhooks_rejects(case: str, expected: str) -> None:
    secret, headers, body, now = SW_SECRET, sw_headers(), SW_BODY, SW_NOW
    if case == "tampered":
        body = b'{"test": 2432232315}'
    elif case == "wrong_secret":
        secret = "whsec_" + base64.b64encode(b"another secret").decode()
    elif case == "expired":
        now = datetime.fromtimestamp(SW_TS + 301, tz=UTC)
    elif case == "future":
        now = datetime.fromtimestamp(SW_TS - 301, tz=UTC)
    elif case == "unsigned":
        del headers["webhook-signature"]
    elif case == "no_v1":
        headers["webhook-signature"] = "v2,abc"
    elif case == "bad_base64":
        headers["webhook-signature"] = "v1,!!!notbase64"
    elif case == "bad_secret":
        secret = "whsec_$$$"
    elif case == "timestamp_not_number":
        headers["webhook-timestamp"] = "yesterday"
    assert reason_of(settings_of("standard-webhooks"), secret, headers, body, now) == expected


def test_standard_webhooks_signs_the_id_so_it_cannot_be_swapped() -> None:
    headers = sw_headers() | {"webhook-id": "msg_other"}
    assert reason_of(settings_of("standard-webhooks"), SW_SECRET, headers, SW_BODY, SW_NOW) == "mismatch"


def test_tolerance_is_configurable() -> None:
    narrow = settings_of("standard-webhooks", tolerance=5)
    assert reason_of(narrow, SW_SECRET, sw_headers(), SW_BODY, SW_NOW) == "expired"  # 10 s late
    wide = settings_of("standard-webhooks", tolerance="PT1H")
    verify(wide, SecretStr(SW_SECRET), sw_headers(), SW_BODY, SW_NOW + timedelta(minutes=30))


# --- GitHub --------------------------------------------------------------------------------------------------

GH_SECRET = "It's a Secret to Everybody"
GH_BODY = b"Hello, World!"
GH_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"  # GitHub's docs


def test_github_docs_vector_verifies_with_any_header_case() -> None:
    verify(settings_of("github"), SecretStr(GH_SECRET), {"X-Hub-Signature-256": GH_SIGNATURE}, GH_BODY, NOW)
    upper = {"X-HUB-SIGNATURE-256": GH_SIGNATURE.upper().replace("SHA256=", "sha256=")}
    verify(settings_of("github"), SecretStr(GH_SECRET), upper, GH_BODY, NOW)


def test_github_accepts_multidict_headers() -> None:
    headers = CIMultiDictProxy(CIMultiDict({"x-hub-signature-256": GH_SIGNATURE}))
    verify(settings_of("github"), SecretStr(GH_SECRET), headers, GH_BODY, NOW)


def test_github_sha1_header() -> None:
    signature = "sha1=" + hex_mac(GH_SECRET.encode(), GH_BODY, "sha1")
    verify(settings_of("github", algorithm="sha1"), SecretStr(GH_SECRET), {"X-Hub-Signature": signature}, GH_BODY, NOW)


@pytest.mark.parametrize(
    ("headers", "body", "secret", "expected"),
    [
        ({"X-Hub-Signature-256": GH_SIGNATURE}, b"Hello, World?", GH_SECRET, "mismatch"),
        ({"X-Hub-Signature-256": GH_SIGNATURE}, GH_BODY, "It's a secret to everybody", "mismatch"),
        ({}, GH_BODY, GH_SECRET, "missing_header"),
        ({"X-Hub-Signature-256": GH_SIGNATURE.removeprefix("sha256=")}, GH_BODY, GH_SECRET, "malformed"),
        ({"X-Hub-Signature-256": "sha256=zz"}, GH_BODY, GH_SECRET, "malformed"),
        ({"X-Hub-Signature-256": GH_SIGNATURE[:-2]}, GH_BODY, GH_SECRET, "mismatch"),
        ({"X-Hub-Signature-256": GH_SIGNATURE}, GH_BODY, "", "no_secret"),
    ],
    ids=["tampered", "wrong-secret", "unsigned", "no-prefix", "not-hex", "truncated", "empty-secret"],
)
def test_github_rejects(headers: dict[str, str], body: bytes, secret: str, expected: str) -> None:
    assert reason_of(settings_of("github"), secret, headers, body) == expected


# --- Stripe ----------------------------------------------------------------------------------------------------

STRIPE_SECRET = "whsec_test_secret"
STRIPE_BODY = b'{"id": "evt_1", "object": "event", "type": "customer.created"}'


def stripe_header(ts: int = TS, secret: str = STRIPE_SECRET, extra: str = "") -> str:
    signature = hex_mac(secret.encode(), f"{ts}.".encode() + STRIPE_BODY)
    return f"t={ts},v1={signature}{extra},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"


def test_stripe_verifies_and_accepts_several_v1() -> None:
    verify(settings_of("stripe"), SecretStr(STRIPE_SECRET), {"Stripe-Signature": stripe_header()}, STRIPE_BODY, NOW)
    rolled = f"t={TS},v1={'0' * 64}," + stripe_header().split(",", 1)[1]
    verify(settings_of("stripe"), SecretStr(STRIPE_SECRET), {"Stripe-Signature": rolled}, STRIPE_BODY, NOW)


@pytest.mark.parametrize(
    ("header", "body", "now", "expected"),
    [
        (stripe_header(), STRIPE_BODY + b" ", NOW, "mismatch"),
        (stripe_header(secret="whsec_other"), STRIPE_BODY, NOW, "mismatch"),
        (stripe_header(ts=TS - 301), STRIPE_BODY, NOW, "expired"),
        (stripe_header(ts=TS + 301), STRIPE_BODY, NOW, "expired"),
        (f"v1={'a' * 64}", STRIPE_BODY, NOW, "malformed"),
        (f"t={TS}", STRIPE_BODY, NOW, "malformed"),
        (stripe_header().replace(f"t={TS}", f"t={TS + 1}"), STRIPE_BODY, NOW, "mismatch"),
    ],
    ids=["tampered", "wrong-secret", "expired", "future", "no-t", "no-v1", "timestamp-swapped"],
)
def test_stripe_rejects(header: str, body: bytes, now: datetime, expected: str) -> None:
    assert reason_of(settings_of("stripe"), STRIPE_SECRET, {"Stripe-Signature": header}, body, now) == expected


def test_stripe_unsigned() -> None:
    assert reason_of(settings_of("stripe"), STRIPE_SECRET, {}, STRIPE_BODY) == "missing_header"


# --- Slack -----------------------------------------------------------------------------------------------------

# Slack's "Verifying requests from Slack" walk-through.
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_TS = 1531420618
SLACK_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
SLACK_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
SLACK_NOW = datetime.fromtimestamp(SLACK_TS + 60, tz=UTC)


def slack_headers(signature: str = SLACK_SIGNATURE, ts: int = SLACK_TS) -> dict[str, str]:
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": signature}


def test_slack_docs_vector_verifies() -> None:
    verify(settings_of("slack"), SecretStr(SLACK_SECRET), slack_headers(), SLACK_BODY, SLACK_NOW)


@pytest.mark.parametrize(
    ("headers", "body", "now", "expected"),
    [
        (slack_headers(), SLACK_BODY.replace(b"foobar", b"foobaz"), SLACK_NOW, "mismatch"),
        (slack_headers(ts=SLACK_TS + 1), SLACK_BODY, SLACK_NOW, "mismatch"),
        (slack_headers(), SLACK_BODY, SLACK_NOW + timedelta(minutes=5), "expired"),
        (slack_headers(), SLACK_BODY, SLACK_NOW - timedelta(minutes=7), "expired"),
        ({"X-Slack-Signature": SLACK_SIGNATURE}, SLACK_BODY, SLACK_NOW, "missing_header"),
        (slack_headers(SLACK_SIGNATURE.replace("v0=", "v1=")), SLACK_BODY, SLACK_NOW, "malformed"),
    ],
    ids=["tampered", "timestamp-changed", "expired", "future", "no-timestamp", "wrong-version"],
)
def test_slack_rejects(headers: dict[str, str], body: bytes, now: datetime, expected: str) -> None:
    assert reason_of(settings_of("slack"), SLACK_SECRET, headers, body, now) == expected


def test_slack_wrong_secret() -> None:
    assert reason_of(settings_of("slack"), SLACK_SECRET[::-1], slack_headers(), SLACK_BODY, SLACK_NOW) == "mismatch"


# --- Shopify ---------------------------------------------------------------------------------------------------

SHOPIFY_SECRET = "shpss_0123456789abcdef"
SHOPIFY_BODY = b'{"id":820982911946154508,"email":"jon@example.com"}'


def test_shopify_verifies_base64() -> None:
    headers = {"X-Shopify-Hmac-Sha256": b64_mac(SHOPIFY_SECRET.encode(), SHOPIFY_BODY)}
    verify(settings_of("shopify"), SecretStr(SHOPIFY_SECRET), headers, SHOPIFY_BODY, NOW)


@pytest.mark.parametrize(
    ("header", "body", "secret", "expected"),
    [
        (b64_mac(SHOPIFY_SECRET.encode(), SHOPIFY_BODY), SHOPIFY_BODY[:-1], SHOPIFY_SECRET, "mismatch"),
        (b64_mac(SHOPIFY_SECRET.encode(), SHOPIFY_BODY), SHOPIFY_BODY, "shpss_other", "mismatch"),
        # 64 hex digits are valid base64 too: they decode to 48 bytes that cannot match.
        (hex_mac(SHOPIFY_SECRET.encode(), SHOPIFY_BODY), SHOPIFY_BODY, SHOPIFY_SECRET, "mismatch"),
        ("not base64!", SHOPIFY_BODY, SHOPIFY_SECRET, "malformed"),
        (None, SHOPIFY_BODY, SHOPIFY_SECRET, "missing_header"),
    ],
    ids=["tampered", "wrong-secret", "hex-instead-of-base64", "not-base64", "unsigned"],
)
def test_shopify_rejects(header: str | None, body: bytes, secret: str, expected: str) -> None:
    headers = {} if header is None else {"X-Shopify-Hmac-Sha256": header}
    assert reason_of(settings_of("shopify"), secret, headers, body) == expected


# --- Generic HMAC ----------------------------------------------------------------------------------------------


def test_generic_hex_with_prefix() -> None:
    spec = settings_of("hmac", header="X-Signature", algorithm="sha512", prefix="sha512=")
    headers = {"x-signature": "sha512=" + hex_mac(b"k3y", b"payload", "sha512")}
    verify(spec, SecretStr("k3y"), headers, b"payload", NOW)
    assert reason_of(spec, "k3y", headers, b"payload!") == "mismatch"
    assert reason_of(spec, "k3y", {"x-signature": hex_mac(b"k3y", b"payload", "sha512")}, b"payload") == "malformed"


def test_generic_base64_sha1_dropbox_style() -> None:
    spec = settings_of("hmac", header="X-Dropbox-Signature", algorithm="sha1", encoding="base64")
    signature = base64.b64encode(hmac.new(b"app-secret", b"{}", "sha1").digest()).decode()
    verify(spec, SecretStr("app-secret"), {"X-Dropbox-Signature": signature}, b"{}", NOW)
    assert reason_of(spec, "other", {"X-Dropbox-Signature": signature}, b"{}") == "mismatch"


def test_generic_timestamped_template_zoom_style() -> None:
    spec = settings_of(
        "hmac", header="x-zm-signature", prefix="v0=", timestampHeader="x-zm-request-timestamp",
        signedPayload="v0:{timestamp}:{body}",
    )
    body = b'{"event":"meeting.started"}'
    signature = "v0=" + hex_mac(b"zoom", f"v0:{TS}:".encode() + body)
    headers = {"x-zm-request-timestamp": str(TS), "x-zm-signature": signature}
    verify(spec, SecretStr("zoom"), headers, body, NOW)
    assert reason_of(spec, "zoom", headers, body, NOW + timedelta(minutes=6)) == "expired"
    assert reason_of(spec, "zoom", headers | {"x-zm-request-timestamp": str(TS + 1)}, body) == "mismatch"
    assert reason_of(spec, "zoom", {"x-zm-signature": headers["x-zm-signature"]}, body) == "missing_header"


def test_absurd_timestamps_are_expired_not_crashes() -> None:
    headers = sw_headers(ts=10**14)
    assert reason_of(settings_of("standard-webhooks"), SW_SECRET, headers, SW_BODY, SW_NOW) == "expired"


# --- Property: nothing but SignatureError ----------------------------------------------------------------------

SCHEMES = [
    settings_of("standard-webhooks"),
    settings_of("github"),
    settings_of("stripe"),
    settings_of("slack"),
    settings_of("shopify"),
    settings_of("hmac", header="X-Sig", encoding="base64", timestampHeader="X-Ts", signedPayload="{timestamp}.{body}"),
]
HEADER_NAMES = st.sampled_from([
    "webhook-id", "webhook-timestamp", "webhook-signature", "X-Hub-Signature-256", "Stripe-Signature",
    "X-Slack-Signature", "X-Slack-Request-Timestamp", "X-Shopify-Hmac-Sha256", "X-Sig", "X-Ts", "Other",
])
HEADER_VALUES = st.one_of(
    st.text(max_size=80),
    st.from_regex(r"(v1,|sha256=|v0=|t=\d{1,12},v1=)[A-Za-z0-9+/=]{0,90}", fullmatch=True),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
)


@settings(max_examples=400, deadline=None)
@given(
    scheme=st.sampled_from(SCHEMES),
    headers=st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=6),
    body=st.binary(max_size=200),
    secret=st.sampled_from([SW_SECRET, "plain", "whsec_###", ""]),
)
def test_verification_raises_only_signature_errors(
    scheme: Verification, headers: dict[str, str], body: bytes, secret: str
) -> None:
    # Anything else escaping (KeyError, ValueError, OverflowError ...) fails the test; so does acceptance.
    with pytest.raises(SignatureError) as caught:
        verify(scheme, SecretStr(secret), headers, body, NOW)
    assert caught.value.reason in REASONS
