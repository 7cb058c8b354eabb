"""The fake Spotify side: listeners, their play history, development mode's allow-list,
short links, and the OAuth grants issued (kept in `spotify_grants`).

How plays reach recently-played, as on the real service: a play counts only once it
has lasted more than 30 seconds; plays in a Private Session never appear; a play made
offline (or simply lagging) appears later than its `played_at`, so the history can
gain entries older than ones already seen. The history shows the newest 50 plays.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from sendsongs.sandbox.catalog import CatalogTrack
from sendsongs.sandbox.clock import Clock, iso
from sendsongs.sandbox.config import SandboxConfig
from sendsongs.sandbox.spotify_grants import Grants

MIN_PLAY_MS = 30_000  # a play counts only once it has lasted MORE than this
HISTORY_SIZE = 50  # recently-played never reaches further back than the last 50 plays
ALLOW_LIST_LIMIT = 5  # a development-mode app admits five people since March 2026
# Spotify's plain-text 403 body for a person not on a development-mode app's list.
# Older reports (2021-2023) show "User not registered in the Developer Dashboard";
# reports from late 2024 on show this wording; tests can choose either.
NOT_REGISTERED = (
    "Check settings on developer.spotify.com/dashboard, the user may not be registered."
)
SHORT_LINK_HOSTS = ("spotify.link", "link.tospotify.com")


@dataclass
class SpotifyUser:
    id: str
    display_name: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "display_name": self.display_name}


@dataclass(frozen=True)
class PlayRecord:
    user: str
    track: CatalogTrack
    played_at_ms: int
    ms_played: int
    visible_at: float  # unix seconds from which recently-played shows it
    hidden: str | None = None  # why it never reaches the history, if it does not

    def to_json(self, now: float) -> dict[str, Any]:
        body: dict[str, Any] = {
            "track_id": self.track.id,
            "played_at": iso(self.played_at_ms / 1000),
            "ms_played": self.ms_played,
        }
        if self.hidden:
            body["hidden"] = self.hidden
        else:
            body["visible"] = self.visible_at <= now
            body["visible_at"] = iso(self.visible_at)
        return body


@dataclass
class NowPlaying:
    track: CatalogTrack
    progress_ms: int
    is_playing: bool
    since: float  # when progress_ms was true, so progress advances while playing


@dataclass
class Platform:
    """The switchable parts of how Spotify treats this app."""

    development_mode: bool = False
    allowed_users: list[str] = field(default_factory=list)
    not_registered_message: str = NOT_REGISTERED
    track_external_ids: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "development_mode": self.development_mode,
            "allowed_users": list(self.allowed_users),
            "not_registered_message": self.not_registered_message,
            "track_external_ids": self.track_external_ids,
        }


@dataclass
class ShortLink:
    host: str
    code: str
    target: str  # where the redirect lands, e.g. https://open.spotify.com/track/ID?si=...

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "code": self.code,
            "short_url": f"https://{self.host}/{self.code}",
            "sandbox_path": f"/shortlink/{self.host}/{self.code}",
            "location": self.target,
        }


def share_id() -> str:
    """A `si=` value as Spotify's share sheet appends: 22 URL-safe characters."""
    return secrets.token_urlsafe(16)[:22]


@dataclass
class SpotifyWorld:
    """Everything the fake Spotify knows; mutated only from the event loop."""

    clock: Clock
    grants: Grants
    defaults: SandboxConfig = field(default_factory=SandboxConfig)
    users: dict[str, SpotifyUser] = field(default_factory=dict)
    plays: list[PlayRecord] = field(default_factory=list)
    now_playing: dict[str, NowPlaying] = field(default_factory=dict)
    platform: Platform = field(default_factory=Platform)
    short_links: dict[tuple[str, str], ShortLink] = field(default_factory=dict)

    @classmethod
    def from_config(cls, clock: Clock, config: SandboxConfig) -> SpotifyWorld:
        grants = Grants(
            clock, config.token_ttl, config.rotate_refresh_tokens, config.refresh_token_lifetime
        )
        world = cls(clock, grants, config)
        world.platform = _platform(config)
        return world

    # -- listeners and plays --
    def add_user(self, user_id: str, display_name: str | None = None) -> SpotifyUser:
        user = self.users.get(user_id)
        if user is None:
            user = self.users[user_id] = SpotifyUser(user_id, display_name or user_id)
        elif display_name:
            user.display_name = display_name
        return user

    def record_play(
        self,
        user: str,
        track: CatalogTrack,
        played_at_ms: int,
        ms: int,
        *,
        delay: float = 0.0,
        private: bool = False,
    ) -> PlayRecord:
        """Remember a play; `delay` seconds pass before recently-played shows it."""
        hidden = None
        if private:
            hidden = "played in a Private Session, which Spotify never puts in the history"
        elif ms <= MIN_PLAY_MS:
            hidden = (
                f"played for {ms} ms; Spotify records a play only after more than"
                f" {MIN_PLAY_MS // 1000} seconds"
            )
        play = PlayRecord(user, track, played_at_ms, ms, self.clock() + delay, hidden)
        self.plays.append(play)
        return play

    def plays_of(self, user: str, *, hidden: bool = False) -> list[PlayRecord]:
        """The counted plays of `user` (or, with `hidden`, the others), newest first,
        including those not yet visible."""
        mine = [p for p in self.plays if p.user == user and (p.hidden is not None) == hidden]
        return sorted(mine, key=lambda p: p.played_at_ms, reverse=True)

    def history(self, user: str) -> list[PlayRecord]:
        """What recently-played can see now: the newest 50 visible plays, newest first."""
        now = self.clock()
        return [p for p in self.plays_of(user) if p.visible_at <= now][:HISTORY_SIZE]

    # -- development mode --
    def admits(self, user: str) -> bool:
        """Whether the app may act for `user`: always, unless development mode is on
        and the person is not on its allow-list."""
        return not self.platform.development_mode or user in self.platform.allowed_users

    # -- short links --
    def add_short_link(self, host: str, code: str, target: str) -> ShortLink:
        link = self.short_links[(host, code)] = ShortLink(host, code, target)
        return link

    def reset(self) -> None:
        self.users.clear()
        self.now_playing.clear()
        self.plays.clear()
        self.short_links.clear()
        self.grants.reset()
        self.grants.refresh_token_lifetime = self.defaults.refresh_token_lifetime
        self.platform = _platform(self.defaults)


def _platform(config: SandboxConfig) -> Platform:
    return Platform(
        development_mode=config.development_mode, allowed_users=list(config.allowed_users)
    )
