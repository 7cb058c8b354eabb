"""Signed, expiring tokens for chat links and OAuth `state` (itsdangerous)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from sendsongs.errors import SendSongsError
from sendsongs.ports import Clock


class InvalidLink(SendSongsError):
    """A link or state that is forged, expired or already used."""


class _ClockSigner(TimestampSigner):
    """Timestamps from our Clock, so expiry follows the same time as everything else."""

    def __init__(self, *args: Any, clock: Clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock.now().timestamp())


class Signer:
    """One serializer per purpose (salt), so a chat-link token can never pass as a
    `state` and the other way round. Signs with `secret_key`; links signed with one
    of `previous` (a key being rotated out) are still read."""

    def __init__(self, secret_key: str, clock: Clock, previous: Sequence[str] = ()) -> None:
        # itsdangerous takes keys oldest first and signs with the last
        keys = [*reversed(previous), secret_key]

        def serializer(salt: str) -> URLSafeTimedSerializer:
            return URLSafeTimedSerializer(
                keys, salt=salt, signer=_ClockSigner, signer_kwargs={"clock": clock}
            )

        self._login = serializer("sendsongs.login-link")
        self._state = serializer("sendsongs.oauth-state")

    def login_token(self, address: str, name: str, valid_for: timedelta) -> str:
        """A link token that names its own lifetime (whole seconds), signed with it."""
        return self._login.dumps([address, name, int(valid_for.total_seconds())])

    def read_login_token(self, token: str, longest: timedelta) -> tuple[str, str]:
        """(address, name); InvalidLink if forged, or older than the lifetime it was
        issued with (never more than `longest`)."""
        try:
            _, _, valid = self._login.loads(token, max_age=int(longest.total_seconds()))
            address, name, _ = self._login.loads(
                token, max_age=min(int(valid), int(longest.total_seconds()))
            )
        except (BadData, ValueError, TypeError):
            raise InvalidLink("this sign-up link is invalid or has expired") from None
        return str(address), str(name)

    def state(self, nonce: str) -> str:
        return self._state.dumps(nonce)

    def read_state(self, state: str, max_age: timedelta) -> str:
        try:
            return str(self._state.loads(state, max_age=int(max_age.total_seconds())))
        except BadData:
            raise InvalidLink("this sign-in attempt is invalid or has expired") from None
