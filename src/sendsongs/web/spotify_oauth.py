"""`/spotify/login` and `/spotify/callback`: linking a Spotify account."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sendsongs.service.registration import Connected, LoginFailed, SignupCode
from sendsongs.signing import InvalidLink
from sendsongs.web.context import BotContext, bot
from sendsongs.web.pages import page

# How the pages name each channel a person may go back to.
CHAT_APPS = {"messenger": "Messenger", "telegram": "Telegram"}


async def login(request: Request) -> Response:
    try:
        url = await bot(request).service.registration.start(request.query_params.get("t"))
    except InvalidLink:
        reason = "This link is invalid or has expired. Send register in the chat to get a new one."
        return page(request, "problem.html", 400, reason=reason)
    return RedirectResponse(url, status_code=302)


async def callback(request: Request) -> Response:
    params = request.query_params
    state = params.get("state")
    if not state:
        return page(request, "problem.html", 400, reason="This page needs a sign-in to finish.")
    result = await bot(request).service.registration.finish(
        state, params.get("code"), params.get("error")
    )
    match result:
        case Connected():
            chat = CHAT_APPS.get(result.channel, "the chat")
            return page(request, "connected.html", name=result.name, chat=chat)
        case SignupCode():
            return page(request, "code.html", command=result.command, chats=_chats(bot(request)))
        case LoginFailed():
            return page(request, "problem.html", 400, reason=result.reason)


def _chats(context: BotContext) -> str:
    """Where the bot can be written to: "Messenger", "Telegram" or both."""
    configured = (("Messenger", context.messenger), ("Telegram", context.telegram))
    apps = [name for name, on in configured if on]
    return " or ".join(apps) or "the chat"
