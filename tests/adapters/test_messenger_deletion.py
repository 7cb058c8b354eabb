"""Reading Facebook's data deletion `signed_request`: only a genuine, current one passes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sendsongs.channels.messenger.deletion import BadSignedRequest, read_signed_request

SECRET = "the-app-secret"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(payload: Any, secret: str = SECRET) -> str:
    """As Meta builds it: base64url payload, HMAC-SHA256 of that text, both unpadded."""
    body = b64(json.dumps(payload).encode())
    return b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()) + "." + body


def payload(**changes: Any) -> dict[str, Any]:
    issued = int(NOW.timestamp()) - 60
    return {
        "algorithm": "HMAC-SHA256",
        "issued_at": issued,
        "expires": issued + 3600,
        "user_id": "218471",
        **changes,
    }


def test_a_genuine_request_names_the_person() -> None:
    request = read_signed_request(signed(payload()), SECRET, NOW)
    assert request.user_id == "218471"
    assert request.issued_at == NOW - timedelta(seconds=60)


def test_a_numeric_user_id_and_no_expires_are_accepted() -> None:
    body = payload(user_id=218471)
    del body["expires"]
    assert read_signed_request(signed(body), SECRET, NOW).user_id == "218471"


@pytest.mark.parametrize(
    ("request_text", "why"),
    [
        (signed(payload(), secret="another-secret"), "signature does not match"),
        (signed(payload())[:-4] + "AAAA", "signature does not match"),
        (signed(payload(algorithm="HMAC-SHA1")), "algorithm must be HMAC-SHA256"),
        (signed(payload(user_id="")), "names no user_id"),
        (signed(payload(user_id=None)), "names no user_id"),
        (signed(payload(issued_at="yesterday")), "issued_at must be a Unix time"),
        (signed(payload(expires=int(NOW.timestamp()))), "has expired"),
        (signed(["not", "an", "object"]), "algorithm must be"),
        ("no-dot-here", "<signature>.<payload>"),
        (".only-payload", "<signature>.<payload>"),
        ("!!!.???", "not base64url"),
    ],
)
def test_forged_malformed_or_expired_requests_are_refused(request_text: str, why: str) -> None:
    with pytest.raises(BadSignedRequest, match=why):
        read_signed_request(request_text, SECRET, NOW)


def test_a_request_without_expires_lapses_a_day_after_issue() -> None:
    body = payload()
    del body["expires"]
    with pytest.raises(BadSignedRequest, match="expired"):
        read_signed_request(signed(body), SECRET, NOW + timedelta(days=1))
