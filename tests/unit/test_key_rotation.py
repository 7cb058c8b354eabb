"""Rotating SENDSONGS_SECRET_KEY: old keys still read tokens and links, never write them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sendsongs.config import load_settings
from sendsongs.crypto import TokenCipher
from sendsongs.errors import StoreError
from sendsongs.signing import InvalidLink, Signer
from tests.fakes import FakeClock

OLD, OLDER, NEW = "old-secret-key-00001", "older-secret-key-0002", "new-secret-key-00003"


def test_previous_keys_decrypt_and_the_current_key_encrypts() -> None:
    by_older, by_old = TokenCipher(OLDER).encrypt("t1"), TokenCipher(OLD).encrypt("t2")
    rotated = TokenCipher(NEW, previous=[OLD, OLDER])
    assert rotated.decrypt(by_older) == "t1" and rotated.decrypt(by_old) == "t2"
    fresh = rotated.encrypt("t3")
    assert TokenCipher(NEW).decrypt(fresh) == "t3"
    with pytest.raises(StoreError):
        TokenCipher(OLD).decrypt(fresh)


def test_rotate_rewrites_only_what_an_old_key_wrote() -> None:
    rotated = TokenCipher(NEW, previous=[OLD])
    again = rotated.rotate(TokenCipher(OLD).encrypt("token"))
    assert again is not None and TokenCipher(NEW).decrypt(again) == "token"
    assert rotated.rotate(rotated.encrypt("token")) is None
    with pytest.raises(StoreError, match="SENDSONGS_PREVIOUS_SECRET_KEYS"):
        rotated.rotate(TokenCipher("a-key-nobody-kept").encrypt("token"))


def test_links_signed_with_a_previous_key_still_work() -> None:
    clock = FakeClock()
    token = Signer(OLD, clock).login_token("messenger:1", "Ann", timedelta(minutes=5))
    assert Signer(NEW, clock, [OLD]).read_login_token(token, timedelta(minutes=5)) == (
        "messenger:1",
        "Ann",
    )
    with pytest.raises(InvalidLink):
        Signer(NEW, clock).read_login_token(token, timedelta(minutes=5))
    fresh = Signer(NEW, clock, [OLD]).state("nonce")
    assert Signer(NEW, clock).read_state(fresh, timedelta(minutes=5)) == "nonce"


def test_previous_keys_setting_is_a_comma_separated_list() -> None:
    settings = load_settings(_env_file=None, SENDSONGS_PREVIOUS_SECRET_KEYS=f" {OLD}, ,{OLDER} ")
    assert settings.previous_keys == (OLD, OLDER)
    assert load_settings(_env_file=None).previous_keys == ()
    assert OLD not in repr(settings)
