"""The chat grammar: the seed's syntax, friendlier forms and every error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sendsongs.domain.commands import (
    CommandError,
    Help,
    Register,
    RegisterUserName,
    RegisterWithCode,
    SendSong,
    parse,
)

ID = "46X0dXeliHXD73sxexJx7d"
LINK = f"https://open.spotify.com/track/{ID}?si=x"


@pytest.mark.parametrize("text", ["help", "HELP", "?", "hi", "Get Started"])
def test_help(text: str) -> None:
    assert parse(text) == Help()


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("register", Register()),
        ('register name:"Bob Jones"', Register("Bob Jones")),
        ("register name:Bob", Register("Bob")),
        ("Register name:\u201cBob  Jones\u201d", Register("Bob Jones")),
        ('register code:"abc" name:"Bob"', RegisterWithCode("abc", "Bob")),
        ('register name:"Bob" code:abc', RegisterWithCode("abc", "Bob")),
        ('register listenbrainz:"rob_j"', RegisterUserName("listenbrainz", "rob_j")),
        ('register lastfm:"RJ" name:"Bob Jones"', RegisterUserName("lastfm", "RJ", "Bob Jones")),
        ("Register name:Bob LastFM:rj", RegisterUserName("lastfm", "rj", "Bob")),
    ],
)
def test_register(text: str, command: object) -> None:
    assert parse(text) == command


def test_seed_event_text() -> None:
    text = (
        "send_song https://open.spotify.com/track/46X0dXeliHXD73sxexJx7d?si=rLATOJAeSnqx9yZ11XYP5g"
        ' name:"Nick Shmkl" pre:"from curl" '
    )
    assert parse(text) == SendSong("Nick Shmkl", ID, pre="from curl")


@pytest.mark.parametrize(
    "text",
    [
        f'send_song name:"Bob" pre:"hey" post:"told you" {LINK}',
        f'send_song {LINK} post:"told you" pre:"hey" name:"Bob"',
        f'send name:Bob pre:"hey" post:"told you" spotify:track:{ID}',
        f'SEND_SONG post:\u201ctold you\u201d name:\u201cBob\u201d pre:"hey" {LINK}',
    ],
)
def test_send_song_fields_in_any_order(text: str) -> None:
    assert parse(text) == SendSong("Bob", ID, pre="hey", post="told you")


@pytest.mark.parametrize(
    "text",
    [
        f"send {LINK} to Bob",
        f"send_song spotify:track:{ID} to  bob ",
        f'send {LINK} pre:"hey" to Bob',
    ],
)
def test_friendlier_send_to_name(text: str) -> None:
    command = parse(text)
    assert isinstance(command, SendSong)
    assert command.name.lower() == "bob" and command.track_id == ID


def test_a_bare_link_is_answered_with_the_command_to_send_it() -> None:
    with pytest.raises(CommandError) as error:
        parse(LINK)
    assert str(error.value) == (
        f'Who should get it? Send: send_song name:"Friend\'s Name" https://open.spotify.com/track/{ID}'
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("dance", 'I don\'t understand "dance"'),
        (f"send_song {LINK}", "Who should get it?"),
        ('send_song name:"Bob"', "Add the song's Spotify link"),
        (f'send_song name:"Bob" https://open.spotify.com/album/{ID}', "isn't a Spotify song link"),
        (f'send_song name:"Bob" to:"x" {LINK}', "I don't know the field to:"),
        (f'send_song name:"Bob {LINK}', "A quote is not closed"),
        (f'send_song name:"" {LINK}', "The name is empty"),
        ('register code:"abc"', 'register code:"abc" name:"Your Name"'),
        ('register code:"" name:"x"', "The code is empty"),
        (f'send_song name:"Bob" pre:"{"x" * 301}" {LINK}', "too long"),
    ],
)
def test_errors_say_what_to_do(text: str, says: str) -> None:
    with pytest.raises(CommandError, match=None) as error:
        parse(text)
    assert says in str(error.value)


@given(st.text())
def test_any_text_parses_or_explains(text: str) -> None:
    try:
        parse(text)
    except CommandError as error:
        assert str(error)


@given(
    name=st.text(
        alphabet=st.characters(
            # every character the grammar reads as a double quote, and blanks
            blacklist_characters='"\u201c\u201d\u201e\u201f\u2033\uff02'
            "\n\r\t \x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0",
            blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc"),
        ),
        min_size=1,
        max_size=40,
    ),
    note=st.text(alphabet="abc XYZ!?'", min_size=1, max_size=40).filter(str.strip),
)
def test_quoted_fields_round_trip(name: str, note: str) -> None:
    command = parse(f'send_song name:"{name}" pre:"{note}" {LINK}')
    assert command == SendSong(name, ID, pre=" ".join(note.split()))


def test_a_short_link_is_kept_for_the_service_to_follow() -> None:
    command = parse('send_song name:"Bob" https://link.tospotify.com/a1B2c3D4e5')
    assert isinstance(command, SendSong)
    assert command.short_link == ("link.tospotify.com", "a1B2c3D4e5")
    assert command.track_id == ""


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('register listenbrainz:""', "The user name is empty"),
        ('register listenbrainz:"a" lastfm:"b"', "One history at a time"),
        ('register lastfm:"a" code:"c"', "One history at a time"),
        ('register lastfm:"https://www.last.fm/user/rj"', "doesn't look like a user name"),
        ('register apple:"rj"', "I don't know the field apple:"),
    ],
)
def test_register_by_user_name_mistakes(text: str, says: str) -> None:
    with pytest.raises(CommandError, match=says):
        parse(text)
