"""Control routes for the fake Spotify: listeners, plays, revoked grants, expired tokens."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sendsongs.sandbox.catalog import TRACKS, CatalogTrack, find_track
from sendsongs.sandbox.clock import iso, parse_iso
from sendsongs.sandbox.control_io import (
    ControlError,
    control,
    number_field,
    read_json,
    text_field,
)
from sendsongs.sandbox.spotify_world import MIN_PLAY_MS, NowPlaying, SpotifyWorld
from sendsongs.sandbox.web_api import api_base, track_json


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
            Route("/spotify/expire-tokens", control(self.expire_tokens), methods=["POST"]),
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

    async def play(self, request: Request) -> Response:
        body = await read_json(request)
        user = self._known_user(text_field(body, "user", required=True))
        track = self._track(text_field(body, "track_id", required=True))
        played_at = text_field(body, "played_at")
        try:
            seconds = parse_iso(played_at) if played_at else self.world.clock()
        except ValueError:
            raise ControlError("played_at must be an ISO-8601 timestamp") from None
        ms_played = int(number_field(body, "ms_played", track.duration_ms) or 0)
        if not self.world.record_play(user, track, int(seconds * 1000), ms_played):
            return JSONResponse(
                {
                    "recorded": False,
                    "reason": f"played for {ms_played} ms; Spotify records a play only"
                    f" after {MIN_PLAY_MS // 1000} seconds",
                }
            )
        return JSONResponse(
            {"recorded": True, "user": user, "track_id": track.id, "played_at": iso(seconds)}
        )

    async def plays(self, request: Request) -> Response:
        user = self._known_user(request.path_params["id"])
        return JSONResponse(
            {
                "plays": [
                    {
                        "track_id": p.track.id,
                        "played_at": iso(p.played_at_ms / 1000),
                        "ms_played": p.ms_played,
                    }
                    for p in self.world.plays_of(user)
                ]
            }
        )

    async def revoke(self, request: Request) -> Response:
        user = self._known_user(request.path_params["id"])
        return JSONResponse({"revoked_refresh_tokens": self.world.revoke(user)})

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

    async def expire_tokens(self, request: Request) -> Response:
        return JSONResponse({"expired": self.world.expire_access_tokens()})

    async def tracks(self, request: Request) -> Response:
        base = api_base(request)
        return JSONResponse({"tracks": [track_json(t, base) for t in TRACKS]})
