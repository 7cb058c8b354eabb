"""Signed, expiring tokens for chat links and OAuth `state` (itsdangerous)."""

from __future__ import annotations

from datetime import timedelta

from itsdangerous import BadData, URLSafeTimedSerializer

from sendsongs.errors import SendSongsError


class InvalidLink(SendSongsError):
    """A link or state that is forged, expired or already used."""


class Signer:
    """One serializer per purpose (salt), so a chat-link token can never pass as a
    `state` and the other way round."""

    def __init__(self, secret_key: str) -> None:
        self._login = URLSafeTimedSerializer(secret_key, salt="sendsongs.login-link")
        self._state = URLSafeTimedSerializer(secret_key, salt="sendsongs.oauth-state")

    def login_token(self, person_id: str, name: str) -> str:
        return self._login.dumps([person_id, name])

    def read_login_token(self, token: str, max_age: timedelta) -> tuple[str, str]:
        try:
            person_id, name = self._login.loads(token, max_age=int(max_age.total_seconds()))
        except (BadData, ValueError, TypeError):
            raise InvalidLink("this sign-up link is invalid or has expired") from None
        return str(person_id), str(name)

    def state(self, nonce: str) -> str:
        return self._state.dumps(nonce)

    def read_state(self, state: str, max_age: timedelta) -> str:
        try:
            return str(self._state.loads(state, max_age=int(max_age.total_seconds())))
        except BadData:
            raise InvalidLink("this sign-in attempt is invalid or has expired") from None
