"""What the public-history clients (ListenBrainz, Last.fm) share on the wire: an
identifiable User-Agent, httpx failures translated to our errors, JSON objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from sendsongs import __version__
from sendsongs.errors import TransientError


def user_agent(contact_url: str) -> str:
    """`SendSongs/0.1.0 (+https://bot.example)`: Last.fm asks every caller for an
    identifiable User-Agent (https://www.last.fm/api/intro), MetaBrainz likewise."""
    return f"SendSongs/{__version__} (+{contact_url})"


async def get(http: httpx.AsyncClient, service: str, url: str, **kwargs: Any) -> httpx.Response:
    """One GET; a timeout or a network failure becomes TransientError."""
    try:
        return await http.get(url, **kwargs)
    except httpx.TimeoutException as exc:
        raise TransientError(f"{service} timed out ({type(exc).__name__})") from exc
    except httpx.RequestError as exc:
        raise TransientError(f"{service} unreachable ({type(exc).__name__})") from exc


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The body as a JSON object, or {} when it is not one (an HTML error page)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def text(value: object) -> str | None:
    """A non-empty string, or None."""
    return value if isinstance(value, str) and value.strip() else None


def within_second(stamp: int) -> datetime:
    """A listen stamped in whole unix seconds started somewhere in that second; its
    last instant is taken, so a listen begun in the share's own second counts (it
    cannot have been heard before the share by more than that second)."""
    return datetime.fromtimestamp(stamp, UTC) + timedelta(microseconds=999_999)
