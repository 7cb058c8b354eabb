"""Encryption of tokens at rest, keyed from the app's secret key (and, while a key is
being rotated out, the previous ones: accepted for reading, never for writing)."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sendsongs.errors import ConfigError, StoreError

TOKEN_ENCRYPTION = b"sendsongs token encryption"


def derive_key(secret: str, purpose: bytes, length: int = 32) -> bytes:
    """A key for one `purpose` from the app secret (HKDF-SHA256).

    Separate purposes get unrelated keys, so the key that signs OAuth state
    can never decrypt a stored token, and vice versa.
    """
    if not secret:
        raise ConfigError("SENDSONGS_SECRET_KEY must not be empty")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose)
    return hkdf.derive(secret.encode("utf-8"))


class TokenCipher:
    """Authenticated encryption (Fernet) of short secrets such as OAuth tokens.

    Encrypts with the key derived from `secret`; decrypts with it or any of
    `previous` (cryptography's MultiFernet), so a key can be replaced without
    losing what was stored: `rotate` re-encrypts a value under the current key.
    """

    def __init__(self, secret: str, previous: Sequence[str] = ()) -> None:
        self._fernet = MultiFernet([_fernet(key) for key in (secret, *previous)])
        self._current = _fernet(secret)

    def __repr__(self) -> str:  # never show key material
        return "TokenCipher()"

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            # `from None`: the cause adds nothing and must not drag data into logs.
            raise StoreError(
                "a stored token cannot be decrypted; was SENDSONGS_SECRET_KEY changed? "
                "(put the old key in SENDSONGS_PREVIOUS_SECRET_KEYS)"
            ) from None

    def rotate(self, ciphertext: str) -> str | None:
        """The value re-encrypted under the current key; None if it already is
        (so a rotation rewrites only what it must). StoreError if no key reads it."""
        try:
            self._current.decrypt(ciphertext.encode("ascii"))
        except InvalidToken:
            self.decrypt(ciphertext)  # a clear StoreError if no key can read it
            return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")
        return None


def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derive_key(secret, TOKEN_ENCRYPTION)))
