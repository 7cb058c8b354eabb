"""Connecting a person's play history: the chat link flow and the page-and-code flow
of OAuth sources (Spotify), whichever channel the person writes from."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta

import structlog

from sendsongs.domain import replies
from sendsongs.domain.commands import RegisterWithCode
from sendsongs.domain.models import (
    Address,
    Connection,
    ConnectionStatus,
    MessageKind,
    PendingLink,
    Person,
    Reply,
)
from sendsongs.errors import GrantRevoked, ServiceError
from sendsongs.ports import AccountLink, LinkedAccount, Ports
from sendsongs.service.delivery import Delivery
from sendsongs.service.limits import Quotas, over_limit, signup_key
from sendsongs.signing import InvalidLink, Signer

log = structlog.get_logger(__name__)

LINK_VALID = timedelta(minutes=30)  # the chat link
RENEW_LINK_VALID = timedelta(days=8)  # the link in a reminder or a "reconnect" notice
STATE_VALID = timedelta(minutes=10)  # time to get through the consent page
CODE_VALID = timedelta(minutes=15)  # the page flow's one-time code


@dataclass(frozen=True)
class Connected:
    name: str
    channel: str  # where the person asked for the link, e.g. "telegram"


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


def new_person_id() -> str:
    """Our own id for a person: opaque, channel-neutral, unguessable."""
    return "p_" + secrets.token_urlsafe(12)


class Registration:
    def __init__(
        self,
        ports: Ports,
        delivery: Delivery,
        signer: Signer,
        public_url: str,
        source: str,
        quotas: Quotas,
    ) -> None:
        self._ports, self._delivery, self._signer = ports, delivery, signer
        self._source, self._quotas = source, quotas
        self.login_url = f"{public_url}/{source}/login"

    @property
    def _link(self) -> AccountLink:
        return self._ports.account_links[self._source]

    async def chat_link(self, address: Address, name: str | None, profile: str | None) -> Reply:
        """`register`: a personal link that connects the source to this chat. Someone
        connected already hears so first; `register name:"…"` from them renames them
        and keeps their source (a link would switch it)."""
        people = self._ports.stores.people
        person = await people.person_at(address)
        connection = None if person is None else await people.get_connection(person.id)
        if person is not None and connection is not None:
            return await self._connected_already(address, person, connection, name)
        name = name or await self.known_name(address, profile)
        if not name:
            return replies.need_a_name()
        refusal = await self.over_limit(address)
        if refusal is not None:
            return refusal
        return replies.register_link(self.personal_link(address, name), name, LINK_VALID)

    async def _connected_already(
        self, address: Address, person: Person, connection: Connection, name: str | None
    ) -> Reply:
        if name is not None and name != person.name:
            await self._ports.stores.people.save_person(replace(person, name=name), address)
            log.info("renamed", person=person.id)
            return replies.renamed(name, connection.source, connection.account, self._source)
        refusal = await self.over_limit(address)
        if refusal is not None:
            return refusal
        link = self.personal_link(address, person.name)
        return replies.already_connected(
            person.name, connection.source, connection.account, link, LINK_VALID
        )

    def personal_link(self, address: Address, name: str, valid_for: timedelta = LINK_VALID) -> str:
        """A signed link, valid `valid_for`, that connects `address` under `name`."""
        token = self._signer.login_token(str(address), name, valid_for)
        return f"{self.login_url}?t={token}"

    async def over_limit(self, address: Address) -> Reply | None:
        """Count one sign-up attempt from `address`; the refusal past the limit."""
        limit = self._quotas.signups
        return await over_limit(self._ports, signup_key(address), limit, "sign-up attempts")

    def renewal_link(self, address: Address, name: str) -> str:
        """The one-tap link of a reminder or a reconnect notice: it must outlive the
        days until the person reads it."""
        return self.personal_link(address, name, RENEW_LINK_VALID)

    async def known_name(self, address: Address, profile: str | None) -> str | None:
        """The name a person is known by: theirs here, else the channel's profile name."""
        person = await self._ports.stores.people.person_at(address)
        if person is not None:
            return person.name
        if profile:
            return profile
        channel = self._ports.channels.get(address.channel)
        return None if channel is None else await channel.profile_name(address.id)

    async def start(self, token: str | None) -> str:
        """The consent URL; raises InvalidLink for a bad chat token."""
        address = name = None
        if token:
            raw, name = self._signer.read_login_token(token, RENEW_LINK_VALID)
            try:
                address = Address.parse(raw)
            except ValueError:
                raise InvalidLink("this sign-up link is invalid or has expired") from None
        verifier = secrets.token_urlsafe(64)
        nonce = secrets.token_urlsafe(24)
        expires_at = self._ports.clock.now() + STATE_VALID
        await self._ports.stores.secrets.save_pending_link(
            PendingLink(nonce, verifier, expires_at, address=address, name=name)
        )
        return self._link.authorize_url(self._signer.state(nonce), _challenge(verifier))

    async def finish(self, state: str, code: str | None, error: str | None) -> LoginResult:
        """The callback: single-use state, code exchange, then link or hand out a code."""
        try:
            nonce = self._signer.read_state(state, STATE_VALID)
        except InvalidLink as invalid:
            return LoginFailed(str(invalid).capitalize() + ".")
        now = self._ports.clock.now()
        link = await self._ports.stores.secrets.take_pending_link(nonce, now)
        if link is None:
            return LoginFailed("This sign-in link was already used or has expired.")
        if error or not code:
            return LoginFailed("Access was not granted, so nothing was connected.")
        try:
            account = await self._link.exchange_code(code, link.code_verifier)
        except GrantRevoked:
            return LoginFailed("The sign-in was refused. Please start again.")
        except ServiceError as failure:
            log.warning("code_exchange_failed", error=str(failure))
            return LoginFailed("The music service isn't answering. Please start again shortly.")
        if link.address is None or link.name is None:
            return await self._hand_out_code(account)
        refusal = await self.taken_by_someone_else(account, link.address, self._source)
        if refusal is not None:
            return LoginFailed(refusal)
        previous = await self.save(link.address, link.name, self._source, account)
        reply = self._connected_reply(link.name, account, previous)
        await self._delivery.send(link.address, reply, MessageKind.UPDATE)
        if not account.readable:
            return LoginFailed(replies.access_refused_page())
        return Connected(link.name, link.address.channel)

    async def redeem_code(self, address: Address, command: RegisterWithCode) -> Reply:
        """`register code:"…" name:"…"`: the page flow's last step."""
        limited = await self.over_limit(address)
        if limited is not None:
            return limited
        now = self._ports.clock.now()
        account = await self._ports.stores.secrets.take_signup_code(command.code, now)
        if account is None:
            return replies.bad_code(self.login_url)
        refusal = await self.taken_by_someone_else(account, address, self._source)
        if refusal is not None:
            return Reply(refusal)
        previous = await self.save(address, command.name, self._source, account)
        return self._connected_reply(command.name, account, previous)

    async def taken_by_someone_else(
        self, account: LinkedAccount, address: Address, source: str
    ) -> str | None:
        """One account, one person: otherwise one person's plays would count as
        another's listens."""
        if account.account is None:
            return None
        holder = await self._ports.stores.people.connection_of_account(source, account.account)
        if holder is None:
            return None
        person = await self._ports.stores.people.person_at(address)
        if person is not None and person.id == holder.person_id:
            return None
        return replies.account_taken()

    async def _hand_out_code(self, account: LinkedAccount) -> SignupCode:
        code = secrets.token_urlsafe(16)  # 128 bits: unguessable within its 15 minutes
        expires_at = self._ports.clock.now() + CODE_VALID
        await self._ports.stores.secrets.save_signup_code(code, account, expires_at)
        return SignupCode(code)

    async def save(
        self, address: Address, name: str, source: str, account: LinkedAccount
    ) -> str | None:
        """Make `address` a person called `name` whose one connection is `account`
        at `source`; returns the source they were connected to before, if any."""
        people, now = self._ports.stores.people, self._ports.clock.now()
        existing = await people.person_at(address)
        person = Person(
            id=existing.id if existing else new_person_id(),
            name=name,
            registered_at=existing.registered_at if existing else now,
        )
        before = await people.get_connection(person.id) if existing else None
        await people.save_person(person, address)
        status = ConnectionStatus.OK if account.readable else ConnectionStatus.REFUSED
        await people.save_connection(
            Connection(person.id, source, account.account, now, account.grant, status)
        )
        log.info("connected", person=person.id, source=source, status=status.value)
        return before.source if before else None

    def _connected_reply(self, name: str, account: LinkedAccount, previous: str | None) -> Reply:
        if not account.readable:
            # friends can still send songs; they are told their listens can't be seen
            return replies.access_refused()
        return replies.connected(name, again=previous is not None)


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
