"""SpotifyClient over MockTransport: requests it makes, answers it understands."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sendsongs.adapters.spotify import SpotifyClient
from sendsongs.domain.models import Grant, Play
from sendsongs.errors import (
    AccessTokenRejected,
    GrantRevoked,
    NotFound,
    RateLimited,
    ServiceError,
    TransientError,
)
from sendsongs.sandbox.app import create_sandbox_app
from sendsongs.sandbox.config import SandboxConfig

ACCOUNTS = "https://accounts.test"
API = "https://api.test/v1"
TRACK_ID = "46X0dXeliHXD73sxexJx7d"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


def client(handler: Handler, clock: FakeClock | None = None) -> SpotifyClient:
    return SpotifyClient(
        httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        accounts_url=ACCOUNTS,
        api_url=API,
        client_id="the-client",
        client_secret="the-secret",
        redirect_uri="https://bot.test/spotify/callback",
        clock=clock or FakeClock(),
    )


def form(request: httpx.Request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(request.content.decode()).items()}


def token_answer(
    access: str = "acc-1", refresh: str | None = "ref-1", expires_in: int = 3600
) -> httpx.Response:
    body: dict[str, Any] = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": expires_in,
    }
    if refresh is not None:
        body["refresh_token"] = refresh
    return httpx.Response(200, json=body)


def track_body(track_id: str = TRACK_ID) -> dict[str, Any]:
    return {
        "id": track_id,
        "uri": f"spotify:track:{track_id}",
        "name": "Happy Now",
        "artists": [{"name": "Kygo"}, {"name": "Sandro Cavazza"}],
        "duration_ms": 211_000,
        "external_urls": {"spotify": f"https://open.spotify.com/track/{track_id}"},
        "external_ids": {"isrc": "SEBGA1800123"},
    }


def play_item(uri: str, played_at: str, isrc: str | None = None) -> dict[str, Any]:
    track: dict[str, Any] = {"uri": uri, "name": "x"}
    if isrc:
        track["external_ids"] = {"isrc": isrc}
    return {"track": track, "played_at": played_at, "context": None}


# -- authorization --


def test_authorize_url_carries_pkce_and_app_parameters() -> None:
    url = client(lambda r: httpx.Response(500)).authorize_url("st4te", "chall-enge")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{ACCOUNTS}/authorize"
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert query == {
        "client_id": "the-client",
        "response_type": "code",
        "redirect_uri": "https://bot.test/spotify/callback",
        "state": "st4te",
        "scope": "user-read-recently-played",
        "code_challenge_method": "S256",
        "code_challenge": "chall-enge",
    }


async def test_exchange_code_posts_form_with_basic_auth() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return token_answer()

    grant = await client(handler).exchange_code("the-code", "the-verifier")
    assert grant == Grant("acc-1", "ref-1", T0 + timedelta(hours=1))
    (request,) = seen
    assert request.method == "POST" and str(request.url) == f"{ACCOUNTS}/api/token"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    expected = base64.b64encode(b"the-client:the-secret").decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert form(request) == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": "https://bot.test/spotify/callback",
        "code_verifier": "the-verifier",
    }


async def test_exchange_code_refused_is_grant_revoked() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"error": "invalid_grant", "error_description": "Invalid authorization code"}
        return httpx.Response(400, json=body)

    with pytest.raises(GrantRevoked):
        await client(handler).exchange_code("used-code", "v")


async def test_bad_client_credentials_are_not_a_token_rejection() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "invalid_client"})

    with pytest.raises(ServiceError) as caught:
        await client(handler).exchange_code("c", "v")
    assert not isinstance(caught.value, AccessTokenRejected)
    assert "the-secret" not in str(caught.value)


async def test_refresh_keeps_old_refresh_token_when_none_is_returned() -> None:
    clock = FakeClock()
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(form(request))
        return token_answer("acc-2", refresh=None, expires_in=1800)

    old = Grant("acc-1", "ref-old", T0)
    clock.current = T0 + timedelta(minutes=5)
    grant = await client(handler, clock).refresh(old)
    assert seen == [{"grant_type": "refresh_token", "refresh_token": "ref-old"}]
    assert grant == Grant("acc-2", "ref-old", clock.current + timedelta(minutes=30))


async def test_refresh_stores_a_rotated_refresh_token() -> None:
    grant = await client(lambda r: token_answer("acc-2", "ref-new")).refresh(
        Grant("acc-1", "ref-old", T0)
    )
    assert grant.refresh_token == "ref-new" and grant.access_token == "acc-2"


async def test_refresh_of_revoked_grant_is_grant_revoked() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": "invalid_grant", "error_description": "Revoked"})

    with pytest.raises(GrantRevoked) as caught:
        await client(handler).refresh(Grant("acc-secret", "ref-secret", T0))
    assert "secret" not in str(caught.value)


async def test_token_response_without_access_token_is_transient() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"token_type": "Bearer"})

    with pytest.raises(TransientError):
        await client(handler).refresh(Grant("a", "r", T0))


# -- track lookups --


class TrackServer:
    """Accounts + tracks endpoints; counts token requests."""

    def __init__(self) -> None:
        self.token_requests = 0
        self.reject: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/token":
            assert form(request) == {"grant_type": "client_credentials"}
            self.token_requests += 1
            return token_answer(f"app-{self.token_requests}", refresh=None)
        token = request.headers["authorization"].removeprefix("Bearer ")
        if token in self.reject:
            return httpx.Response(401, json={"error": {"status": 401, "message": "expired"}})
        track_id = request.url.path.rsplit("/", 1)[-1]
        return httpx.Response(200, json=track_body(track_id))


async def test_track_maps_fields() -> None:
    track = await client(TrackServer()).track(TRACK_ID)
    assert track.uri == f"spotify:track:{TRACK_ID}"
    assert track.name == "Happy Now"
    assert track.artists == ("Kygo", "Sandro Cavazza")
    assert track.duration_ms == 211_000
    assert track.url == f"https://open.spotify.com/track/{TRACK_ID}"
    assert track.isrc == "SEBGA1800123"


async def test_track_without_external_url_or_isrc_gets_defaults() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/token":
            return token_answer(refresh=None)
        body = track_body()
        del body["external_urls"], body["external_ids"]
        return httpx.Response(200, json=body)

    track = await client(handler).track(TRACK_ID)
    assert track.url == f"https://open.spotify.com/track/{TRACK_ID}"
    assert track.isrc is None


async def test_app_token_is_cached_until_shortly_before_expiry() -> None:
    server, clock = TrackServer(), FakeClock()
    spotify = client(server, clock)
    for _ in range(5):
        await spotify.track(TRACK_ID)
    assert server.token_requests == 1
    clock.current = T0 + timedelta(minutes=50)
    await spotify.track(TRACK_ID)
    assert server.token_requests == 1
    clock.current = T0 + timedelta(minutes=59, seconds=30)  # inside the safety margin
    await spotify.track(TRACK_ID)
    assert server.token_requests == 2


async def test_concurrent_lookups_share_one_token_request() -> None:
    server = TrackServer()
    spotify = client(server)
    tracks = await asyncio.gather(*(spotify.track(TRACK_ID) for _ in range(10)))
    assert len(tracks) == 10 and server.token_requests == 1


async def test_rejected_app_token_is_replaced_once() -> None:
    server = TrackServer()
    spotify = client(server)
    await spotify.track(TRACK_ID)
    server.reject.add("app-1")
    track = await spotify.track(TRACK_ID)
    assert track.name == "Happy Now" and server.token_requests == 2


async def test_app_token_rejected_twice_gives_up() -> None:
    server = TrackServer()
    server.reject.update({"app-1", "app-2"})
    with pytest.raises(ServiceError):
        await client(server).track(TRACK_ID)
    assert server.token_requests == 2


@pytest.mark.parametrize(("status", "message"), [(404, "Non existing id"), (400, "invalid id")])
async def test_unknown_track_is_not_found(status: int, message: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/token":
            return token_answer(refresh=None)
        return httpx.Response(status, json={"error": {"status": status, "message": message}})

    with pytest.raises(NotFound):
        await client(handler).track("0000000000000000000000")


async def test_track_id_that_is_not_base62_never_reaches_the_wire() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    with pytest.raises(NotFound):
        await client(handler).track("../me/player")


# -- recently played --


async def test_recently_played_sends_cursor_and_returns_oldest_first() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        items = [
            play_item("spotify:track:B", "2024-05-01T12:10:00.500Z", isrc="ISRC-B"),
            play_item("spotify:track:A", "2024-05-01T12:05:00Z"),
        ]
        return httpx.Response(200, json={"items": items, "cursors": {"after": "1"}, "limit": 50})

    after = T0
    plays = await client(handler).recently_played("user-token", after)
    assert plays == [
        Play("spotify:track:A", datetime(2024, 5, 1, 12, 5, tzinfo=UTC)),
        Play("spotify:track:B", datetime(2024, 5, 1, 12, 10, 0, 500_000, tzinfo=UTC), "ISRC-B"),
    ]
    assert all(play.played_at.tzinfo is not None for play in plays)
    (request,) = seen
    assert request.url.path == "/v1/me/player/recently-played"
    assert request.url.params["limit"] == "50"
    assert request.url.params["after"] == str(int(T0.timestamp() * 1000))
    assert request.headers["authorization"] == "Bearer user-token"


async def test_recently_played_without_cursor_omits_after() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": []})

    assert await client(handler).recently_played("t", None) == []
    assert "after" not in seen[0].url.params


async def test_recently_played_skips_items_without_track() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        items = [{"track": None, "played_at": "2024-05-01T12:05:00Z"}]
        return httpx.Response(200, json={"items": items})

    assert await client(handler).recently_played("t", T0) == []


async def test_recently_played_keeps_only_plays_after_the_cursor() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        items = [
            play_item("spotify:track:new", "2024-05-01T12:00:00.001Z"),
            play_item("spotify:track:seen", "2024-05-01T12:00:00Z"),
        ]
        return httpx.Response(200, json={"items": items})

    plays = await client(handler).recently_played("t", T0)
    assert [play.track_uri for play in plays] == ["spotify:track:new"]


@pytest.mark.parametrize("played_at", [None, 17, "yesterday"])
async def test_recently_played_with_bad_played_at_is_transient(played_at: object) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        item = {"track": {"uri": "spotify:track:A"}, "played_at": played_at}
        return httpx.Response(200, json={"items": [item]})

    with pytest.raises(TransientError):
        await client(handler).recently_played("t", T0)


async def test_recently_played_401_is_access_token_rejected() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"error": {"status": 401, "message": "The access token expired"}}
        return httpx.Response(401, json=body)

    with pytest.raises(AccessTokenRejected) as caught:
        await client(handler).recently_played("very-secret-token", T0)
    assert "very-secret-token" not in str(caught.value)


# -- errors common to every call --

CALLS: dict[str, Callable[[SpotifyClient], Any]] = {
    "exchange_code": lambda s: s.exchange_code("c", "v"),
    "refresh": lambda s: s.refresh(Grant("a", "r", T0)),
    "track": lambda s: s.track(TRACK_ID),
    "recently_played": lambda s: s.recently_played("t", T0),
}


def failing(answer: Callable[[httpx.Request], httpx.Response]) -> Handler:
    """Token requests for app credentials succeed; the call under test fails."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/token" and b"client_credentials" in request.content:
            return token_answer(refresh=None)
        return answer(request)

    return handler


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize(("header", "expected"), [("7", 7.0), (None, 1.0), ("soon", 1.0)])
async def test_429_is_rate_limited_with_retry_after(
    call: str, header: str | None, expected: float
) -> None:
    headers = {"Retry-After": header} if header else {}
    spotify = client(failing(lambda r: httpx.Response(429, headers=headers)))
    with pytest.raises(RateLimited) as caught:
        await CALLS[call](spotify)
    assert caught.value.retry_after == expected


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize(
    "answer",
    [
        lambda r: httpx.Response(500),
        lambda r: httpx.Response(503, text="<html>busy</html>"),
        lambda r: httpx.Response(200, text="{not json"),
        lambda r: httpx.Response(200, json=["an", "array"]),
    ],
    ids=["500", "503", "bad-json", "json-array"],
)
async def test_server_errors_and_malformed_bodies_are_transient(call: str, answer: Handler) -> None:
    with pytest.raises(TransientError) as caught:
        await CALLS[call](client(failing(answer)))
    assert not isinstance(caught.value, RateLimited)


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("eh")],
    ids=["connect", "timeout", "protocol"],
)
async def test_network_failures_are_transient(call: str, error: httpx.RequestError) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise error

    with pytest.raises(TransientError):
        await CALLS[call](client(failing(answer)))


async def test_other_client_errors_are_service_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"error": {"status": 403, "message": "Insufficient scope"}})

    with pytest.raises(ServiceError) as caught:
        await client(handler).recently_played("t", T0)
    assert "Insufficient scope" in str(caught.value)
    assert not isinstance(caught.value, TransientError | AccessTokenRejected)


# -- against the sandbox, in-process --


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


async def test_sandbox_link_play_refresh_and_revoke() -> None:
    config = SandboxConfig()
    transport = httpx.ASGITransport(app=create_sandbox_app(config))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as http:
        spotify = SpotifyClient(
            http,
            accounts_url="http://sandbox.test",
            api_url="http://sandbox.test/v1",
            client_id=config.client_id,
            client_secret=config.client_secret,
            redirect_uri="http://bot.test/spotify/callback",
            clock=SystemClock(),
        )
        verifier = "v" * 64
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        consent = urlsplit(spotify.authorize_url("st4te", challenge.decode().rstrip("=")))
        form_fields = {key: values[0] for key, values in parse_qs(consent.query).items()}
        answer = await http.post(
            consent.path, data={**form_fields, "new_user": "alice", "decision": "allow"}
        )
        assert answer.status_code == 302, answer.text
        code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]

        grant = await spotify.exchange_code(code, verifier)
        with pytest.raises(GrantRevoked):  # a code is good once
            await spotify.exchange_code(code, verifier)

        track = await spotify.track(TRACK_ID)
        assert track.uri == f"spotify:track:{TRACK_ID}" and track.isrc
        with pytest.raises(NotFound):
            await spotify.track("0000000000000000000000")

        before = datetime.now(UTC) - timedelta(minutes=10)
        played = await http.post(
            "/_sandbox/spotify/play",
            json={"user": "alice", "track_id": TRACK_ID},
        )
        assert played.json()["recorded"] is True
        plays = await spotify.recently_played(grant.access_token, before)
        assert [play.track_uri for play in plays] == [track.uri]
        assert plays[0].isrc == track.isrc

        await http.post("/_sandbox/spotify/expire-tokens")
        with pytest.raises(AccessTokenRejected):
            await spotify.recently_played(grant.access_token, before)
        fault = {"path_prefix": "/v1/me/player", "status": 429, "retry_after": 3}
        await http.post("/_sandbox/faults", json=fault)
        with pytest.raises(RateLimited) as limited:
            await spotify.recently_played(grant.access_token, before)
        assert limited.value.retry_after == 3

        refreshed = await spotify.refresh(grant)
        assert refreshed.access_token != grant.access_token
        await http.post("/_sandbox/spotify/users/alice/revoke")
        with pytest.raises(GrantRevoked):
            await spotify.refresh(refreshed)
