"""The service over fakes: a chat that records, a music source with scripted plays.

Tests name people by their Messenger PSIDs ("psid-alice"); `world.store` answers
with those names, translating to the service's own person ids.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from sendsongs.domain.models import (
    Address,
    Connection,
    Grant,
    IncomingMessage,
    MessageKind,
    Person,
    Play,
    RecipientCheck,
    Reply,
    Share,
    Track,
)
from sendsongs.domain.schedule import Schedule
from sendsongs.errors import (
    AccessRefused,
    GrantRevoked,
    NotATrack,
    NotFound,
    RecipientUnreachable,
    ServiceError,
)
from sendsongs.ports import History, LinkedAccount, Ports, PublicAccount
from sendsongs.service import Service
from sendsongs.signing import Signer
from tests.fakes import FakeClock, MemoryStore

TRACKS = {
    "46X0dXeliHXD73sxexJx7d": Track(
        uri="spotify:track:46X0dXeliHXD73sxexJx7d",
        name="Happy Now",
        artists=("Zedd", "Elley Duhé"),
        duration_ms=207_000,
        url="https://open.spotify.com/track/46X0dXeliHXD73sxexJx7d",
        isrc="USUM71804190",
    ),
    "2I0FOWHzP5dBiNNFLFsxVt": Track(
        uri="spotify:track:2I0FOWHzP5dBiNNFLFsxVt",
        name="Happy Now (Album Version)",
        artists=("Zedd",),
        duration_ms=210_000,
        url="https://open.spotify.com/track/2I0FOWHzP5dBiNNFLFsxVt",
        isrc="USUM71804190",
    ),
    # two different songs under one (reused) ISRC: only the lengths tell them apart
    "jYSmSOpa7vbgcK17Pex1Wl": Track(
        uri="spotify:track:jYSmSOpa7vbgcK17Pex1Wl",
        name="Totally Different Song",
        artists=("Finn Solo",),
        duration_ms=241_000,
        url="https://open.spotify.com/track/jYSmSOpa7vbgcK17Pex1Wl",
        isrc="USRC17000006",
    ),
    "orOkXbQzW7UOsL7Os6RULg": Track(
        uri="spotify:track:orOkXbQzW7UOsL7Os6RULg",
        name="Salt and Sand",
        artists=("Finn Solo",),
        duration_ms=1_500,
        url="https://open.spotify.com/track/orOkXbQzW7UOsL7Os6RULg",
        isrc="USRC17000006",
    ),
    "0VjIjW4GlUZAMYd2vXMi3b": Track(
        uri="spotify:track:0VjIjW4GlUZAMYd2vXMi3b",
        name="Blinding Lights",
        artists=("The Weeknd",),
        duration_ms=200_000,
        url="https://open.spotify.com/track/0VjIjW4GlUZAMYd2vXMi3b",
        isrc="USUG11904206",
    ),
}


CHANNEL = "messenger"
WINDOW = "Messenger lets me write to people only within 24 hours of their last message"


def at(psid: str) -> Address:
    return Address(CHANNEL, psid)


@dataclass
class Sent:
    person_id: str  # the PSID it went to
    reply: Reply
    kind: MessageKind


@dataclass
class RecordingChat:
    clock: FakeClock
    sent: list[Sent] = field(default_factory=list)
    profiles: dict[str, str] = field(default_factory=dict)
    unreachable: set[str] = field(default_factory=set)
    failing: list[Exception] = field(default_factory=list)  # raised by the next sends
    name: str = CHANNEL

    async def send(self, to: str, reply: Reply, kind: MessageKind) -> None:
        if self.failing:
            raise self.failing.pop(0)
        if to in self.unreachable:
            raise RecipientUnreachable("outside the 24-hour window", WINDOW)
        self.sent.append(Sent(to, reply, kind))

    async def profile_name(self, to: str) -> str | None:
        return self.profiles.get(to)

    def texts(self, person_id: str) -> list[str]:
        return [s.reply.text for s in self.sent if s.person_id == person_id]

    def last(self, person_id: str) -> Reply:
        return [s.reply for s in self.sent if s.person_id == person_id][-1]


@dataclass
class ScriptedMusic:
    """Catalog, account link and play history of one source, with plays per account
    (the owner's PSID doubles as their account id); counts history calls."""

    clock: FakeClock
    listens: dict[str, list[Play]] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # code -> owner
    revoked: set[str] = field(default_factory=set)
    history_calls: list[tuple[str, datetime]] = field(default_factory=list)
    fail_history: list[Exception] = field(default_factory=list)
    in_flight: list[object] = field(default_factory=list)  # awaited during a history call
    short_links: dict[str, str | None] = field(default_factory=dict)  # code -> track id
    unreadable: set[str] = field(default_factory=set)  # not on the app's allow-list
    source: str = "spotify"
    grant_lifetime: timedelta | None = timedelta(days=183)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def authorize_url(self, state: str, code_challenge: str) -> str:
        return f"https://accounts.example/authorize?state={state}&code_challenge={code_challenge}"

    def approve(self, authorize_url: str, owner: str) -> tuple[str, str]:
        """Be the person clicking Allow: returns (state, code) for the callback."""
        state = parse_qs(urlparse(authorize_url).query)["state"][0]
        code = f"code-{next(self._ids)}"
        self.codes[code] = owner
        return state, code

    async def exchange_code(self, code: str, code_verifier: str) -> LinkedAccount:
        owner = self.codes.pop(code, None)
        if owner is None:
            raise GrantRevoked("invalid_grant")
        now = self.clock.now()
        grant = Grant(f"access-{owner}", f"refresh-{owner}", now + timedelta(hours=1), now)
        if owner in self.unreadable:
            return LinkedAccount(account=None, grant=grant, readable=False)
        return LinkedAccount(account=owner, grant=grant)

    async def track(self, track_id: str) -> Track:
        if track_id not in TRACKS:
            raise NotFound(track_id)
        return TRACKS[track_id]

    async def resolve_short_link(self, host: str, code: str) -> str:
        if code not in self.short_links:
            raise NotFound(f"https://{host}/{code}")
        track_id = self.short_links[code]
        if track_id is None:
            raise NotATrack(f"https://{host}/{code}")
        return track_id

    async def plays(self, connection: Connection, since: datetime) -> History:
        owner = connection.account or ""
        self.history_calls.append((owner, since))
        for hook in list(self.in_flight):
            await hook()  # type: ignore[operator]
        if self.fail_history:
            raise self.fail_history.pop(0)
        if owner in self.revoked:
            raise GrantRevoked("revoked")
        return History([p for p in self.listens.get(owner, []) if p.played_at >= since])

    def play(self, owner: str, track_id: str, at: datetime) -> None:
        track = TRACKS[track_id]
        play = Play(at, track.uri, track.isrc, track.duration_ms)
        self.listens.setdefault(owner, []).append(play)


@dataclass
class ScriptedPublic:
    """A public history read by user name (ListenBrainz, Last.fm): users, their
    plays, private profiles; counts history calls."""

    source: str
    users: dict[str, list[Play]] = field(default_factory=dict)  # name -> plays
    private: set[str] = field(default_factory=set)
    fail: list[Exception] = field(default_factory=list)  # raised by the next calls
    history_calls: int = 0

    def _user(self, user: str) -> str:
        if self.fail:
            raise self.fail.pop(0)
        name = next((u for u in self.users if u.lower() == user.lower()), None)
        if name is None:
            raise NotFound(user)
        if name in self.private:
            raise AccessRefused(user)
        return name

    async def plays(self, connection: Connection, since: datetime) -> History:
        self.history_calls += 1
        name = self._user(connection.account or "")
        return History(sorted((p for p in self.users[name] if p.played_at >= since), key=_at))

    async def look_up(self, user: str, now: datetime) -> PublicAccount:
        name = self._user(user)
        plays = sorted(self.users[name], key=_at, reverse=True)
        today = [p for p in plays if p.played_at >= now - timedelta(hours=24)]
        return PublicAccount(name, len(today), plays[0] if plays else None)


def _at(play: Play) -> datetime:
    return play.played_at


SCHEDULE = Schedule(
    fast_interval=timedelta(minutes=5),
    fast_window=timedelta(hours=1),
    slow_interval=timedelta(hours=1),
    expire_after=timedelta(days=7),
)


class StoreByPsid:
    """The in-memory store, with people named by PSID as the tests write them."""

    def __init__(self, memory: MemoryStore) -> None:
        self.memory = memory

    async def id_of(self, psid: str) -> str:
        person = await self.memory.person_at(at(psid))
        return person.id if person else f"unknown:{psid}"

    async def get_person(self, psid: str) -> Person | None:
        return await self.memory.person_at(at(psid))

    async def get_connection(self, psid: str) -> Connection | None:
        return await self.memory.get_connection(await self.id_of(psid))

    async def get_grant(self, psid: str) -> Grant | None:
        connection = await self.get_connection(psid)
        return connection.grant if connection else None

    async def pending_shares(self, psid: str) -> list[Share]:
        return await self.memory.pending_shares(await self.id_of(psid))

    async def shares_sent_by(self, psid: str, limit: int) -> list[Share]:
        return await self.memory.shares_sent_by(await self.id_of(psid), limit)

    async def next_check_at(self, psid: str) -> datetime | None:
        return await self.memory.next_check_at(await self.id_of(psid))

    async def claim_due_checks(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[RecipientCheck]:
        return await self.memory.claim_due_checks(now, lease_until, limit)


@dataclass
class World:
    service: Service
    memory: MemoryStore
    chat: RecordingChat
    music: ScriptedMusic
    clock: FakeClock
    listenbrainz: ScriptedPublic
    lastfm: ScriptedPublic
    _mids: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def store(self) -> StoreByPsid:
        return StoreByPsid(self.memory)

    async def say(self, person_id: str, text: str = "", payload: str | None = None) -> None:
        """A person writes to the Page; the bot handles it as the worker would."""
        message = IncomingMessage(
            id=f"{CHANNEL}:mid.{next(self._mids)}",
            sender=at(person_id),
            received_at=self.clock.now(),
            text=text,
            payload=payload,
        )
        assert await self.service.conversation.accept([message]) == 1
        await self.service.conversation.process_inbox()

    async def register(self, person_id: str, name: str) -> None:
        await self.say(person_id, f'register name:"{name}"')
        link = self.chat.last(person_id).text.split("\n")[1]
        token = parse_qs(urlparse(link).query)["t"][0]
        url = await self.service.registration.start(token)
        state, code = self.music.approve(url, owner=person_id)
        await self.service.registration.finish(state, code, None)

    async def tick(self, seconds: float) -> None:
        """Let time pass and run every check that comes due, as the worker would."""
        self.clock.advance(seconds)
        while (await self.service.checks.run_due()).checked:
            pass


@pytest.fixture
def world() -> World:
    clock = FakeClock()
    memory, chat, music = MemoryStore(), RecordingChat(clock), ScriptedMusic(clock)
    listenbrainz, lastfm = ScriptedPublic("listenbrainz"), ScriptedPublic("lastfm")
    public = {"listenbrainz": listenbrainz, "lastfm": lastfm}
    service = Service(
        Ports(
            stores=memory.roles(),
            channels={CHANNEL: chat},
            catalog=music,
            histories={"spotify": music, **public},
            account_links={"spotify": music},
            clock=clock,
            account_lookups=public,
        ),
        schedule=SCHEDULE,
        signer=Signer("a-test-secret-key-of-some-length", clock),
        public_url="https://bot.example",
    )
    return World(service, memory, chat, music, clock, listenbrainz, lastfm)


__all__ = ["TRACKS", "ServiceError", "World"]
