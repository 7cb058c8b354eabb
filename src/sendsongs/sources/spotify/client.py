"""Spotify Accounts + Web API over HTTP: OAuth grants, track look-ups, play history.

The ports (Catalog, PlayHistory, AccountLink) are small classes over this client
in catalog.py, history.py and account_link.py.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import structlog

from sendsongs.domain.links import SHORT_LINK_HOSTS, find_short_link, find_track_id, track_url
from sendsongs.domain.models import Grant, Play, Track
from sendsongs.errors import (
    AccessRefused,
    AccessTokenRejected,
    GrantRevoked,
    NotFound,
    RateLimited,
    ServiceError,
    TransientError,
)
from sendsongs.ports import Clock

log = structlog.get_logger(__name__)

# Renew the app token this long before Spotify says it expires, so a lookup
# never races the expiry on the wire.
_APP_TOKEN_MARGIN = timedelta(seconds=60)
_DEFAULT_RETRY_AFTER = 1.0
PAGE_SIZE = 50  # recently-played's maximum `limit`
MAX_PAGES = 4  # 200 plays back: about ten hours of non-stop listening
MAX_REDIRECTS = 3
_TRACK_ID = re.compile(r"[A-Za-z0-9]+")


class SpotifyClient:
    """Spotify's Accounts service and Web API, with errors translated to ours."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        accounts_url: str,
        api_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        clock: Clock,
        scope: str = "user-read-recently-played",
        short_link_url: str | None = None,
    ) -> None:
        self._http = http
        self._accounts_url = accounts_url.rstrip("/")
        self._api_url = api_url.rstrip("/")
        self._client_id = client_id
        self._auth = httpx.BasicAuth(client_id, client_secret)
        self._redirect_uri = redirect_uri
        self._clock = clock
        self._scope = scope
        self._short_link_url = short_link_url.rstrip("/") if short_link_url else None
        self._app_token: str | None = None
        self._app_token_expires_at = datetime.min.replace(tzinfo=UTC)
        # One token request at a time, however many lookups are waiting for it.
        self._app_token_lock = asyncio.Lock()

    # -- user authorization (authorization code + PKCE) --

    def authorize_url(self, state: str, code_challenge: str) -> str:
        query = urlencode(
            {
                "client_id": self._client_id,
                "response_type": "code",
                "redirect_uri": self._redirect_uri,
                "state": state,
                "scope": self._scope,
                "code_challenge_method": "S256",
                "code_challenge": code_challenge,
            },
            quote_via=quote,
        )
        return f"{self._accounts_url}/authorize?{query}"

    async def exchange_code(self, code: str, code_verifier: str) -> Grant:
        body = await self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self._redirect_uri,
                "code_verifier": code_verifier,
            }
        )
        refresh_token = body.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            raise TransientError("spotify token response has no refresh_token")
        return self._grant(body, refresh_token, consented_at=self._clock.now())

    async def refresh(self, grant: Grant) -> Grant:
        body = await self._token_request(
            {"grant_type": "refresh_token", "refresh_token": grant.refresh_token}
        )
        # Spotify rotates the refresh token only sometimes; without a new one the
        # old one stays valid.
        rotated = body.get("refresh_token")
        refresh_token = rotated if isinstance(rotated, str) and rotated else grant.refresh_token
        # A rotated refresh token still dies six months after the original consent.
        return self._grant(body, refresh_token, consented_at=grant.consented_at)

    def _grant(
        self, body: Mapping[str, Any], refresh_token: str, consented_at: datetime | None
    ) -> Grant:
        access_token, expires_in = _access_token(body)
        return Grant(
            access_token=access_token,
            refresh_token=refresh_token,
            expires_at=self._clock.now() + timedelta(seconds=expires_in),
            consented_at=consented_at,
        )

    async def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        response = await self._send(
            "POST", f"{self._accounts_url}/api/token", data=form, auth=self._auth
        )
        if response.status_code == 400 and _oauth_error(response) == "invalid_grant":
            raise GrantRevoked("spotify refused the grant (invalid_grant)")
        if response.status_code == 401 or _oauth_error(response) == "invalid_client":
            # Bad client credentials (400 invalid_client with Basic auth, 401 of old):
            # the operator's configuration, not the person's grant. Say so loudly.
            log.error("spotify_client_refused", detail=_describe(response))
            raise ServiceError(f"spotify token endpoint: {_describe(response)}")
        _raise_for_status(response)
        return _json_object(response)

    # -- track lookups with app credentials (client credentials grant) --

    async def track(self, track_id: str) -> Track:
        # Ids come from links people typed; anything but base62 cannot be a track
        # and must not reach the URL path.
        if not _TRACK_ID.fullmatch(track_id):
            raise NotFound(f"not a spotify track id: {track_id[:40]!r}")
        url = f"{self._api_url}/tracks/{track_id}"
        token = await self._app_access_token()
        response = await self._send("GET", url, headers=_bearer(token))
        if response.status_code == 401:
            # The cached token was revoked or expired early: fetch a new one, once.
            token = await self._app_access_token(rejected=token)
            response = await self._send("GET", url, headers=_bearer(token))
            if response.status_code == 401:
                raise ServiceError("spotify rejected a fresh app access token")
        if response.status_code in (400, 404):
            raise NotFound(f"spotify has no track {track_id}")
        _raise_for_status(response)
        return _track(_json_object(response), track_id)

    async def _app_access_token(self, rejected: str | None = None) -> str:
        async with self._app_token_lock:
            if rejected is not None and self._app_token == rejected:
                self._app_token = None
            now = self._clock.now()
            if self._app_token is None or now >= self._app_token_expires_at - _APP_TOKEN_MARGIN:
                body = await self._token_request({"grant_type": "client_credentials"})
                token, expires_in = _access_token(body)
                self._app_token = token
                self._app_token_expires_at = now + timedelta(seconds=expires_in)
            return self._app_token

    # -- a person's play history --

    async def recently_played(self, access_token: str, since: datetime) -> list[Play]:
        """Plays with `played_at >= since`, oldest first.

        Reads the newest page (50 plays, Spotify's maximum) and, while its oldest
        play is still after `since`, the pages before it (at most MAX_PAGES).
        The window is read whole each time instead of asking for plays `after` a
        cursor: plays from offline listening reach the history late, with their
        real (earlier) timestamps, and an `after` cursor would skip them.
        Raises AccessTokenRejected on 401, AccessRefused on 403.
        """
        plays: list[Play] = []
        before: int | None = None
        for _ in range(MAX_PAGES):
            page, oldest, full = await self._history_page(access_token, before)
            plays.extend(page)
            if oldest is None or oldest < since or not full:
                break
            before = _unix_ms(oldest)
        found = {
            (play.track_uri, play.played_at): play for play in plays if play.played_at >= since
        }
        return sorted(found.values(), key=lambda play: play.played_at)

    async def _history_page(
        self, access_token: str, before: int | None
    ) -> tuple[list[Play], datetime | None, bool]:
        """One page: its plays, the oldest `played_at` on it, and whether Spotify
        filled it (counting items without a track, which are skipped)."""
        params: dict[str, int] = {"limit": PAGE_SIZE}
        if before is not None:
            params["before"] = before
        response = await self._send(
            "GET",
            f"{self._api_url}/me/player/recently-played",
            params=params,
            headers=_bearer(access_token),
        )
        _raise_for_user_call(response)
        items = _json_object(response).get("items")
        if not isinstance(items, list):
            raise TransientError("spotify recently-played response has no items list")
        page = [play for item in items if (play := _play(item)) is not None]
        oldest = min((play.played_at for play in page), default=None)
        return page, oldest, len(items) >= PAGE_SIZE

    async def account_id(self, access_token: str) -> str:
        """The person's stable Spotify user id (`GET /v1/me`); proves, with one real
        call, that this app may read their data."""
        response = await self._send("GET", f"{self._api_url}/me", headers=_bearer(access_token))
        _raise_for_user_call(response)
        user_id = _json_object(response).get("id")
        if not isinstance(user_id, str) or not user_id:
            raise TransientError("spotify /me response has no id")
        return user_id

    # -- short links (spotify.link, link.tospotify.com) --

    async def follow_short_link(self, host: str, code: str) -> str | None:
        """The open.spotify.com track id a short link redirects to, following at most
        MAX_REDIRECTS hops and only within Spotify's hosts; None if it lands anywhere
        else (an album, a playlist); NotFound if the link itself is unknown or
        expired (a 4xx answer instead of a redirect)."""
        url = self._short_link(host, code)
        for _ in range(MAX_REDIRECTS):
            response = await self._send("GET", url, follow_redirects=False)
            if response.status_code >= 500:
                raise TransientError(f"spotify short link: HTTP {response.status_code}")
            target = response.headers.get("location") if response.is_redirect else None
            if target is None:
                if 400 <= response.status_code < 500:
                    raise NotFound(f"spotify short link: HTTP {response.status_code}")
                # some short-link pages answer 200 with the link in the page instead
                return find_track_id(response.text) if response.is_success else None
            if (track_id := find_track_id(target)) is not None:
                return track_id
            if (short := find_short_link(target)) is None:
                return None
            url = self._short_link(*short)
        return None

    def _short_link(self, host: str, code: str) -> str:
        if host not in SHORT_LINK_HOSTS:
            raise ValueError(f"not a spotify short-link host: {host}")
        base = self._short_link_url or "https:/"
        return f"{base}/{host}/{quote(code, safe='')}"

    # -- the wire --

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise TransientError(f"spotify timed out ({type(exc).__name__})") from exc
        except httpx.RequestError as exc:
            raise TransientError(f"spotify unreachable ({type(exc).__name__})") from exc


def _raise_for_user_call(response: httpx.Response) -> None:
    """Errors of a call made with a person's access token."""
    if response.status_code == 401:
        raise AccessTokenRejected("spotify rejected the access token")
    if response.status_code == 403:
        # Development mode answers 403 for anyone not on the app's user list.
        raise AccessRefused(f"spotify refused this account: {_describe(response)}")
    _raise_for_status(response)


def _raise_for_status(response: httpx.Response) -> None:
    """Turn any non-2xx answer left over by the caller into our errors."""
    status = response.status_code
    if status < 300:
        return
    if status == 429:
        raise RateLimited(_retry_after(response), "spotify rate limit")
    if status >= 500:
        raise TransientError(f"spotify: {_describe(response)}")
    if status == 404:
        raise NotFound(f"spotify: {_describe(response)}")
    raise ServiceError(f"spotify: {_describe(response)}")


def _retry_after(response: httpx.Response) -> float:
    # Spotify sends whole seconds; an HTTP-date or junk falls back to the default.
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return _DEFAULT_RETRY_AFTER
    return seconds if seconds >= 0 else _DEFAULT_RETRY_AFTER


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise TransientError(f"spotify sent malformed JSON (HTTP {response.status_code})") from exc
    if not isinstance(body, dict):
        raise TransientError(f"spotify sent a non-object JSON body (HTTP {response.status_code})")
    return body


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _oauth_error(response: httpx.Response) -> str | None:
    """The Accounts service's `{"error": "..."}` code, if the body has one."""
    error = _error_body(response).get("error")
    return error if isinstance(error, str) else None


def _describe(response: httpx.Response) -> str:
    """Status plus Spotify's own error text, never the request (it may carry tokens)."""
    body = _error_body(response)
    error = body.get("error")
    detail = ""
    if isinstance(error, dict):  # Web API: {"error": {"status", "message"}}
        detail = str(error.get("message", ""))
    elif isinstance(error, str):  # Accounts: {"error", "error_description"}
        detail = f"{error} {body.get('error_description', '')}".strip()
    status = f"HTTP {response.status_code}"
    return f"{status} {detail[:200]}" if detail else status


def _access_token(body: Mapping[str, Any]) -> tuple[str, int]:
    token = body.get("access_token")
    expires_in = body.get("expires_in")
    if not isinstance(token, str) or not token:
        raise TransientError("spotify token response has no access_token")
    if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in <= 0:
        raise TransientError("spotify token response has no valid expires_in")
    return token, expires_in


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _unix_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _track(body: Mapping[str, Any], track_id: str) -> Track:
    uri = body.get("uri")
    name = body.get("name")
    duration_ms = body.get("duration_ms")
    if not isinstance(uri, str) or not isinstance(name, str):
        raise TransientError("spotify track response lacks uri or name")
    if isinstance(duration_ms, bool) or not isinstance(duration_ms, int):
        raise TransientError("spotify track response lacks duration_ms")
    artists = body.get("artists")
    names = tuple(
        artist["name"]
        for artist in (artists if isinstance(artists, list) else [])
        if isinstance(artist, dict) and isinstance(artist.get("name"), str)
    )
    urls = body.get("external_urls")
    url = urls.get("spotify") if isinstance(urls, dict) else None
    return Track(
        uri=uri,
        name=name,
        artists=names,
        duration_ms=duration_ms,
        url=url if isinstance(url, str) and url else track_url(track_id),
        isrc=_isrc(body),
    )


def _isrc(track: Mapping[str, Any]) -> str | None:
    ids = track.get("external_ids")
    isrc = ids.get("isrc") if isinstance(ids, dict) else None
    return isrc if isinstance(isrc, str) and isrc else None


def _play(item: object) -> Play | None:
    """One history item; None for entries without a track (removed or local content)."""
    if not isinstance(item, dict):
        raise TransientError("spotify recently-played item is not an object")
    track = item.get("track")
    if not isinstance(track, dict) or not isinstance(track.get("uri"), str):
        return None
    played_at = item.get("played_at")
    if not isinstance(played_at, str):
        raise TransientError("spotify recently-played item lacks played_at")
    try:
        moment = datetime.fromisoformat(played_at)
    except ValueError as exc:
        raise TransientError("spotify recently-played item has a bad played_at") from exc
    # Spotify writes UTC with a Z; a timestamp without offset is taken as UTC too.
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    duration = track.get("duration_ms")
    return Play(
        played_at=moment,
        track_uri=track["uri"],
        isrc=_isrc(track),
        duration_ms=duration
        if isinstance(duration, int) and not isinstance(duration, bool)
        else None,
    )
