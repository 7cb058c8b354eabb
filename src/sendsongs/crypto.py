"""Encryption of tokens at rest, keyed from the app's secret key."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
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
    """Authenticated encryption (Fernet) of short secrets such as OAuth tokens."""

    def __init__(self, secret: str) -> None:
        key = base64.urlsafe_b64encode(derive_key(secret, TOKEN_ENCRYPTION))
        self._fernet = Fernet(key)

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
                "a stored token cannot be decrypted; was SENDSONGS_SECRET_KEY changed?"
            ) from None
