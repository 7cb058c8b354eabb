"""Control routes for the fake Spotify, under `/_sandbox/spotify`.

- `GET /users` -> `{"users": [{"id", "display_name"}]}`; `POST /users`
  `{"id": "bob", "display_name": "Bob"}` creates or renames one.
- `POST /play` `{"user": "bob", "track_id": "<22 chars>"}` records a full play now.
  Optional: `played_at` (ISO-8601) or `played_ago` (seconds before now) for when it was
  played; `visible_after` (seconds from now until recently-played shows it: a play that
  reaches the history late); `ms_played` (a play of 30 s or less never counts);
  `private_session: true` (never appears). Answers `{"recorded": true, "user",
  "track_id", "played_at", "visible_at"}` or `{"recorded": false, "reason"}`.
- `GET /users/{id}/plays` -> `{"plays": [{"track_id", "played_at", "ms_played",
  "visible", "visible_at"}], "hidden": [{"track_id", "played_at", "ms_played",
  "hidden"}]}`, newest first; `hidden` holds the plays that never count.
- `POST /users/{id}/now-playing` `{"track_id", "progress_ms", "is_playing"}` (no
  `track_id`: nothing playing).
- `POST /users/{id}/revoke`: the person removes the app -> `{"revoked_refresh_tokens": n}`.
- `GET /users/{id}/grants` -> `{"grants": [{"consented_at", "expires_at", "valid"}]}`:
  the person's refresh tokens and when each stops working.
- `POST /users/{id}/age-consent` `{"days": 183}` or `{"seconds": n}`: move the original
  consent of each of their refresh tokens back, as if they had connected that long ago.
- `POST /expire-tokens`: every access token expires now -> `{"expired": n}`.
- `GET /settings`, `POST /settings` `{"development_mode": true, "allowed_users":
  ["alice", "bob"], "not_registered_message": "...", "track_external_ids": false,
  "refresh_token_lifetime": 15811200}` (any subset): how Spotify treats the app.
  At most five allowed users, as development mode admits since March 2026.
- `GET /short-links`, `POST /short-links` `{"code": "Zq9XwV3KpLm", "host":
  "spotify.link", "track_id": "<22 chars>"}` or with `"url":
  "https://open.spotify.com/album/..."` instead of `track_id` -> `{"host", "code",
  "short_url", "sandbox_path", "location"}`.
- `GET /tracks` -> `{"tracks": [<track object>]}`: the whole catalog.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sendsongs.sandbox.catalog import TRACKS, CatalogTrack, find_track, is_base62_id
from sendsongs.sandbox.clock import iso, parse_iso
from sendsongs.sandbox.control_io import (
    ControlError,
    control,
    number_field,
    read_json,
    text_field,
)
from sendsongs.sandbox.spotify_world import (
    ALLOW_LIST_LIMIT,
    SHORT_LINK_HOSTS,
    NowPlaying,
    SpotifyWorld,
    share_id,
)
from sendsongs.sandbox.web_api import api_base, track_json

DAY = 86_400


class SpotifyControl:
    """`/_sandbox/spotify/...` handlers."""

    def __init__(self, world: SpotifyWorld) -> None:
        self.world = world

    def routes(self) -> list[Route]:
        return [
            Route("/spotify/users", control(self.list_users), methods=["GET"]),
            Route("/spotify/users", control(self.add_user), methods=["POST"]),
            Route("/spotify/play", control(self.play), methods=["POST"]),
            Route("/spotify/users/{id}/plays", control(self.plays), methods=["GET"]),
            Route("/spotify/users/{id}/revoke", control(self.revoke), methods=["POST"]),
            Route("/spotify/users/{id}/now-playing", control(self.now_playing), methods=["POST"]),
            Route("/spotify/users/{id}/grants", control(self.user_grants), methods=["GET"]),
            Route("/spotify/users/{id}/age-consent", control(self.age_consent), methods=["POST"]),
            Route("/spotify/expire-tokens", control(self.expire_tokens), methods=["POST"]),
            Route("/spotify/settings", control(self.settings), methods=["GET"]),
            Route("/spotify/settings", control(self.change_settings), methods=["POST"]),
            Route("/spotify/short-links", control(self.short_links), methods=["GET"]),
            Route("/spotify/short-links", control(self.add_short_link), methods=["POST"]),
            Route("/spotify/tracks", control(self.tracks), methods=["GET"]),
        ]

    def _known_user(self, user_id: str | None) -> str:
        if not user_id or user_id not in self.world.users:
            raise ControlError(
                f"unknown Spotify user {user_id!r}: create it with POST /_sandbox/spotify/users",
                404,
            )
        return user_id

    @staticmethod
    def _track(track_id: str | None) -> CatalogTrack:
        track = find_track(track_id or "")
        if track is None:
            raise ControlError(f"track {track_id!r} is not in the sandbox catalog", 404)
        return track

    async def list_users(self, request: Request) -> Response:
        return JSONResponse({"users": [u.to_json() for u in self.world.users.values()]})

    async def add_user(self, request: Request) -> Response:
        body = await read_json(request)
        user_id = text_field(body, "id", required=True) or ""
        return JSONResponse(
            self.world.add_user(user_id, text_field(body, "display_name")).to_json()
        )

    def _played_at(self, body: dict[str, Any]) -> float:
        played_at = text_field(body, "played_at")
        ago = number_field(body, "played_ago", None)
        if played_at and ago is not None:
            raise ControlError("give played_at or played_ago, not both")
        if ago is not None:
            return self.world.clock() - ago
        try:
            return parse_iso(played_at) if played_at else self.world.clock()
        except ValueError:
            raise ControlError("played_at must be an ISO-8601 timestamp") from None

    async def play(self, request: Request) -> Response:
        body = await read_json(request)
        user = self._known_user(text_field(body, "user", required=True))
        track = self._track(text_field(body, "track_id", required=True))
        seconds = self._played_at(body)
        ms_played = int(number_field(body, "ms_played", track.duration_ms) or 0)
        delay = number_field(body, "visible_after", 0.0) or 0.0
        if delay < 0:
            raise ControlError("visible_after must be zero or more seconds")
        private = body.get("private_session", False)
        if not isinstance(private, bool):
            raise ControlError("private_session must be true or false")
        record = self.world.record_play(
            user, track, int(seconds * 1000), ms_played, delay=delay, private=private
        )
        if record.hidden:
            return JSONResponse({"recorded": False, "reason": record.hidden})
        return JSONResponse(
            {
                "recorded": True,
                "user": user,
                "track_id": track.id,
                "played_at": iso(seconds),
                "visible_at": iso(record.visible_at),
            }
        )

    async def plays(self, request: Request) -> Response:
        user = self._known_user(request.path_params["id"])
        now = self.world.clock()
        return JSONResponse(
            {
                "plays": [p.to_json(now) for p in self.world.plays_of(user)],
                "hidden": [p.to_json(now) for p in self.world.plays_of(user, hidden=True)],
            }
        )

    async def revoke(self, request: Request) -> Response:
        user = self._known_user(request.path_params["id"])
        return JSONResponse({"revoked_refresh_tokens": self.world.grants.revoke(user)})

    async def now_playing(self, request: Request) -> Response:
        user = self._known_user(request.path_params["id"])
        body = await read_json(request)
        track_id = text_field(body, "track_id")
        if track_id is None:
            self.world.now_playing.pop(user, None)
            return JSONResponse({"playing": None})
        playing = NowPlaying(
            self._track(track_id),
            int(number_field(body, "progress_ms", 0) or 0),
            body.get("is_playing", True) is not False,
            self.world.clock(),
        )
        self.world.now_playing[user] = playing
        return JSONResponse({"playing": playing.track.id, "is_playing": playing.is_playing})

    def _grants_json(self, user: str) -> dict[str, Any]:
        grants = self.world.grants
        return {
            "grants": [
                {
                    "consented_at": iso(g.consented_at),
                    "expires_at": iso(grants.refresh_expires_at(g)),
                    "valid": g.valid and grants.refresh_expires_at(g) > self.world.clock(),
                }
                for g in grants.refresh_grants_of(user)
            ]
        }

    async def user_grants(self, request: Request) -> Response:
        return JSONResponse(self._grants_json(self._known_user(request.path_params["id"])))

    async def age_consent(self, request: Request) -> Response:
        user = self._known_user(request.path_params["id"])
        body = await read_json(request)
        days, seconds = number_field(body, "days", None), number_field(body, "seconds", None)
        if (days is None) == (seconds is None):
            raise ControlError("give days or seconds (how long ago the person consented)")
        amount = days * DAY if days is not None else seconds or 0.0
        if amount < 0:
            raise ControlError("consent can only be moved into the past")
        self.world.grants.age_consent(user, amount)
        return JSONResponse(self._grants_json(user))

    async def expire_tokens(self, request: Request) -> Response:
        return JSONResponse({"expired": self.world.grants.expire_access_tokens()})

    def _settings_json(self) -> dict[str, Any]:
        return {
            **self.world.platform.to_json(),
            "refresh_token_lifetime": self.world.grants.refresh_token_lifetime,
        }

    async def settings(self, request: Request) -> Response:
        return JSONResponse(self._settings_json())

    async def change_settings(self, request: Request) -> Response:
        body = await read_json(request)
        platform = self.world.platform
        for flag in ("development_mode", "track_external_ids"):
            if flag in body:
                if not isinstance(body[flag], bool):
                    raise ControlError(f"{flag} must be true or false")
                setattr(platform, flag, body[flag])
        if "allowed_users" in body:
            allowed = body["allowed_users"]
            if not isinstance(allowed, list) or not all(isinstance(u, str) and u for u in allowed):
                raise ControlError("allowed_users must be a list of Spotify user ids")
            if len(set(allowed)) > ALLOW_LIST_LIMIT:
                raise ControlError(
                    f"a development-mode app admits at most {ALLOW_LIST_LIMIT} users"
                )
            platform.allowed_users = list(dict.fromkeys(allowed))
        message = text_field(body, "not_registered_message")
        if message:
            platform.not_registered_message = message
        lifetime = number_field(body, "refresh_token_lifetime", None)
        if lifetime is not None:
            if lifetime <= 0:
                raise ControlError("refresh_token_lifetime must be a positive number of seconds")
            self.world.grants.refresh_token_lifetime = int(lifetime)
        return JSONResponse(self._settings_json())

    async def short_links(self, request: Request) -> Response:
        return JSONResponse(
            {"short_links": [link.to_json() for link in self.world.short_links.values()]}
        )

    async def add_short_link(self, request: Request) -> Response:
        body = await read_json(request)
        host = text_field(body, "host") or SHORT_LINK_HOSTS[0]
        if host not in SHORT_LINK_HOSTS:
            raise ControlError(f"host must be one of {', '.join(SHORT_LINK_HOSTS)}")
        code = text_field(body, "code") or secrets.token_urlsafe(8)[:11]
        if not code.replace("-", "").replace("_", "").isalnum():
            raise ControlError("code must be letters and digits")
        track_id, url = text_field(body, "track_id"), text_field(body, "url")
        if (track_id is None) == (url is None):
            raise ControlError("give track_id or url (where the link lands)")
        if track_id is not None:
            if not is_base62_id(track_id):
                raise ControlError("track_id must be a 22-character Spotify id")
            target = f"https://open.spotify.com/track/{track_id}?si={share_id()}"
        else:
            target = url or ""
            if not target.startswith(("https://", "http://")):
                raise ControlError("url must be an absolute http(s) URL")
        return JSONResponse(self.world.add_short_link(host, code, target).to_json())

    async def tracks(self, request: Request) -> Response:
        base = api_base(request)
        return JSONResponse({"tracks": [track_json(t, base) for t in TRACKS]})
