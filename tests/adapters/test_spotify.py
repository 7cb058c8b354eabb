"""The Spotify source over MockTransport: SpotifyClient's requests and answers, and
the ports over it (SpotifyHistory, SpotifyAccountLink, SpotifyCatalog)."""

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

from sendsongs.domain.models import Connection, Grant, Play
from sendsongs.errors import (
    AccessRefused,
    AccessTokenRejected,
    GrantRevoked,
    NotFound,
    RateLimited,
    ServiceError,
    TransientError,
)
from sendsongs.ports import History, LinkedAccount
from sendsongs.sandbox.app import create_sandbox_app
from sendsongs.sandbox.config import SandboxConfig
from sendsongs.sources.spotify.account_link import SpotifyAccountLink
from sendsongs.sources.spotify.catalog import SpotifyCatalog
from sendsongs.sources.spotify.client import MAX_PAGES, PAGE_SIZE, SpotifyClient
from sendsongs.sources.spotify.history import SpotifyHistory

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
    assert grant == Grant("acc-1", "ref-1", T0 + timedelta(hours=1), consented_at=T0)
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

    consented = T0 - timedelta(days=30)
    old = Grant("acc-1", "ref-old", T0, consented_at=consented)
    clock.current = T0 + timedelta(minutes=5)
    grant = await client(handler, clock).refresh(old)
    assert seen == [{"grant_type": "refresh_token", "refresh_token": "ref-old"}]
    assert grant == Grant(
        "acc-2", "ref-old", clock.current + timedelta(minutes=30), consented_at=consented
    )


async def test_refresh_stores_a_rotated_refresh_token_and_keeps_the_consent_time() -> None:
    # A rotated refresh token still dies six months after the original consent.
    consented = T0 - timedelta(days=100)
    grant = await client(lambda r: token_answer("acc-2", "ref-new")).refresh(
        Grant("acc-1", "ref-old", T0, consented_at=consented)
    )
    assert grant.refresh_token == "ref-new" and grant.access_token == "acc-2"
    assert grant.consented_at == consented


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


# -- recently played: the window since `since`, newest page first --


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class HistoryServer:
    """recently-played as Spotify pages it: newest first, `before` a unix-ms cursor
    (exclusive, or inclusive to repeat the boundary play), `limit` at most 50.
    Serves the token endpoint too, for SpotifyHistory's refreshes."""

    def __init__(self, *plays: tuple[str, datetime], inclusive_before: bool = False) -> None:
        self.plays = list(plays)
        self.inclusive_before = inclusive_before
        self.requests: list[httpx.Request] = []
        self.refreshes: list[dict[str, str]] = []
        self.valid_tokens = {"acc-1"}
        self.refresh_answers: list[httpx.Response] = []
        self.history_failure: httpx.Response | None = None

    def play(self, uri: str, played_at: datetime) -> None:
        self.plays.append((uri, played_at))

    @property
    def history_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith("/recently-played")]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/api/token":
            self.refreshes.append(form(request))
            answer = self.refresh_answers.pop(0) if self.refresh_answers else token_answer()
            if answer.status_code == 200:
                self.valid_tokens.add(answer.json()["access_token"])
            return answer
        token = request.headers["authorization"].removeprefix("Bearer ")
        if token not in self.valid_tokens:
            return httpx.Response(401, json={"error": {"status": 401, "message": "expired"}})
        if self.history_failure is not None:
            return self.history_failure
        assert request.url.path == "/v1/me/player/recently-played"
        assert "after" not in request.url.params
        limit = int(request.url.params["limit"])
        before = request.url.params.get("before")
        newest_first = sorted(self.plays, key=lambda play: play[1], reverse=True)
        if before is not None:
            cursor = int(before)
            newest_first = [
                play
                for play in newest_first
                if ms(play[1]) < cursor or (self.inclusive_before and ms(play[1]) == cursor)
            ]
        page = newest_first[:limit]
        return httpx.Response(200, json={"items": [play_item(u, iso(at)) for u, at in page]})


def every_minute(count: int, start: datetime = T0, prefix: str = "t") -> list[tuple[str, datetime]]:
    return [(f"spotify:track:{prefix}{i}", start + timedelta(minutes=i)) for i in range(count)]


async def test_recently_played_reads_the_newest_page_and_returns_oldest_first() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        items = [
            play_item("spotify:track:B", "2024-05-01T12:10:00.500Z", isrc="ISRC-B"),
            play_item("spotify:track:A", "2024-05-01T12:05:00Z"),
        ]
        return httpx.Response(200, json={"items": items, "cursors": {"after": "1"}, "limit": 50})

    plays = await client(handler).recently_played("user-token", T0)
    assert plays == [
        Play(datetime(2024, 5, 1, 12, 5, tzinfo=UTC), "spotify:track:A"),
        Play(
            datetime(2024, 5, 1, 12, 10, 0, 500_000, tzinfo=UTC),
            "spotify:track:B",
            isrc="ISRC-B",
        ),
    ]
    assert all(play.played_at.tzinfo is not None for play in plays)
    (request,) = seen  # a short page is the whole history: no paging back
    assert request.url.path == "/v1/me/player/recently-played"
    assert dict(request.url.params) == {"limit": str(PAGE_SIZE)}  # no `after`, no `before`
    assert request.headers["authorization"] == "Bearer user-token"


async def test_recently_played_maps_duration_and_offsets() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        item = play_item("spotify:track:A", "2024-05-01T14:05:00+02:00")
        item["track"]["duration_ms"] = 211_000
        naive = play_item("spotify:track:B", "2024-05-01T12:06:00")
        return httpx.Response(200, json={"items": [naive, item]})

    first, second = await client(handler).recently_played("t", T0)
    assert first == Play(T0 + timedelta(minutes=5), "spotify:track:A", duration_ms=211_000)
    assert second == Play(T0 + timedelta(minutes=6), "spotify:track:B")


async def test_recently_played_with_no_history_is_empty() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": []})

    assert await client(handler).recently_played("t", T0) == []
    assert len(seen) == 1


async def test_recently_played_skips_items_without_track() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        items = [{"track": None, "played_at": "2024-05-01T12:05:00Z"}]
        return httpx.Response(200, json={"items": items})

    assert await client(handler).recently_played("t", T0) == []


async def test_recently_played_keeps_only_plays_since() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        items = [
            play_item("spotify:track:new", "2024-05-01T12:00:00.001Z"),
            play_item("spotify:track:at", "2024-05-01T12:00:00Z"),
            play_item("spotify:track:old", "2024-05-01T11:59:59.999Z"),
        ]
        return httpx.Response(200, json={"items": items})

    plays = await client(handler).recently_played("t", T0)
    assert [play.track_uri for play in plays] == ["spotify:track:at", "spotify:track:new"]


async def test_a_late_play_with_an_older_timestamp_is_read_next_time() -> None:
    # Offline listening reaches the history late, with its real, earlier played_at:
    # here behind more than a page of newer plays. Reading the whole window since
    # the share (not plays `after` the newest one seen) still finds it.
    server = HistoryServer(*every_minute(60, start=T0 + timedelta(minutes=10)))
    spotify = client(server)
    first = await spotify.recently_played("acc-1", T0)
    assert len(first) == 60 and "spotify:track:late" not in {p.track_uri for p in first}

    server.play("spotify:track:late", T0 + timedelta(minutes=5))
    second = await spotify.recently_played("acc-1", T0)
    assert len(second) == 61
    assert second[0] == Play(T0 + timedelta(minutes=5), "spotify:track:late")
    assert second[1:] == first


async def test_paging_back_with_before_stops_at_since() -> None:
    server = HistoryServer(*every_minute(120))  # T0 .. T0+119 min
    since = T0 + timedelta(minutes=60)
    plays = await client(server).recently_played("acc-1", since)
    assert [play.played_at for play in plays] == [since + timedelta(minutes=i) for i in range(60)]
    first, second = server.history_requests  # the second page reaches past `since`
    assert "before" not in first.url.params
    # the first page is T0+70 .. T0+119: the next one starts before its oldest play
    assert second.url.params["before"] == str(ms(T0 + timedelta(minutes=70)))
    assert second.url.params["limit"] == str(PAGE_SIZE)


async def test_paging_back_stops_at_a_short_page() -> None:
    server = HistoryServer(*every_minute(PAGE_SIZE + 10))
    plays = await client(server).recently_played("acc-1", T0 - timedelta(days=1))
    assert len(plays) == PAGE_SIZE + 10
    assert len(server.history_requests) == 2


async def test_paging_back_reads_at_most_max_pages() -> None:
    server = HistoryServer(*every_minute(PAGE_SIZE * (MAX_PAGES + 2)))
    plays = await client(server).recently_played("acc-1", T0)
    assert len(server.history_requests) == MAX_PAGES
    assert len(plays) == PAGE_SIZE * MAX_PAGES
    assert plays[-1].played_at == T0 + timedelta(minutes=PAGE_SIZE * (MAX_PAGES + 2) - 1)
    assert plays == sorted(plays, key=lambda play: play.played_at)


async def test_a_play_seen_on_two_pages_is_returned_once() -> None:
    # A `before` cursor that includes the boundary play repeats it on the next page.
    server = HistoryServer(*every_minute(80), inclusive_before=True)
    plays = await client(server).recently_played("acc-1", T0)
    assert len(server.history_requests) == 2
    assert [play.played_at for play in plays] == [T0 + timedelta(minutes=i) for i in range(80)]


async def test_a_full_page_with_an_item_without_track_still_pages_back() -> None:
    server = HistoryServer(*every_minute(100))

    def handler(request: httpx.Request) -> httpx.Response:
        answer = server(request)
        body = answer.json()
        if "before" not in request.url.params:  # the newest page: one removed track
            body["items"][10]["track"] = None
        return httpx.Response(200, json=body)

    plays = await client(handler).recently_played("acc-1", T0)
    assert len(server.history_requests) >= 2
    assert len(plays) == 99  # every play since T0 but the removed one


async def test_the_same_track_at_different_times_is_two_plays() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        items = [
            play_item("spotify:track:A", "2024-05-01T12:10:00Z"),
            play_item("spotify:track:A", "2024-05-01T12:05:00Z"),
            play_item("spotify:track:A", "2024-05-01T12:05:00Z"),  # the same play twice
        ]
        return httpx.Response(200, json={"items": items})

    plays = await client(handler).recently_played("t", T0)
    assert [play.played_at.minute for play in plays] == [5, 10]


@pytest.mark.parametrize("played_at", [None, 17, "yesterday"])
async def test_recently_played_with_bad_played_at_is_transient(played_at: object) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        item = {"track": {"uri": "spotify:track:A"}, "played_at": played_at}
        return httpx.Response(200, json={"items": [item]})

    with pytest.raises(TransientError):
        await client(handler).recently_played("t", T0)


async def test_recently_played_without_items_list_is_transient() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"cursors": None})

    with pytest.raises(TransientError):
        await client(handler).recently_played("t", T0)


async def test_recently_played_401_is_access_token_rejected() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"error": {"status": 401, "message": "The access token expired"}}
        return httpx.Response(401, json=body)

    with pytest.raises(AccessTokenRejected) as caught:
        await client(handler).recently_played("very-secret-token", T0)
    assert "very-secret-token" not in str(caught.value)


# -- the person's account id (`GET /v1/me`) --


async def test_account_id_reads_v1_me() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "wizzler", "display_name": "Wiz", "type": "user"})

    assert await client(handler).account_id("user-token") == "wizzler"
    (request,) = seen
    assert request.method == "GET" and str(request.url) == f"{API}/me"
    assert request.headers["authorization"] == "Bearer user-token"


@pytest.mark.parametrize("body", [{}, {"id": ""}, {"id": 42}], ids=["none", "empty", "number"])
async def test_account_id_without_an_id_is_transient(body: dict[str, Any]) -> None:
    with pytest.raises(TransientError):
        await client(lambda r: httpx.Response(200, json=body)).account_id("t")


# -- the ports over the client --


class LinkServer:
    """The token endpoint for a code, then `/v1/me` for the new access token."""

    def __init__(self, me: httpx.Response | None = None) -> None:
        self.me = me or httpx.Response(200, json={"id": "alice-id", "display_name": "Alice"})
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/api/token":
            return token_answer("acc-new", "ref-new")
        assert request.url.path == "/v1/me"
        return self.me


async def test_account_link_returns_the_account_id_and_the_grant() -> None:
    server = LinkServer()
    link = SpotifyAccountLink(client(server))
    assert link.source == "spotify"
    linked = await link.exchange_code("the-code", "the-verifier")
    assert linked == LinkedAccount(
        account="alice-id",
        grant=Grant("acc-new", "ref-new", T0 + timedelta(hours=1), consented_at=T0),
    )
    token, me = server.requests
    assert form(token)["code"] == "the-code"
    assert me.headers["authorization"] == "Bearer acc-new"


async def test_account_link_of_a_person_the_app_may_not_read_is_unreadable() -> None:
    """Development mode: the exchange works, /v1/me answers 403 (plain text, as Spotify
    does): the account is kept, marked unreadable, so it can be told, not hidden."""
    body = "Check settings on developer.spotify.com/dashboard, the user may not be registered."
    linked = await SpotifyAccountLink(
        client(LinkServer(httpx.Response(403, text=body)))
    ).exchange_code("the-code", "the-verifier")
    assert linked.readable is False and linked.account is None and linked.grant is not None


def test_account_link_authorize_url_is_the_clients() -> None:
    spotify = client(lambda r: httpx.Response(500))
    link = SpotifyAccountLink(spotify)
    assert link.authorize_url("st", "ch") == spotify.authorize_url("st", "ch")


async def test_catalog_looks_tracks_up() -> None:
    track = await SpotifyCatalog(client(TrackServer())).track(TRACK_ID)
    assert track.uri == f"spotify:track:{TRACK_ID}"


class RecordingPeople:
    """The one People method SpotifyHistory uses, recording its calls."""

    def __init__(self) -> None:
        self.saved: list[tuple[str, Grant]] = []

    async def save_grant(self, person_id: str, grant: Grant) -> None:
        self.saved.append((person_id, grant))


def connection(expires_at: datetime, grant: Grant | None = None) -> Connection:
    return Connection(
        person_id="bob",
        source="spotify",
        account="bob-id",
        connected_at=T0 - timedelta(days=3),
        grant=grant or Grant("acc-1", "ref-1", expires_at, consented_at=T0 - timedelta(days=3)),
    )


def history(server: HistoryServer) -> tuple[SpotifyHistory, RecordingPeople]:
    people = RecordingPeople()
    clock = FakeClock()
    return SpotifyHistory(client(server, clock), clock, people), people


async def test_history_with_a_fresh_token_does_not_refresh() -> None:
    server = HistoryServer(("spotify:track:A", T0 + timedelta(minutes=1)))
    spotify, people = history(server)
    assert spotify.source == "spotify"
    result = await spotify.plays(connection(T0 + timedelta(minutes=2)), T0)
    assert result == History([Play(T0 + timedelta(minutes=1), "spotify:track:A")])
    assert server.refreshes == [] and people.saved == []
    (request,) = server.requests
    assert request.headers["authorization"] == "Bearer acc-1"


@pytest.mark.parametrize(
    "left", [timedelta(seconds=60), timedelta(seconds=1), -timedelta(hours=1)], ids=str
)
async def test_history_refreshes_once_when_the_token_expires(left: timedelta) -> None:
    server = HistoryServer(("spotify:track:A", T0 + timedelta(minutes=1)))
    server.refresh_answers = [token_answer("acc-2", refresh=None)]
    spotify, people = history(server)
    result = await spotify.plays(connection(T0 + left), T0)
    assert [play.track_uri for play in result.plays] == ["spotify:track:A"]
    assert server.refreshes == [{"grant_type": "refresh_token", "refresh_token": "ref-1"}]
    ((person, grant),) = people.saved
    assert person == "bob"
    assert (grant.access_token, grant.refresh_token) == ("acc-2", "ref-1")
    assert grant.consented_at == T0 - timedelta(days=3)
    (request,) = server.history_requests
    assert request.headers["authorization"] == "Bearer acc-2"


async def test_history_refreshes_once_after_a_401_then_retries() -> None:
    server = HistoryServer(("spotify:track:A", T0 + timedelta(minutes=1)))
    server.valid_tokens = set()  # acc-1 was revoked early, although not expired
    server.refresh_answers = [token_answer("acc-2", "ref-2")]
    spotify, people = history(server)
    result = await spotify.plays(connection(T0 + timedelta(hours=1)), T0)
    assert [play.track_uri for play in result.plays] == ["spotify:track:A"]
    assert len(server.refreshes) == 1
    assert [r.headers["authorization"] for r in server.history_requests] == [
        "Bearer acc-1",
        "Bearer acc-2",
    ]
    assert [(p, g.access_token, g.refresh_token) for p, g in people.saved] == [
        ("bob", "acc-2", "ref-2")
    ]


class RejectingAfterRefresh(HistoryServer):
    """Accepts no access token at all, not even a freshly issued one."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = super().__call__(request)
        self.valid_tokens.clear()
        return response


async def test_history_gives_up_after_a_second_401() -> None:
    server = RejectingAfterRefresh()
    server.valid_tokens = set()
    spotify, people = history(server)
    with pytest.raises(AccessTokenRejected):
        await spotify.plays(connection(T0 + timedelta(hours=1)), T0)
    assert len(server.refreshes) == 1 and len(server.history_requests) == 2
    assert len(people.saved) == 1


@pytest.mark.parametrize("expired", [True, False], ids=["expired", "after-401"])
async def test_a_rotated_refresh_token_is_stored_even_when_the_read_fails(expired: bool) -> None:
    server = HistoryServer()
    server.refresh_answers = [token_answer("acc-2", "ref-rotated")]
    if not expired:
        server.valid_tokens = set()
    server.history_failure = httpx.Response(503)
    spotify, people = history(server)
    expires = T0 - timedelta(minutes=1) if expired else T0 + timedelta(hours=1)
    with pytest.raises(TransientError):
        await spotify.plays(connection(expires), T0)
    assert [(p, g.refresh_token) for p, g in people.saved] == [("bob", "ref-rotated")]


async def test_history_of_a_revoked_grant_is_grant_revoked_and_stores_nothing() -> None:
    server = HistoryServer()
    server.refresh_answers = [httpx.Response(400, json={"error": "invalid_grant"})]
    spotify, people = history(server)
    with pytest.raises(GrantRevoked):
        await spotify.plays(connection(T0), T0)
    assert people.saved == [] and server.history_requests == []


async def test_history_without_a_grant_is_grant_revoked() -> None:
    server = HistoryServer()
    spotify, _ = history(server)
    bare = Connection("bob", "spotify", "bob-id", T0, grant=None)
    with pytest.raises(GrantRevoked):
        await spotify.plays(bare, T0)
    assert server.requests == []


async def test_history_403_is_access_refused() -> None:
    server = HistoryServer()
    server.history_failure = httpx.Response(403, json={"error": {"status": 403, "message": "no"}})
    spotify, people = history(server)
    with pytest.raises(AccessRefused):
        await spotify.plays(connection(T0 + timedelta(hours=1)), T0)
    assert server.refreshes == [] and people.saved == []


# -- errors common to every call --

CALLS: dict[str, Callable[[SpotifyClient], Any]] = {
    "exchange_code": lambda s: s.exchange_code("c", "v"),
    "refresh": lambda s: s.refresh(Grant("a", "r", T0)),
    "track": lambda s: s.track(TRACK_ID),
    "recently_played": lambda s: s.recently_played("t", T0),
    "account_id": lambda s: s.account_id("t"),
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


USER_CALLS = ("recently_played", "account_id")


@pytest.mark.parametrize("call", USER_CALLS)
async def test_user_call_403_is_access_refused(call: str) -> None:
    # Development mode answers 403 for anyone not on the dashboard's user list.
    def handler(request: httpx.Request) -> httpx.Response:
        body = {
            "error": {"status": 403, "message": "User not registered in the Developer Dashboard"}
        }
        return httpx.Response(403, json=body)

    with pytest.raises(AccessRefused) as caught:
        await CALLS[call](client(handler))
    assert "Developer Dashboard" in str(caught.value)


@pytest.mark.parametrize("call", USER_CALLS)
async def test_user_call_401_is_access_token_rejected(call: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"status": 401, "message": "expired"}})

    with pytest.raises(AccessTokenRejected):
        await CALLS[call](client(handler))


@pytest.mark.parametrize("call", USER_CALLS)
async def test_other_client_errors_are_service_errors(call: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": {"status": 400, "message": "Bad limit"}})

    with pytest.raises(ServiceError) as caught:
        await CALLS[call](client(handler))
    assert "Bad limit" in str(caught.value)
    assert type(caught.value) is ServiceError


# -- against the sandbox, in-process --


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


async def test_sandbox_link_play_late_play_refresh_and_revoke() -> None:
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

        link = SpotifyAccountLink(spotify)
        linked = await link.exchange_code(code, verifier)
        assert linked.account == "alice" and linked.grant is not None
        grant = linked.grant
        assert grant.consented_at is not None
        with pytest.raises(GrantRevoked):  # a code is good once
            await link.exchange_code(code, verifier)
        await http.post("/_sandbox/faults", json={"path_prefix": "/v1/me", "status": 403})
        with pytest.raises(AccessRefused):
            await spotify.account_id(grant.access_token)

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
        assert plays[0].isrc == track.isrc and plays[0].duration_ms == track.duration_ms

        # An offline play reaches the history late, older than the one already read.
        late_at = (before + timedelta(minutes=5)).replace(microsecond=0)
        late = {"user": "alice", "track_id": TRACK_ID, "played_at": late_at.isoformat()}
        assert (await http.post("/_sandbox/spotify/play", json=late)).json()["recorded"]
        again = await spotify.recently_played(grant.access_token, before)
        assert [play.played_at for play in again] == [late_at, plays[0].played_at]

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


async def test_bad_client_credentials_are_the_operators_problem_not_a_revoked_grant() -> None:
    """Spotify answers 400 invalid_client to wrong Basic credentials (not 401)."""
    from sendsongs.errors import GrantRevoked, ServiceError

    body = {"error": "invalid_client", "error_description": "Invalid client secret"}
    spotify = client(lambda r: httpx.Response(400, json=body))
    with pytest.raises(ServiceError) as refused:
        await spotify.track(TRACK_ID)
    assert not isinstance(refused.value, GrantRevoked)
    assert "invalid_client" in str(refused.value)
