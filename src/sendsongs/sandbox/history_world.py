"""The fake play-history services' people and listens (one world per service)."""

from __future__ import annotations

import secrets
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sendsongs.sandbox.clock import Clock

NOW_PLAYING_TTL = 600  # seconds a now-playing entry without a duration lasts
CALL_LOG_SIZE = 200  # calls kept for `/_sandbox/<service>/calls`


@dataclass
class HistoryUser:
    name: str
    registered: int  # unix seconds
    realname: str = ""
    private: bool = False  # Last.fm's "Hide recent listening information"
    token: str = field(default_factory=lambda: str(uuid.uuid4()))  # a ListenBrainz user token

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "realname": self.realname,
            "private": self.private,
            "token": self.token,
            "registered": self.registered,
        }


@dataclass(frozen=True)
class Listen:
    """One finished listen (scrobble) as the submitting client sent it."""

    user: str
    artist: str
    title: str
    listened_at: int  # unix seconds: when playback started
    visible_at: float  # when the service has stored it (import lag)
    album: str = ""
    duration_ms: int | None = None
    spotify_id: str | None = None  # ListenBrainz stores the track URL here
    isrc: str | None = None
    recording_mbid: str | None = None  # as submitted
    mapped_recording_mbid: str | None = None  # found later by the service's own mapper
    artist_mbids: tuple[str, ...] = ()
    music_service: str | None = None
    submission_client: str | None = None

    @property
    def msid(self) -> str:
        """A stable MessyBrainz-like id for this artist and title."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"msid:{self.artist}\n{self.title}"))

    @property
    def mbid(self) -> str | None:
        """The recording MBID the service answers with: the submitted one wins."""
        return self.recording_mbid or self.mapped_recording_mbid

    def to_json(self, now: float) -> dict[str, Any]:
        return {
            "user": self.user,
            "artist": self.artist,
            "title": self.title,
            "album": self.album,
            "listened_at": self.listened_at,
            "visible_at": int(self.visible_at),
            "visible": self.visible_at <= now,
            "duration_ms": self.duration_ms,
            "spotify_id": self.spotify_id,
            "isrc": self.isrc,
            "recording_mbid": self.recording_mbid,
            "mapped_recording_mbid": self.mapped_recording_mbid,
            "artist_mbids": list(self.artist_mbids),
            "music_service": self.music_service,
            "submission_client": self.submission_client,
        }


@dataclass
class NowPlaying:
    listen: Listen
    until: float

    def to_json(self) -> dict[str, Any]:
        return {"artist": self.listen.artist, "title": self.listen.title, "until": int(self.until)}


@dataclass
class HistoryWorld:
    """Users, listens and now-playing entries of one service; mutated on the event loop."""

    clock: Clock
    users: dict[str, HistoryUser] = field(default_factory=dict)  # by lower-cased name
    listens: list[Listen] = field(default_factory=list)
    now_playing: dict[str, NowPlaying] = field(default_factory=dict)
    calls: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=CALL_LOG_SIZE))

    def add_user(
        self, name: str, realname: str | None = None, private: bool | None = None
    ) -> HistoryUser:
        user = self.users.get(name.lower())
        if user is None:
            user = HistoryUser(name, int(self.clock()))
            self.users[name.lower()] = user
        if realname is not None:
            user.realname = realname
        if private is not None:
            user.private = private
        return user

    def find_user(self, name: str) -> HistoryUser | None:
        """Both services match user names without regard to case."""
        return self.users.get(name.lower())

    def user_by_token(self, token: str) -> HistoryUser | None:
        return next(
            (u for u in self.users.values() if secrets.compare_digest(u.token, token)), None
        )

    def add(self, listen: Listen) -> None:
        self.listens.append(listen)

    def start_playing(self, listen: Listen) -> NowPlaying:
        seconds = (listen.duration_ms or NOW_PLAYING_TTL * 1000) / 1000
        playing = NowPlaying(listen, self.clock() + seconds)
        self.now_playing[listen.user.lower()] = playing
        return playing

    def playing(self, user: str) -> Listen | None:
        entry = self.now_playing.get(user.lower())
        if entry is None or entry.until <= self.clock():
            return None
        return entry.listen

    def all_listens(self, user: str) -> list[Listen]:
        """Every listen of `user`, stored or still on its way, newest first."""
        mine = [item for item in self.listens if item.user.lower() == user.lower()]
        return sorted(mine, key=lambda item: item.listened_at, reverse=True)

    def history(self, user: str) -> list[Listen]:
        """The listens the service has stored by now, newest first."""
        now = self.clock()
        return [item for item in self.all_listens(user) if item.visible_at <= now]

    def log_call(self, entry: dict[str, Any]) -> None:
        self.calls.append({"at": self.clock(), **entry})

    def reset(self) -> None:
        self.users.clear()
        self.listens.clear()
        self.now_playing.clear()
        self.calls.clear()
