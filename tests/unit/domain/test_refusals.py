"""The grammar refuses what it would otherwise drop silently, and reads single quotes."""

from __future__ import annotations

import re

import pytest

from sendsongs.domain.commands import CommandError, SendSong, UnknownCommand, parse
from sendsongs.domain.matching import is_same_track
from sendsongs.domain.models import Track
from sendsongs.domain.names import apostrophe_forms, closeness

ONE = "spotify:track:jYSmSOpa7vbgcK17Pex1Wl"
TWO = "https://open.spotify.com/track/orOkXbQzW7UOsL7Os6RULg"


def test_two_songs_in_one_message_are_refused() -> None:
    with pytest.raises(CommandError, match="One song at a time"):
        parse(f'send_song name:"Finn Solo" {ONE} {TWO}')
    with pytest.raises(CommandError, match="One song at a time"):
        parse(f'send_song name:"Finn Solo" {ONE} https://spotify.link/Zq9XwV3KpLm')
    same_twice = parse(
        f'send_song name:"Finn Solo" {ONE} https://open.spotify.com/track/{ONE[14:]}'
    )
    assert isinstance(same_twice, SendSong)  # one song, pasted as link and URI


def test_a_field_given_twice_is_refused() -> None:
    with pytest.raises(CommandError, match=r'pre: is given twice — give it once, e\.g\. pre:"'):
        parse(f'send_song name:"Finn Solo" pre:"a" pre:"b" {ONE}')


@pytest.mark.parametrize(
    "quoted", ["'Chloé Dubois'", "\u2018Chloé Dubois\u2019", "\u2019Chloé Dubois\u2019"]
)
def test_single_quotes_count_as_quotes(quoted: str) -> None:
    command = parse(f"send_song name:{quoted} pre:'for you' {ONE}")
    assert isinstance(command, SendSong)
    assert command.name == "Chloé Dubois" and command.pre == "for you"


def test_an_apostrophe_inside_single_quotes_is_kept() -> None:
    command = parse(f"send_song name:'O'Neil Park' {ONE}")
    assert isinstance(command, SendSong) and command.name == "O'Neil Park"


def test_an_unknown_message_is_quoted_whole() -> None:
    with pytest.raises(UnknownCommand, match='I don\'t understand "Chloé Dubois"'):
        parse("Chloé Dubois")
    with pytest.raises(UnknownCommand, match=re.escape('"' + "x" * 40 + '…"')):
        parse("x" * 80)


def test_an_empty_group_name_gets_a_group_example() -> None:
    with pytest.raises(CommandError, match=re.escape('e.g. name:"Band"')):
        parse('create_group name:""')


def test_a_fixed_command_is_suggested_only_when_it_would_work() -> None:
    with pytest.raises(CommandError) as good:
        parse(f'sned_song name:"Finn" {ONE}')
    assert str(good.value) == f'Did you mean send_song? Send: send_song name:"Finn" {ONE}'
    with pytest.raises(CommandError) as bad:
        parse(f'sned_song name:"Finn" pre:"{"x" * 1900}" {ONE}')
    assert str(bad.value) == (
        "Did you mean send_song? Even then: The pre: note is too long (at most 300 characters)."
    )


def test_apostrophes_are_one_in_names() -> None:
    assert "O\u2019Neil" in apostrophe_forms("O'Neil")
    assert "O'Neil" in apostrophe_forms("O\u2019Neil")
    assert closeness("o\u2019neil park", "O'Neil Park") == 0


def _track(uri: str, ms: int) -> Track:
    return Track(uri=uri, name=uri, artists=("A",), duration_ms=ms, url="u", isrc="USRC17000006")


def test_a_reused_isrc_is_one_song_only_when_the_lengths_agree() -> None:
    assert is_same_track(_track("a", 241_000), _track("b", 243_000))
    assert not is_same_track(_track("a", 241_000), _track("b", 1_500))
