"""Buttons that finish a command: the command is kept server-side as a Choice and
the button carries only its short token (Telegram allows 64 bytes of callback data,
Messenger 1,000 characters of quick-reply payload)."""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sendsongs.domain import replies
from sendsongs.domain.commands import AddToGroup, Cancel, ForgetMe, SendSong
from sendsongs.domain.models import Address, Choice, IncomingMessage, Reply
from sendsongs.ports import Ports

CHOICE_PREFIX = "c:"  # a button payload: the token of a Choice kept server-side
CHOICE_VALID = timedelta(hours=1)

Choosable = SendSong | AddToGroup | Cancel | ForgetMe
_KINDS: dict[str, type[Choosable]] = {
    "send_song": SendSong,
    "add_to_group": AddToGroup,
    "cancel": Cancel,
    "forget_me": ForgetMe,
}
_KIND_OF = {cls: kind for kind, cls in _KINDS.items()}
# The button names its kind in clear ("c:s.<token>"), so a spent one still gets
# advice that fits its command; tokens (base64url) never hold a dot.
_MARK = {"send_song": "s", "add_to_group": "a", "cancel": "x", "forget_me": "f"}
_KIND_OF_MARK = {mark: kind for kind, mark in _MARK.items()}


def button_payload(command: Choosable, token: str) -> str:
    """What a button for `command`, kept under `token`, carries."""
    return f"{CHOICE_PREFIX}{_MARK[_KIND_OF[type(command)]]}.{token}"


async def offer(ports: Ports, to: Address, commands: Sequence[Choosable]) -> list[str]:
    """Keep each command for `to` alone; returns the button payloads, in order."""
    expires_at = ports.clock.now() + CHOICE_VALID
    payloads = []
    for command in commands:
        token = secrets.token_urlsafe(12)
        await ports.stores.secrets.save_choice(
            Choice(token, to, choice_payload(command), expires_at)
        )
        payloads.append(button_payload(command, token))
    return payloads


def choice_payload(command: Choosable) -> str:
    """The JSON a Choice keeps for `command` (for callers that pick their own token)."""
    return json.dumps({"kind": _KIND_OF[type(command)], **dataclasses.asdict(command)})


async def read_choice(ports: Ports, message: IncomingMessage) -> Choosable | Reply | None:
    """The command behind a pressed button; a Reply if it is spent or not theirs;
    None if the payload is not one of ours."""
    payload = message.payload or ""
    if not payload.startswith(CHOICE_PREFIX):
        return None
    mark, _, token = payload.removeprefix(CHOICE_PREFIX).rpartition(".")
    kind = _KIND_OF_MARK.get(mark)  # None: a button from before kinds were marked
    choice = await ports.stores.secrets.take_choice(token, ports.clock.now())
    if choice is None:
        return replies.choice_expired(kind)
    if choice.address != message.sender:
        await ports.stores.secrets.save_choice(choice)  # still the asker's to use
        return replies.choice_expired(kind)
    return _command(json.loads(choice.payload))


def _command(fields: dict[str, Any]) -> Choosable:
    # choices saved before kinds existed were all namesake picks of send_song
    cls = _KINDS[str(fields.pop("kind", "send_song"))]
    known = {f.name for f in dataclasses.fields(cls)}
    values = {key: value for key, value in fields.items() if key in known}
    if values.get("short_link") is not None:
        values["short_link"] = tuple(values["short_link"])
    return cls(**values)
