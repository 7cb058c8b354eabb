"""What `sendMessage` checks in a message: its text after entity parsing, its inline
keyboard, its link preview options.

Limits from https://core.telegram.org/bots/api#sendmessage ("1-4096 characters after
entities parsing"), #formatting-options and #inlinekeyboardbutton ("callback_data ...
1-64 bytes"); error texts as api.telegram.org answers them.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

MAX_TEXT = 4096  # characters (code points), counted after entity parsing
MAX_CALLBACK_DATA = 64  # bytes of UTF-8
MAX_BUTTONS = 100
HTML_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
        "a", "tg-emoji", "code", "pre", "blockquote",
    }
)  # fmt: skip
BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^>]*>")
_MARKDOWN_V2_RESERVED = set("_*[]()~`>#+-=|{}.!")


class BadRequest(Exception):
    """A 400 whose description follows "Bad Request: "."""


def plain_text(text: str, parse_mode: str | None) -> str:
    """The text as the user will see it: markup removed, escapes resolved."""
    if parse_mode is None or parse_mode == "":
        return text
    mode = parse_mode.lower()
    if mode == "html":
        return _html_text(text)
    if mode == "markdownv2":
        return _markdown_v2_text(text)
    if mode == "markdown":
        return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).replace("*", "").replace("_", "")
    raise BadRequest("unsupported parse_mode")


def check_text(text: str | None, parse_mode: str | None) -> str:
    """The visible text of a message, or the BadRequest Telegram answers for it."""
    if text is None or not text.strip():
        raise BadRequest("message text is empty")
    visible = plain_text(text, parse_mode)
    if not visible.strip():
        raise BadRequest("message text is empty")
    if len(visible) > MAX_TEXT:
        raise BadRequest("message is too long")
    return visible


def _html_text(text: str) -> str:
    for match in _TAG.finditer(text):
        name = match.group(2).lower()
        if name not in HTML_TAGS:
            side = "end" if match.group(1) else "start"
            offset = len(text[: match.start()].encode())
            raise BadRequest(
                f'can\'t parse entities: Unsupported {side} tag "{name}" at byte offset {offset}'
            )
    return html.unescape(_TAG.sub("", text))


def _markdown_v2_text(text: str) -> str:
    """MarkdownV2 in outline: formatting marks dropped, link targets dropped, and any
    reserved character that is not escaped refused, as Telegram refuses it."""
    out: list[str] = []
    i = 0
    in_code = False
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if char == "`":
            in_code = not in_code
        elif in_code:
            out.append(char)
        elif char == "]" and text.startswith("(", i + 1):
            close = text.find(")", i + 2)
            i = len(text) if close < 0 else close + 1
            continue
        elif char in "*_~|[":
            pass
        elif char in _MARKDOWN_V2_RESERVED:
            raise BadRequest(
                f"can't parse entities: Character '{char}' is reserved and must be escaped"
                " with the preceding '\\'"
            )
        else:
            out.append(char)
        i += 1
    return "".join(out)


def json_object(value: object, error: str) -> dict[str, Any] | None:
    """A parameter that is a JSON object, given as one or as its serialization (the
    form-encoded way)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise BadRequest(error) from None
    if not isinstance(value, dict):
        raise BadRequest(error)
    return value


def check_reply_markup(value: object) -> dict[str, Any] | None:
    """The reply markup, with its inline keyboard checked button by button."""
    markup = json_object(value, "can't parse reply keyboard markup JSON object")
    if markup is None or "inline_keyboard" not in markup:
        return markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise BadRequest(
            'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
        )
    if sum(len(row) for row in rows) > MAX_BUTTONS:
        raise BadRequest("reply markup is too long")
    for row in rows:
        for button in row:
            _check_button(button)
    return markup


def _check_button(button: object) -> None:
    if not isinstance(button, dict):
        raise BadRequest(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    if not isinstance(button.get("text"), str):
        raise BadRequest('can\'t parse inline keyboard button: Field "text" must be of type String')
    actions = [name for name in BUTTON_ACTIONS if name in button]
    if not actions:
        raise BadRequest(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if "callback_data" in button and (
        not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA
    ):
        raise BadRequest("BUTTON_DATA_INVALID")
    url = button.get("url")
    if "url" in button and (
        not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://"))
    ):
        raise BadRequest("BUTTON_URL_INVALID")
