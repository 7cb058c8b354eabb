"""`forget me` and erasure requests: erase a person, and everything tied to them.

What goes: their name, addresses, connection (tokens included), the groups they
own and their place in others', the shares they sent and were sent, messages
waiting for them or sent on their behalf, their button choices, sign-in states
and sign-up codes, and their limit counters; then the store makes the
deleted data unreadable in its files. Senders of shares still pending to them are
told the share ended. Afterwards nobody can find them, and if they write again
they start as someone new.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime, timedelta

import structlog

from sendsongs.domain import replies
from sendsongs.domain.commands import ForgetMe
from sendsongs.domain.models import (
    Address,
    Choice,
    IncomingMessage,
    MessageKind,
    Reply,
    Share,
    ShareStatus,
)
from sendsongs.ports import Ports
from sendsongs.service.choices import button_payload, choice_payload
from sendsongs.service.delivery import Delivery
from sendsongs.service.limits import share_key, signup_key

log = structlog.get_logger(__name__)

CONFIRM_VALID = timedelta(minutes=10)


def confirm_token(address: Address) -> str:
    """The one confirmation token of an address: a typed `yes` finds the question
    the same way the button does. Only that address may spend it (Choice.address)."""
    digest = hashlib.sha256(f"forget-me:{address}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:16]


class Forgetting:
    def __init__(self, ports: Ports, delivery: Delivery) -> None:
        self._ports, self._delivery = ports, delivery

    async def ask(self, address: Address) -> Reply:
        """`forget me`: ask once, with a button; a `yes` within CONFIRM_VALID erases."""
        token = confirm_token(address)
        expires_at = self._ports.clock.now() + CONFIRM_VALID
        command = ForgetMe(confirmed=True)
        payload = choice_payload(command)
        await self._ports.stores.secrets.save_choice(Choice(token, address, payload, expires_at))
        return replies.forget_question(button_payload(command, token), CONFIRM_VALID)

    async def confirm(self, message: IncomingMessage) -> Reply:
        """A typed `yes`: erase if this address was asked and the question is fresh."""
        now = self._ports.clock.now()
        choice = await self._ports.stores.secrets.take_choice(confirm_token(message.sender), now)
        if choice is None or choice.address != message.sender:
            return replies.nothing_to_confirm()
        return await self.confirmed(message)

    async def confirmed(self, message: IncomingMessage) -> Reply:
        """The person confirmed (typed or pressed): erase them."""
        await self.erase(message.sender, handling=message.id)
        return replies.forgotten()

    async def on_request(self, address: Address) -> str:
        """An erasure asked for from outside the chat (Facebook's data deletion
        request): erase whoever is at `address`; returns the confirmation code."""
        await self.erase(address)
        code = secrets.token_urlsafe(12)
        await self._ports.stores.erasures.record_erasure(code, self._ports.clock.now())
        return code

    async def erased_at(self, code: str) -> datetime | None:
        return await self._ports.stores.erasures.erased_at(code)

    async def erase(self, address: Address, handling: str | None = None) -> None:
        """Erase the person reached at `address` (or, if none, what the address left
        behind). `handling`: the id of the message being handled, forgotten now so the
        scrub covers it. The person goes last: an erasure cut short is redone whole."""
        stores = self._ports.stores
        person = await stores.people.person_at(address)
        addresses, account, ended = {address}, None, []
        keys = [signup_key(address)]
        if person is not None:
            addresses.update(await stores.people.addresses_of(person.id))
            connection = await stores.people.get_connection(person.id)
            account = connection.account if connection is not None else None
            shares = await stores.shares.erase_shares_of(person.id)
            ended = [share for share in shares if _pending_to(share, person.id)]
            await self._leave_groups(person.id)
            keys = [share_key(person.id), *map(signup_key, addresses)]
        await stores.outbox.erase_to(sorted(addresses))
        await stores.secrets.erase_for(sorted(addresses), account)
        await stores.limits.forget(keys)
        if person is not None:
            await stores.people.erase_person(person.id)
        if handling is not None:
            await stores.inbox.finish_incoming(handling)
        await stores.admin.scrub()
        log.info("erased", person=person.id if person else None, ended_shares=len(ended))
        await self._tell_senders(ended)

    async def _leave_groups(self, person_id: str) -> None:
        """Groups they own go (names and all); in others' groups, their place goes."""
        groups = self._ports.stores.groups
        for group in await groups.groups_of(person_id):
            if group.owner_id == person_id:
                await groups.delete_group(group.id)
            else:
                await groups.remove_member(group.id, person_id)

    async def _tell_senders(self, ended: list[Share]) -> None:
        for share in ended:
            sender = await self._ports.stores.people.address_of(share.sender_id)
            if sender is not None:
                reply = replies.share_ended_erased(share.track, share.shared_at)
                await self._delivery.send(sender, reply, MessageKind.UPDATE)


def _pending_to(share: Share, person_id: str) -> bool:
    return (
        share.recipient_id == person_id
        and share.sender_id != person_id
        and share.status is ShareStatus.PENDING
    )
