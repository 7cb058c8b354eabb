"""Telegram Bot API client: sendMessage, answerCallbackQuery, getChat, setWebhook.

Every call is `POST {api_url}/bot{token}/METHOD` with a JSON body, answered with
`{"ok": true, "result": …}` or `{"ok": false, "error_code": N, "description": "…",
"parameters": {"retry_after": S}}` (https://core.telegram.org/bots/api#making-requests).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from sendsongs.domain.models import MessageKind, QuickReply, Reply
from sendsongs.domain.text import split_text
from sendsongs.errors import (
    ChannelUnavailable,
    RateLimited,
    RecipientUnreachable,
    ServiceError,
    TransientError,
)

log = structlog.get_logger(__name__)

MAX_TEXT = 4096  # sendMessage `text`: 1-4096 characters after entity parsing
MAX_CALLBACK_DATA = 64  # InlineKeyboardButton `callback_data`: 1-64 bytes
# When a 429 does not say how long to wait (`parameters.retry_after`), wait this long.
_THROTTLE_PAUSE = 30.0
# Descriptions of a 403/400 that mean "not this person, not now", with the reason in
# words a sender can read. Telegram words them as in the Bot API FAQ and its answers.
_BLOCKED = (
    "they have blocked Send Songs on Telegram, so Telegram won't let me write to them; "
    "they get it if they unblock me"
)
_NOT_STARTED = (
    "Telegram lets me write only to people who have started a chat with me, and they "
    "haven't yet; they get it once they do"
)
_GONE = "Telegram says their account can't get messages (it may be deleted or deactivated)"
_NO_CHAT = "Telegram doesn't know their chat with me any more (the account may be gone)"
_UNREACHABLE = (
    ("bot was blocked by the user", _BLOCKED),
    ("bot can't initiate conversation", _NOT_STARTED),
    ("user is deactivated", _GONE),
    ("chat not found", _NO_CHAT),
)


@dataclass(frozen=True)
class _ApiError:
    status: int
    code: int | None
    description: str
    retry_after: float | None


class TelegramClient:
    """The ChatChannel port over the Telegram Bot API."""

    name = "telegram"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_url: str,
        bot_token: str,
        attempts: int = 3,
        backoff: float = 0.5,
        max_wait: float = 4.0,
    ) -> None:
        self._http = http
        self._base = f"{api_url.rstrip('/')}/bot{bot_token}"
        self._attempts, self._backoff = attempts, backoff
        # Waits beyond this are left to the caller's outbox instead of this request.
        self._max_wait = max_wait

    async def send(self, to: str, reply: Reply, kind: MessageKind) -> None:
        """Send `reply` to chat `to`, cut at 4,096 characters; buttons go with the
        last piece. Telegram has no messaging window, so `kind` changes nothing."""
        chunks = split_text(reply.text, MAX_TEXT)
        if not chunks:
            raise ValueError("a reply needs text")
        for index, chunk in enumerate(chunks):
            body: dict[str, Any] = {"chat_id": to, "text": chunk}
            if index == len(chunks) - 1 and reply.quick_replies:
                body["reply_markup"] = {"inline_keyboard": keyboard(reply.quick_replies)}
            await self._send_with_retry(body)

    async def profile_name(self, to: str) -> str | None:
        """first_name + last_name of a private chat (getChat); None if it won't say."""
        try:
            chat = await self._call("getChat", {"chat_id": to})
        except ServiceError as error:
            log.info("telegram_profile_failed", error=str(error))
            return None
        if not isinstance(chat, dict):
            return None
        parts = [chat.get("first_name"), chat.get("last_name")]
        name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
        return name or None

    async def answer_callback_query(self, query_id: str) -> None:
        """Stop the pressed button's spinner; a failure only costs the spinner."""
        try:
            await self._call("answerCallbackQuery", {"callback_query_id": query_id})
        except ServiceError as error:
            log.info("telegram_callback_answer_failed", error=str(error))

    async def set_webhook(self, url: str, secret: str, updates: Sequence[str]) -> None:
        """Have Telegram post `updates` to `url` with the secret header.
        Raises ServiceError (ChannelUnavailable for a refused bot token)."""
        await self._call(
            "setWebhook",
            {"url": url, "secret_token": secret, "allowed_updates": list(updates)},
        )

    async def _send_with_retry(self, body: dict[str, Any]) -> None:
        """A short wait here keeps "Sent" true in the common case; longer ones (and
        repeated failures) are raised for the outbox to honour."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=self._wait,
            retry=retry_if_exception(self._worth_retrying),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                await self._call("sendMessage", body)

    def _worth_retrying(self, exc: BaseException) -> bool:
        if isinstance(exc, RateLimited):
            return exc.retry_after <= self._max_wait
        return isinstance(exc, TransientError)

    def _wait(self, state: RetryCallState) -> float:
        delay = self._backoff * 2.0 ** (state.attempt_number - 1)
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, RateLimited):
            delay = max(delay, exc.retry_after)
        return min(delay, self._max_wait)

    async def _call(self, method: str, body: dict[str, Any]) -> Any:
        try:
            response = await self._http.post(f"{self._base}/{method}", json=body)
        # `from None`: the request URL carries the bot token; keep it out of tracebacks.
        except httpx.TimeoutException as exc:
            raise TransientError(f"telegram {method} timed out ({type(exc).__name__})") from None
        except httpx.RequestError as exc:
            raise TransientError(f"telegram {method} unreachable ({type(exc).__name__})") from None
        answer = _json(response)
        if response.is_success and answer.get("ok") is True:
            return answer.get("result")
        _raise_for(method, _api_error(response.status_code, answer))


def keyboard(buttons: tuple[QuickReply, ...]) -> list[list[dict[str, str]]]:
    """One inline button per row. A payload over 64 bytes cannot travel as
    callback_data (Telegram refuses the whole message), so its button is left out."""
    rows = []
    for button in buttons:
        if not 0 < len(button.payload.encode()) <= MAX_CALLBACK_DATA:
            log.error("telegram_button_dropped", reason="callback_data must be 1-64 bytes")
            continue
        rows.append([{"text": button.title.strip() or "…", "callback_data": button.payload}])
    return rows


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _api_error(status: int, answer: dict[str, Any]) -> _ApiError:
    code = answer.get("error_code")
    parameters = answer.get("parameters")
    retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
    return _ApiError(
        status=status,
        code=code if isinstance(code, int) and not isinstance(code, bool) else None,
        description=str(answer.get("description") or "no Bot API error body")[:200],
        retry_after=float(retry_after)
        if isinstance(retry_after, int | float) and not isinstance(retry_after, bool)
        else None,
    )


def _raise_for(method: str, error: _ApiError) -> None:
    code = error.code or error.status
    text = f"telegram {method} HTTP {error.status}: {error.description}"
    if code == 429:
        wait = _THROTTLE_PAUSE if error.retry_after is None else error.retry_after
        raise RateLimited(wait, text)
    if code in (403, 400):
        lowered = error.description.lower()
        why = next((why for needle, why in _UNREACHABLE if needle in lowered), None)
        if why is not None:
            raise RecipientUnreachable(text, why)
    if code in (401, 404):
        # 401: the token is wrong or revoked; 404: it is not shaped like a token
        # (Telegram answers "Not Found"). No message gets through until it is fixed.
        log.error("telegram_bot_token_refused", detail=text)
        raise ChannelUnavailable(text)
    if code == 403:  # kicked from a chat, can't write to bots …: this person, for good
        raise RecipientUnreachable(text, "Telegram won't let me write to them")
    if error.status >= 500 or code >= 500 or error.status == 200:
        raise TransientError(text)  # a 200 without "ok": a proxy's page, say
    raise ServiceError(text)
