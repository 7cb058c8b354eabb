"""What the routes need at request time, kept on `app.state.bot`."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from sendsongs.ports import InboxNotifier
from sendsongs.service import Service


@dataclass(frozen=True)
class MessengerWebhook:
    verify_token: str
    app_secret: str


@dataclass(frozen=True)
class TelegramWebhook:
    secret: str  # the secret_token given to setWebhook


@dataclass(frozen=True)
class BotContext:
    service: Service
    messenger: MessengerWebhook | None  # None: the Messenger channel is not configured
    notifier: InboxNotifier  # stored messages: wake the worker, or queue them
    telegram: TelegramWebhook | None = None  # None: the Telegram channel is not configured


def bot(request: Request) -> BotContext:
    context: BotContext = request.app.state.bot
    return context
