"""Connecting a public play history by user name (ListenBrainz, Last.fm): no consent
page, so registering is finding the user and checking the history can be read."""

from __future__ import annotations

import math
from datetime import timedelta

import structlog

from sendsongs.domain import replies
from sendsongs.domain.commands import RegisterUserName
from sendsongs.domain.models import Address, Reply
from sendsongs.errors import AccessRefused, NotFound, RateLimited, ServiceError
from sendsongs.ports import LinkedAccount, Ports
from sendsongs.service.pauses import RATE_LIMIT_FLOOR, pause_source, paused_until
from sendsongs.service.registration import Registration

log = structlog.get_logger(__name__)


class NameRegistration:
    def __init__(self, ports: Ports, registration: Registration) -> None:
        self._ports, self._registration = ports, registration

    @property
    def offered(self) -> tuple[str, ...]:
        """The sources by user name this bot has set up (Last.fm needs an API key)."""
        return tuple(self._ports.account_lookups)

    async def register(
        self, address: Address, command: RegisterUserName, profile: str | None
    ) -> Reply:
        """`register listenbrainz:"carol"`: connect that history if it exists and can
        be read, and say what it shows; otherwise say why not and connect nothing."""
        source, user = command.source, command.user
        lookup = self._ports.account_lookups.get(source)
        if lookup is None:
            return replies.source_not_offered(source)
        name = command.name or await self._registration.known_name(address, profile)
        if not name:
            return replies.need_a_name(f'register {source}:"{user}"')
        limited = await self._registration.over_limit(address)
        if limited is not None:
            return limited
        now = self._ports.clock.now()
        pauses = self._ports.stores.pauses
        paused = await paused_until(pauses, source, now)
        if paused is not None:
            return replies.source_busy(source, _minutes(paused - now))
        try:
            found = await lookup.look_up(user, now)
        except NotFound:
            return replies.no_such_user(source, user)
        except AccessRefused:
            return replies.history_private(source, user)
        except RateLimited as error:
            until = await pause_source(pauses, source, error, now, RATE_LIMIT_FLOOR)
            return replies.source_busy(source, _minutes(until - now))
        except ServiceError as error:
            log.warning("account_lookup_failed", source=source, error=str(error))
            return replies.source_unavailable(source)
        account = LinkedAccount(found.account)
        refusal = await self._registration.taken_by_someone_else(account, address, source)
        if refusal is not None:
            return Reply(refusal)
        previous = await self._registration.save(address, name, source, account)
        return replies.public_connected(
            source, name, found.account, found.listens_today, found.latest, previous
        )


def _minutes(span: timedelta) -> int:
    return max(1, math.ceil(span.total_seconds() / 60))
