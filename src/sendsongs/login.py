"""Linking a person's Spotify: the chat link flow and the seed's page-and-code flow."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog

from sendsongs.domain import replies
from sendsongs.domain.commands import RegisterWithCode
from sendsongs.domain.models import Grant, MessageKind, PendingLink, Person, Reply
from sendsongs.errors import GrantRevoked, ServiceError
from sendsongs.signing import InvalidLink, Signer

if TYPE_CHECKING:
    from sendsongs.delivery import Delivery
    from sendsongs.ports import Ports

log = structlog.get_logger(__name__)

LINK_VALID = timedelta(minutes=30)  # the chat link
STATE_VALID = timedelta(minutes=10)  # time to get through Spotify's consent page
CODE_VALID = timedelta(minutes=15)  # the page flow's one-time code


@dataclass(frozen=True)
class Connected:
    name: str


@dataclass(frozen=True)
class SignupCode:
    code: str

    @property
    def command(self) -> str:
        return f'register code:"{self.code}" name:"Your Name"'


@dataclass(frozen=True)
class LoginFailed:
    reason: str


LoginResult = Connected | SignupCode | LoginFailed


class Login:
    def __init__(self, ports: Ports, delivery: Delivery, signer: Signer, public_url: str):
        self._ports, self._delivery, self._signer = ports, delivery, signer
        self.login_url = f"{public_url}/spotify/login"

    async def chat_link(self, person_id: str, name: str | None) -> Reply:
        """`register`: a personal link that connects Spotify to this chat."""
        name = name or await self._known_name(person_id)
        if not name:
            return replies.need_a_name()
        token = self._signer.login_token(person_id, name)
        return replies.register_link(f"{self.login_url}?t={token}", name, LINK_VALID)

    async def _known_name(self, person_id: str) -> str | None:
        person = await self._ports.store.get_person(person_id)
        if person is not None:
            return person.name
        return await self._ports.chat.profile_name(person_id)

    async def start(self, token: str | None) -> str:
        """The Spotify consent URL; raises InvalidLink for a bad chat token."""
        person_id = name = None
        if token:
            person_id, name = self._signer.read_login_token(token, LINK_VALID)
        verifier = secrets.token_urlsafe(64)
        nonce = secrets.token_urlsafe(24)
        expires_at = self._ports.clock.now() + STATE_VALID
        await self._ports.store.save_pending_link(
            PendingLink(nonce, verifier, expires_at, person_id=person_id, name=name)
        )
        return self._ports.music.authorize_url(self._signer.state(nonce), _challenge(verifier))

    async def finish(self, state: str, code: str | None, error: str | None) -> LoginResult:
        """The callback: single-use state, code exchange, then link or hand out a code."""
        try:
            nonce = self._signer.read_state(state, STATE_VALID)
        except InvalidLink as invalid:
            return LoginFailed(str(invalid).capitalize() + ".")
        link = await self._ports.store.take_pending_link(nonce, self._ports.clock.now())
        if link is None:
            return LoginFailed("This sign-in link was already used or has expired.")
        if error or not code:
            return LoginFailed("Spotify access was not granted, so nothing was connected.")
        try:
            grant = await self._ports.music.exchange_code(code, link.code_verifier)
        except GrantRevoked:
            return LoginFailed("Spotify refused the sign-in. Please start again.")
        except ServiceError as error:
            log.warning("code_exchange_failed", error=str(error))
            return LoginFailed("Spotify isn't answering right now. Please start again shortly.")
        if link.person_id is None or link.name is None:
            return await self._hand_out_code(grant)
        await self._connect(link.person_id, link.name, grant)
        return Connected(link.name)

    async def redeem_code(self, person_id: str, command: RegisterWithCode) -> Reply:
        """`register code:"…" name:"…"`: the page flow's last step."""
        grant = await self._ports.store.take_signup_code(command.code, self._ports.clock.now())
        if grant is None:
            return replies.bad_code(self.login_url)
        return await self._save(person_id, command.name, grant)

    async def _hand_out_code(self, grant: Grant) -> SignupCode:
        code = secrets.token_urlsafe(16)  # 128 bits: unguessable within its 15 minutes
        expires_at = self._ports.clock.now() + CODE_VALID
        await self._ports.store.save_signup_code(code, grant, expires_at)
        return SignupCode(code)

    async def _connect(self, person_id: str, name: str, grant: Grant) -> None:
        reply = await self._save(person_id, name, grant)
        await self._delivery.send(person_id, reply, MessageKind.UPDATE)

    async def _save(self, person_id: str, name: str, grant: Grant) -> Reply:
        store = self._ports.store
        existing = await store.get_person(person_id)
        registered_at = existing.registered_at if existing else self._ports.clock.now()
        await store.save_person(Person(person_id, name, registered_at), grant)
        log.info("connected", person=person_id, again=existing is not None)
        return replies.connected(name, again=existing is not None)


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
