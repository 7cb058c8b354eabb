"""Messenger Graph API client: the Send API and the User Profile API."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
)

from sendsongs.domain.models import MessageKind, QuickReply, Reply
from sendsongs.domain.text import split_text
from sendsongs.errors import (
    ChannelUnavailable,
    PartlyDelivered,
    RateLimited,
    RecipientUnreachable,
    ServiceError,
    TransientError,
)

log = structlog.get_logger(__name__)

MAX_TEXT = 2000  # Send API limit on message.text
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20

_MESSAGING_TYPE = {MessageKind.RESPONSE: "RESPONSE", MessageKind.UPDATE: "UPDATE"}
# Graph's throttling codes (Graph API "Rate Limiting", Messenger Platform "Rate
# Limiting"): app (4), user (17), page (32), custom (613) limits and the business
# use case limits 80000-80099 (80006: Messenger). They ask to slow down, never to drop.
_THROTTLE_CODES = frozenset({4, 17, 32, 613})
_BUSINESS_THROTTLE = range(80000, 80100)
# Passing trouble: unknown (1) and service (2) errors; an unexpected internal error
# (-1/2018012); a Page temporarily restricted (10/1893063).
_TRANSIENT_CODES = frozenset({1, 2})
_TRANSIENT_PAIRS = frozenset({(-1, 2018012), (10, 1893063)})
# The Page token itself is refused (190: invalidated by a password change, expired,
# revoked): the operator must act; nothing is wrong with the message.
_TOKEN_INVALID = 190
# (code, subcode) pairs saying this person cannot be messaged now, with the reason
# in words a sender can read; subcode None = any subcode.
_WINDOW = (
    "Messenger lets me write to people only within 24 hours of their last message to "
    "me, so they get it as soon as they write to me again"
)
_UNAVAILABLE = (
    "Messenger says they can't get messages from me right now (they may have "
    "blocked or left the conversation); they get it if they write to me again"
)
_UNREACHABLE: dict[tuple[int, int | None], str] = {
    (10, 2018278): _WINDOW,  # outside the 24-hour messaging window
    (551, None): _UNAVAILABLE,  # this person isn't available right now
    (200, 1545041): _UNAVAILABLE,  # same, reported as a permission error
    (100, 2018001): _UNAVAILABLE,  # no matching user found
}
# When Graph throttles without saying for how long, ask the caller to wait this long.
_THROTTLE_PAUSE = 30.0
_PSID = re.compile(r"[0-9]+")


class _Throttled(RateLimited):
    """Throttled without a Retry-After header: worth a short backoff here first."""


@dataclass(frozen=True)
class _GraphError:
    code: int | None
    subcode: int | None
    transient: bool
    message: str


class MessengerClient:
    """The ChatChannel port over Messenger's Graph API."""

    name = "messenger"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        graph_url: str,
        page_access_token: str,
        app_secret: str | None = None,
        attempts: int = 3,
        backoff: float = 0.5,
        max_wait: float = 4.0,
    ) -> None:
        self._http = http
        self._graph_url = graph_url.rstrip("/")
        self._token = page_access_token
        self._auth = {"access_token": page_access_token}
        if app_secret:
            # With "Require App Secret" on, Graph refuses calls without this proof
            # (Graph API "Securing Requests": HMAC-SHA256 of the token, app secret key).
            proof = hmac.new(app_secret.encode(), page_access_token.encode(), hashlib.sha256)
            self._auth["appsecret_proof"] = proof.hexdigest()
        self._attempts = attempts
        self._backoff = backoff
        # Waits beyond this are left to the caller's outbox instead of this request.
        self._max_wait = max_wait

    async def send(self, to: str, reply: Reply, kind: MessageKind) -> None:
        chunks = split_text(reply.text, MAX_TEXT)
        if not chunks:
            raise ValueError("a reply needs text")
        for index, chunk in enumerate(chunks):
            message: dict[str, Any] = {"text": chunk}
            if index == len(chunks) - 1 and reply.quick_replies:
                message["quick_replies"] = _quick_replies(reply.quick_replies)
            payload = {"recipient": {"id": to}, "messaging_type": _MESSAGING_TYPE[kind]}
            try:
                await self._post_with_retry({**payload, "message": message})
            except ServiceError as error:
                if index == 0:
                    raise
                rest = Reply("\n\n".join(chunks[index:]), reply.quick_replies)
                raise PartlyDelivered(rest, error) from None

    async def profile_name(self, to: str) -> str | None:
        if not _PSID.fullmatch(to):
            return None
        try:
            response = await self._http.get(
                f"{self._graph_url}/{to}",
                params={"fields": "first_name,last_name", **self._auth},
            )
            if response.status_code != 200:
                log.info("messenger_profile_failed", status=response.status_code)
                return None
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.info("messenger_profile_failed", error=type(exc).__name__)
            return None
        if not isinstance(body, dict):
            return None
        parts = [body.get("first_name"), body.get("last_name")]
        name = " ".join(part.strip() for part in parts if isinstance(part, str) and part.strip())
        return name or None

    async def _post_with_retry(self, payload: dict[str, Any]) -> None:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=self._wait,
            retry=retry_if_exception(self._worth_retrying),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await self._post(payload)
        except _Throttled as exc:
            raise RateLimited(exc.retry_after, "messenger throttled") from None

    def _worth_retrying(self, exc: BaseException) -> bool:
        if isinstance(exc, RateLimited) and not isinstance(exc, _Throttled):
            # A stated wait longer than we hold a request open is the caller's to honour.
            return exc.retry_after <= self._max_wait
        return isinstance(exc, TransientError)

    def _wait(self, state: RetryCallState) -> float:
        delay = self._backoff * 2.0 ** (state.attempt_number - 1)
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, RateLimited) and not isinstance(exc, _Throttled):
            delay = max(delay, exc.retry_after)
        return min(delay, self._max_wait)

    async def _post(self, payload: dict[str, Any]) -> None:
        try:
            response = await self._http.post(
                f"{self._graph_url}/me/messages",
                params=self._auth,
                json=payload,
            )
        # `from None`: the request URL carries the page token; keep it out of tracebacks.
        except httpx.TimeoutException as exc:
            raise TransientError(f"messenger timed out ({type(exc).__name__})") from None
        except httpx.RequestError as exc:
            raise TransientError(f"messenger unreachable ({type(exc).__name__})") from None
        if response.is_success:
            return
        _raise_for_graph_error(response)


def _raise_for_graph_error(response: httpx.Response) -> None:
    status = response.status_code
    error = _graph_error(response)
    text = f"messenger HTTP {status}: {error.message}"
    why = _UNREACHABLE.get((error.code or 0, error.subcode)) or _UNREACHABLE.get(
        (error.code or 0, None)
    )
    if why is not None:
        raise RecipientUnreachable(text, why)
    if error.code == _TOKEN_INVALID:
        raise ChannelUnavailable(text)
    if status == 429 or error.code in _THROTTLE_CODES or error.code in _BUSINESS_THROTTLE:
        retry_after = _retry_after(response)
        if retry_after is None:
            raise _Throttled(_THROTTLE_PAUSE, text)
        raise RateLimited(retry_after, text)
    if (
        status >= 500
        or error.transient
        or error.code in _TRANSIENT_CODES
        or (error.code, error.subcode) in _TRANSIENT_PAIRS
    ):
        raise TransientError(text)
    raise ServiceError(text)


def _graph_error(response: httpx.Response) -> _GraphError:
    """Graph's `{"error": {...}}` body, as far as it can be read."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return _GraphError(None, None, False, "no Graph error body")
    code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
    message = str(error.get("message", ""))[:200]
    trace = error.get("fbtrace_id")
    label = f"(code {code}, subcode {subcode}, fbtrace {trace}) {message}"
    return _GraphError(code, subcode, error.get("is_transient") is True, label)


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait, from `Retry-After` or from the business use case header's
    `estimated_time_to_regain_access` (minutes; Graph API "Rate Limiting")."""
    try:
        seconds = float(response.headers.get("retry-after", ""))
        if seconds >= 0:
            return seconds
    except ValueError:
        pass
    return _regain_access(response.headers.get("x-business-use-case-usage"))


def _regain_access(header: str | None) -> float | None:
    """The longest `estimated_time_to_regain_access` in the header, in seconds."""
    if not header:
        return None
    try:
        usage = json.loads(header)
    except ValueError:
        return None
    minutes = [
        entry.get("estimated_time_to_regain_access")
        for entries in (usage.values() if isinstance(usage, dict) else [])
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
    ]
    found = [m for m in minutes if isinstance(m, int | float) and not isinstance(m, bool)]
    return max(found) * 60.0 if found and max(found) > 0 else None


def _quick_replies(replies: tuple[QuickReply, ...]) -> list[dict[str, str]]:
    return [
        {
            "content_type": "text",
            "title": reply.title.strip()[:MAX_QUICK_REPLY_TITLE],
            "payload": reply.payload,
        }
        for reply in replies[:MAX_QUICK_REPLIES]
    ]
