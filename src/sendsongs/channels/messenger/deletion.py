"""Facebook's Data Deletion Request Callback: reading its `signed_request`.

Meta POSTs a form field `signed_request` = `<signature>.<payload>`, both base64url
without padding; the signature is HMAC-SHA256 of the payload *as sent* (the
base64url text) keyed with the app secret, and the payload is JSON such as
`{"algorithm": "HMAC-SHA256", "issued_at": 1291836800, "expires": 1291840400,
"user_id": "218471"}` (developers.facebook.com, "Data Deletion Request Callback").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

ALGORITHM = "HMAC-SHA256"
# A request that names no `expires` is honoured this long after `issued_at`.
DEFAULT_LIFETIME = timedelta(days=1)
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


class BadSignedRequest(ValueError):
    """A signed_request that is malformed, forged or expired: erase nothing."""


@dataclass(frozen=True)
class DeletionRequest:
    user_id: str  # the app-scoped id of the person, read as their Messenger id
    issued_at: datetime


def read_signed_request(signed_request: str, app_secret: str, now: datetime) -> DeletionRequest:
    """The verified request; BadSignedRequest (saying why) otherwise."""
    signature_text, dot, payload_text = signed_request.strip().partition(".")
    if not dot or not signature_text or not payload_text:
        raise BadSignedRequest("signed_request must be <signature>.<payload>")
    signature = _b64decode(signature_text)
    expected = hmac.new(app_secret.encode(), payload_text.encode("ascii"), hashlib.sha256)
    if not hmac.compare_digest(signature, expected.digest()):
        raise BadSignedRequest("the signature does not match")
    try:
        payload = json.loads(_b64decode(payload_text))
    except ValueError:
        raise BadSignedRequest("the payload is not JSON") from None
    if not isinstance(payload, dict) or payload.get("algorithm") != ALGORITHM:
        raise BadSignedRequest(f"the algorithm must be {ALGORITHM}")
    user_id = payload.get("user_id")
    if not isinstance(user_id, str | int) or isinstance(user_id, bool) or not str(user_id):
        raise BadSignedRequest("the payload names no user_id")
    issued_at = _time(payload.get("issued_at"), "issued_at")
    expires = payload.get("expires")
    ends = issued_at + DEFAULT_LIFETIME if expires is None else _time(expires, "expires")
    if now >= ends:
        raise BadSignedRequest("the request has expired")
    return DeletionRequest(str(user_id), issued_at)


def _b64decode(text: str) -> bytes:
    if not _BASE64URL.fullmatch(text):  # the decoder would skip stray characters
        raise BadSignedRequest("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise BadSignedRequest("not base64url") from None


def _time(value: object, name: str) -> datetime:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadSignedRequest(f"{name} must be a Unix time")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadSignedRequest(f"{name} is out of range") from None
