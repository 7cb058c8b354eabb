"""Reading the Telegram updates the webhook stored unread, in the worker.

The webhook stores each update as Telegram sent it and answers 200 at once;
python-telegram-bot's `Update.de_json` (parse_update) runs here instead, just before
the update is handled, with the same rules as ever.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog

from sendsongs.channels.telegram.updates import (
    CHANNEL,
    Incoming,
    MalformedUpdate,
    MemberChange,
    parse_update,
)
from sendsongs.domain.models import IncomingMessage, Reachability, ReadUpdate
from sendsongs.errors import UnreadableUpdate

log = structlog.get_logger(__name__)

AnswerPress = Callable[[str], Awaitable[None]]  # answerCallbackQuery for a query id


class TelegramReader:
    """The UpdateReader of the Telegram channel."""

    name = CHANNEL

    def __init__(self, answer_press: AnswerPress) -> None:
        self._answer_press = answer_press

    async def read(self, stored: IncomingMessage) -> ReadUpdate:
        if stored.unread is None:
            return stored  # read already
        try:
            parsed = parse_update(stored.unread.encode(), stored.received_at)
        except MalformedUpdate as error:
            raise UnreadableUpdate(str(error)) from error
        match parsed:
            case Incoming(message=message, callback_query_id=query_id):
                if query_id is not None:
                    await self._answer(query_id)
                return message
            case MemberChange(address=address, blocked=blocked):
                return Reachability(address, reachable=not blocked)
        return None

    async def _answer(self, query_id: str) -> None:
        """Stop the pressed button's spinner: the press is in hand. Telegram's
        clients show a progress bar until the bot calls answerCallbackQuery
        (https://core.telegram.org/bots/api#answercallbackquery)."""
        try:
            await self._answer_press(query_id)
        except Exception:  # only the spinner is at stake, never the press itself
            log.exception("telegram_callback_answer_failed")


async def no_answer(query_id: str) -> None:
    """A channel stand-in (tests, the demo) has no button spinner to stop."""
