"""The service over fakes: a chat that records, a music service with scripted plays."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from sendsongs.domain.models import (
    Grant,
    IncomingMessage,
    MessageKind,
    Play,
    Reply,
    Track,
)
from sendsongs.domain.schedule import Schedule
from sendsongs.errors import (
    AccessTokenRejected,
    GrantRevoked,
    NotFound,
    RecipientUnreachable,
    ServiceError,
)
from sendsongs.ports import Ports
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
    "0VjIjW4GlUZAMYd2vXMi3b": Track(
        uri="spotify:track:0VjIjW4GlUZAMYd2vXMi3b",
        name="Blinding Lights",
        artists=("The Weeknd",),
        duration_ms=200_000,
        url="https://open.spotify.com/track/0VjIjW4GlUZAMYd2vXMi3b",
        isrc="USUG11904206",
    ),
}


@dataclass
class Sent:
    person_id: str
    reply: Reply
    kind: MessageKind


@dataclass
class RecordingChat:
    clock: FakeClock
    sent: list[Sent] = field(default_factory=list)
    profiles: dict[str, str] = field(default_factory=dict)
    unreachable: set[str] = field(default_factory=set)

    async def send(self, person_id: str, reply: Reply, kind: MessageKind) -> None:
        if person_id in self.unreachable:
            raise RecipientUnreachable("outside the 24-hour window")
        self.sent.append(Sent(person_id, reply, kind))

    async def profile_name(self, person_id: str) -> str | None:
        return self.profiles.get(person_id)

    def texts(self, person_id: str) -> list[str]:
        return [s.reply.text for s in self.sent if s.person_id == person_id]

    def last(self, person_id: str) -> Reply:
        return [s.reply for s in self.sent if s.person_id == person_id][-1]


@dataclass
class ScriptedMusic:
    """Plays per access token's owner; counts calls as Spotify would bill them."""

    clock: FakeClock
    plays: dict[str, list[Play]] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # code -> owner
    owners: dict[str, str] = field(default_factory=dict)  # access token -> owner
    revoked: set[str] = field(default_factory=set)
    history_calls: list[tuple[str, datetime | None]] = field(default_factory=list)
    refreshes: int = 0
    fail_history: list[Exception] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def authorize_url(self, state: str, code_challenge: str) -> str:
        return f"https://accounts.example/authorize?state={state}&code_challenge={code_challenge}"

    def approve(self, authorize_url: str, owner: str) -> tuple[str, str]:
        """Be the person clicking Allow: returns (state, code) for the callback."""
        state = parse_qs(urlparse(authorize_url).query)["state"][0]
        code = f"code-{next(self._ids)}"
        self.codes[code] = owner
        return state, code

    def _grant(self, owner: str) -> Grant:
        access = f"access-{owner}-{next(self._ids)}"
        self.owners[access] = owner
        return Grant(
            access, f"refresh-{owner}-{next(self._ids)}", self.clock.now() + timedelta(hours=1)
        )

    async def exchange_code(self, code: str, code_verifier: str) -> Grant:
        owner = self.codes.pop(code, None)
        if owner is None:
            raise GrantRevoked("invalid_grant")
        return self._grant(owner)

    async def refresh(self, grant: Grant) -> Grant:
        owner = grant.refresh_token.removeprefix("refresh-").rsplit("-", 1)[0]
        if owner in self.revoked:
            raise GrantRevoked("invalid_grant")
        self.refreshes += 1
        return self._grant(owner)

    async def track(self, track_id: str) -> Track:
        if track_id not in TRACKS:
            raise NotFound(track_id)
        return TRACKS[track_id]

    async def recently_played(self, access_token: str, after: datetime | None) -> list[Play]:
        owner = self.owners[access_token]
        self.history_calls.append((owner, after))
        if self.fail_history:
            raise self.fail_history.pop(0)
        if owner in self.revoked:
            raise AccessTokenRejected("revoked")
        return [p for p in self.plays.get(owner, []) if after is None or p.played_at > after]

    def play(self, owner: str, track_id: str, at: datetime) -> None:
        track = TRACKS[track_id]
        self.plays.setdefault(owner, []).append(Play(track.uri, at, track.isrc))


SCHEDULE = Schedule(
    fast_interval=timedelta(minutes=5),
    fast_window=timedelta(hours=1),
    slow_interval=timedelta(hours=1),
    expire_after=timedelta(days=7),
)


@dataclass
class World:
    service: Service
    store: MemoryStore
    chat: RecordingChat
    music: ScriptedMusic
    clock: FakeClock
    _mids: itertools.count[int] = field(default_factory=itertools.count)

    async def say(self, person_id: str, text: str = "", payload: str | None = None) -> None:
        """A person writes to the Page; the bot handles it as the worker would."""
        message = IncomingMessage(
            id=f"mid.{next(self._mids)}",
            sender_id=person_id,
            received_at=self.clock.now(),
            text=text,
            payload=payload,
        )
        assert await self.service.accept([message]) == 1
        await self.service.process_inbox()

    async def register(self, person_id: str, name: str) -> None:
        await self.say(person_id, f'register name:"{name}"')
        link = self.chat.last(person_id).text.split("\n")[1]
        token = parse_qs(urlparse(link).query)["t"][0]
        url = await self.service.login.start(token)
        state, code = self.music.approve(url, owner=person_id)
        await self.service.login.finish(state, code, None)

    async def tick(self, seconds: float) -> None:
        """Let time pass and run every check that comes due, as the worker would."""
        self.clock.advance(seconds)
        while (await self.service.checks.run_due()).checked:
            pass


@pytest.fixture
def world() -> World:
    clock = FakeClock()
    store, chat, music = MemoryStore(), RecordingChat(clock), ScriptedMusic(clock)
    service = Service(
        Ports(store=store, chat=chat, music=music, clock=clock),
        schedule=SCHEDULE,
        signer=Signer("a-test-secret-key-of-some-length"),
        public_url="https://bot.example",
    )
    return World(service, store, chat, music, clock)


__all__ = ["TRACKS", "ServiceError", "World"]
