"""The sandbox's settings: the credentials it accepts, where it delivers webhooks, and
which of Spotify's strict modes are on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SIX_MONTHS = 183 * 86_400  # Spotify's refresh-token lifetime since July 2026, in seconds


@dataclass
class SandboxConfig:
    """What the fake Graph and Spotify servers accept, and where `say` posts events.

    Environment variables read by `from_env` (besides the bot's own secrets):
    `SANDBOX_WEBHOOK_URL`; `SANDBOX_SPOTIFY_DEVELOPMENT_MODE` (`1`/`true` turns the
    allow-list on); `SANDBOX_SPOTIFY_ALLOWED_USERS` (comma-separated sandbox Spotify ids);
    `SANDBOX_SPOTIFY_REFRESH_TOKEN_LIFETIME` (seconds a refresh token lives after the
    original consent)."""

    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"  # noqa: S105 - a well-known fake
    page_access_token: str = "sandbox-page-token"  # noqa: S105 - a well-known fake
    app_secret: str = "sandbox-app-secret"  # noqa: S105 - a well-known fake
    webhook_url: str = "http://127.0.0.1:8000/webhook"
    page_id: str = "1984234425170095"
    token_ttl: int = 3600  # seconds an access token lives, as Spotify's
    rotate_refresh_tokens: bool = True
    refresh_token_lifetime: int = SIX_MONTHS
    # Development mode's allow-list: off by default, so any sandbox user may call.
    development_mode: bool = False
    allowed_users: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SandboxConfig:
        """The bot's own variables, so bot and sandbox agree on the secrets."""
        default = cls()
        allowed = environ.get("SANDBOX_SPOTIFY_ALLOWED_USERS", "")
        lifetime = _seconds(environ, "SANDBOX_SPOTIFY_REFRESH_TOKEN_LIFETIME")
        return cls(
            client_id=environ.get("SPOTIFY_CLIENT_ID") or default.client_id,
            client_secret=environ.get("SPOTIFY_CLIENT_SECRET") or default.client_secret,
            page_access_token=(
                environ.get("MESSENGER_PAGE_ACCESS_TOKEN") or default.page_access_token
            ),
            app_secret=environ.get("MESSENGER_APP_SECRET") or default.app_secret,
            webhook_url=environ.get("SANDBOX_WEBHOOK_URL") or default.webhook_url,
            refresh_token_lifetime=lifetime or default.refresh_token_lifetime,
            development_mode=_flag(environ.get("SANDBOX_SPOTIFY_DEVELOPMENT_MODE", "")),
            allowed_users=tuple(u.strip() for u in allowed.split(",") if u.strip()),
        )


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _seconds(environ: Mapping[str, str], name: str) -> int | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) == 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {raw!r}")
    return int(raw)
