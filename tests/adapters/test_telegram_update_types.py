"""Any JSON value in any field of an update either reads as a well-typed message or
is refused as MalformedUpdate: nothing else escapes, and nothing badly typed goes on
to the inbox (a number as text would fail later, in the worker)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sendsongs.channels.telegram.updates import (
    Incoming,
    MalformedUpdate,
    MemberChange,
    parse_update,
)

NOW = datetime(2026, 11, 1, tzinfo=UTC)
BOB = {"id": 7001, "is_bot": False, "first_name": "Bob", "last_name": "Jones"}
BOT = {"id": 123456, "is_bot": True, "first_name": "Send Songs", "username": "SendSongsBot"}
CHAT = {"id": 7001, "first_name": "Bob", "type": "private"}
LINK = "https://open.spotify.com/track/46X0dXeliHXD73sxexJx7d"
MESSAGE = {
    "message_id": 1, "from": BOB, "chat": CHAT, "date": 1795000000,
    "text": f"/send_song {LINK} to Alice",
    "entities": [{"type": "bot_command", "offset": 0, "length": 10},
                 {"type": "url", "offset": 11, "length": len(LINK)},
                 {"type": "text_link", "offset": 0, "length": 4, "url": LINK}],
}  # fmt: skip
KEYBOARD = {"inline_keyboard": [[{"text": "Alice", "callback_data": "c:tok"}]]}
PRESS = {
    "id": "q-1", "from": BOB, "chat_instance": "-1", "data": "c:tok",
    "message": {"message_id": 2, "from": BOT, "chat": CHAT, "date": 1, "text": "Which?",
                "reply_markup": KEYBOARD},
}  # fmt: skip
MEMBER = {
    "chat": CHAT, "from": BOB, "date": 1,
    "old_chat_member": {"user": BOT, "status": "kicked", "until_date": 0},
    "new_chat_member": {"user": BOT, "status": "member"},
}  # fmt: skip
UPDATES = [
    {"update_id": 1, "message": MESSAGE},
    {
        "update_id": 2,
        "message": {
            **MESSAGE,
            "text": None,
            "entities": [],
            "caption": LINK,
            "caption_entities": [{"type": "url", "offset": 0, "length": len(LINK)}],
        },
    },
    {"update_id": 3, "callback_query": PRESS},
    {"update_id": 4, "my_chat_member": MEMBER},
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in a JSON value, the value itself excluded."""
    found: list[tuple[Any, ...]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, inner in items:
        found.append((*prefix, key))
        if isinstance(inner, dict | list):
            found.extend(paths(inner, (*prefix, key)))
    return found


def replaced(update: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(update)
    holder: Any = changed
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    return changed


@st.composite
def mangled_updates(draw: st.DrawFn) -> dict[str, Any]:
    update = draw(st.sampled_from(UPDATES))
    for _ in range(draw(st.integers(1, 3))):
        where = paths(update)
        if not where:
            break
        update = replaced(update, draw(st.sampled_from(where)), draw(json_values))
    return update


def assert_well_typed(parsed: object) -> None:
    if isinstance(parsed, Incoming):
        message = parsed.message
        assert isinstance(message.id, str) and isinstance(message.sender.id, str)
        assert isinstance(message.text, str)
        assert all(isinstance(link, str) for link in message.attachments)
        assert message.payload is None or isinstance(message.payload, str)
        assert message.profile_name is None or isinstance(message.profile_name, str)
        assert parsed.callback_query_id is None or isinstance(parsed.callback_query_id, str)
    elif isinstance(parsed, MemberChange):
        assert isinstance(parsed.address.id, str)
    else:
        assert parsed is None


@settings(max_examples=400, deadline=None)
@given(mangled_updates())
def test_any_value_in_any_field_reads_well_typed_or_is_malformed(update: dict[str, Any]) -> None:
    try:
        parsed = parse_update(json.dumps(update).encode(), NOW)
    except MalformedUpdate:
        return
    assert_well_typed(parsed)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("message", "text"), 5),
        (("message", "chat", "id"), "7001"),
        (("message", "chat", "id"), True),
        (("message", "from", "first_name"), 7),
        (("message", "entities", 1, "offset"), "eleven"),
    ],
    ids=["text", "chat-id-text", "chat-id-bool", "first-name", "offset"],
)
def test_a_wrongly_typed_message_field_is_malformed(path: tuple[Any, ...], value: Any) -> None:
    body = json.dumps(replaced(UPDATES[0], path, value)).encode()
    with pytest.raises(MalformedUpdate):
        parse_update(body, NOW)


def test_a_wrongly_typed_caption_is_malformed() -> None:
    with pytest.raises(MalformedUpdate):
        parse_update(json.dumps(replaced(UPDATES[1], ("message", "caption"), ["a"])).encode(), NOW)


@pytest.mark.parametrize(
    ("path", "value"),
    [(("callback_query", "data"), 5), (("callback_query", "id"), 9)],
    ids=["data", "id"],
)  # fmt: skip
def test_a_wrongly_typed_press_is_malformed(path: tuple[Any, ...], value: Any) -> None:
    with pytest.raises(MalformedUpdate):
        parse_update(json.dumps(replaced(UPDATES[2], path, value)).encode(), NOW)


def test_the_templates_read_as_they_should() -> None:
    """The property above starts from these: each must be a good update."""
    parsed = [parse_update(json.dumps(update).encode(), NOW) for update in UPDATES]
    assert isinstance(parsed[0], Incoming) and parsed[0].message.attachments == (LINK,)
    assert isinstance(parsed[1], Incoming) and parsed[1].message.text == LINK
    assert isinstance(parsed[2], Incoming) and parsed[2].message.text == "Alice"
    assert isinstance(parsed[3], MemberChange) and not parsed[3].blocked
