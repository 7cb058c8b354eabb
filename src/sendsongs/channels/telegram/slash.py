"""Telegram's slash form of a command, rewritten into the chat grammar's own words.

    /help                      → help
    /send_song@SendSongsBot …  → send_song …
    /start                     → start            (the grammar reads it as help)
    /start register            → register          (a deep link: t.me/<bot>?start=register)
    /start code_<code>         → register code:"<code>" name:"<profile name>"

Why here and not in domain/commands.py: the slash, the `@botname` suffix and the
`/start` deep-link payload are Telegram's wire conventions (Bot API "Commands" and
"Deep linking", https://core.telegram.org/bots/features). The grammar stays one
channel-neutral language, and any command it learns works on Telegram untouched,
since a slash command is only that command's word with a slash in front.
"""

from __future__ import annotations

import re

# A command is 1-32 of a-z, 0-9 and _ (BotFather's rule), optionally addressed to a
# bot by name, as Telegram clients do in groups and when a command is tapped.
_COMMAND = re.compile(r"/(?P<word>[A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]+)?(?=\s|$)")
# Deep-link payloads are 1-64 of A-Z a-z 0-9 _ - (Bot API "Deep linking").
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CODE_PREFIX = "code_"
# Telegram command names cannot hold a space; these are the grammar's two-word ones.
_SPACED = {"forget_me": "forget me", "get_started": "get started"}
# Deep links a page may hand out: the payload is the command to run.
_DEEP_LINK_WORDS = frozenset({"help", "register"})


def from_slash(text: str, profile_name: str | None) -> str:
    """The text with a leading slash command rewritten; any other text as it is."""
    match = _COMMAND.match(text.lstrip())
    if match is None:
        return text
    word = match["word"].lower()
    rest = text.lstrip()[match.end() :].strip()
    if word == "start":
        return _deep_link(rest, profile_name)
    word = _SPACED.get(word, word)
    return f"{word} {rest}" if rest else word


def _deep_link(payload: str, profile_name: str | None) -> str:
    if not _PAYLOAD.fullmatch(payload):
        return "start"  # no payload (the Start button), or one we never hand out
    if payload.lower() in _DEEP_LINK_WORDS:
        return payload.lower()
    if payload.startswith(_CODE_PREFIX) and len(payload) > len(_CODE_PREFIX):
        code = payload.removeprefix(_CODE_PREFIX)
        name = " ".join((profile_name or "").replace('"', "").split())
        return f'register code:"{code}" name:"{name}"' if name else f'register code:"{code}"'
    return "start"
