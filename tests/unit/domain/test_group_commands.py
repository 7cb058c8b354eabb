"""The grammar of groups, status and cancel, and of the slips people make."""

from __future__ import annotations

import pytest

from sendsongs.domain.commands import (
    AddToGroup,
    Cancel,
    CommandError,
    CreateGroup,
    DeleteGroup,
    LeaveGroup,
    ListGroups,
    RemoveFromGroup,
    SendSong,
    Status,
    parse,
)

ID = "46X0dXeliHXD73sxexJx7d"
LINK = f"https://open.spotify.com/track/{ID}"


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ('create_group name:"Band"', CreateGroup("Band")),
        ("create_group name:Band", CreateGroup("Band")),
        ('add_to_group group:"Band" name:"Bob Jones"', AddToGroup("Band", "Bob Jones")),
        ('ADD_TO_GROUP name:"Bob  Jones" group:band', AddToGroup("band", "Bob Jones")),
        ('remove_from_group group:"Band" name:"Bob"', RemoveFromGroup("Band", "Bob")),
        ('leave_group group:"Band"', LeaveGroup("Band")),
        ('delete_group group:"Band"', DeleteGroup("Band")),
        ("groups", ListGroups()),
        ("status", Status()),
        ("Status", Status()),
        ("cancel", Cancel()),
        (f'send_song group:"Band" post:"yes" {LINK}', SendSong("", ID, post="yes", group="Band")),
    ],
)
def test_group_status_and_cancel_commands(text: str, command: object) -> None:
    assert parse(text) == command


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("create_group", 'create_group needs name: — e.g. create_group name:"Band"'),
        ('add_to_group group:"Band"', 'add_to_group needs name: — e.g. add_to_group group:"Band"'),
        ('add_to_group name:"Bob"', "add_to_group needs group:"),
        ('remove_from_group group:"Band"', "remove_from_group needs name:"),
        ("leave_group", "leave_group needs group:"),
        (
            'delete_group name:"Band"',
            "I don't know the field name: — delete_group understands group:",
        ),
        ('create_group name:""', "The name is empty"),
        (f'send_song name:"Bob" group:"Band" {LINK}', "either name: or group:, not both"),
        (f'send_song group:"Band" to:"x" {LINK}', "I don't know the field to:"),
    ],
)
def test_group_errors_say_what_to_do(text: str, says: str) -> None:
    with pytest.raises(CommandError) as error:
        parse(text)
    assert says in str(error.value)


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        (f'sned_song name:"Bob Jones" {LINK}', f'send_song name:"Bob Jones" {LINK}'),
        ('creat_group name:"Band"', 'create_group name:"Band"'),
        ("stauts", "status"),
        ("cancle", "cancel"),
        ('regster name:"Ann"', 'register name:"Ann"'),
    ],
)
def test_a_typod_verb_is_suggested_with_the_fields_kept(text: str, suggestion: str) -> None:
    with pytest.raises(CommandError) as error:
        parse(text)
    verb = suggestion.split()[0]
    assert str(error.value) == f"Did you mean {verb}? Send: {suggestion}"


@pytest.mark.parametrize("text", ["play something", "dance", "ok"])
def test_unrelated_words_get_no_suggestion(text: str) -> None:
    with pytest.raises(CommandError) as error:
        parse(text)
    assert "Did you mean" not in str(error.value)


@pytest.mark.parametrize(
    "text",
    [
        f'send_song name: "Bob Jones" {LINK}',
        f'send_song name:\t"Bob Jones" {LINK}',
        f"send_song name: \u201cBob Jones\u201d {LINK}",
    ],
)
def test_a_space_after_the_colon_is_accepted(text: str) -> None:
    assert parse(text) == SendSong("Bob Jones", ID)
