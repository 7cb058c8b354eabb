"""The sandbox's settings: the credentials it accepts, where it delivers webhooks, and
which strict modes are on.

Read from the bot's own variables (so both agree on the secrets) plus the sandbox's:
`SANDBOX_WEBHOOK_URL` (where `say` posts events), `SANDBOX_REQUIRE_APPSECRET_PROOF`
(`1`: every Graph call must carry a correct `appsecret_proof`; off by default),
`SANDBOX_LISTENBRAINZ_RATE_LIMIT` (requests per window before a 429; none by default),
`SANDBOX_SPOTIFY_DEVELOPMENT_MODE` (`1`/`true` turns Spotify's allow-list on),
`SANDBOX_SPOTIFY_ALLOWED_USERS` (comma-separated sandbox Spotify ids) and
`SANDBOX_SPOTIFY_REFRESH_TOKEN_LIFETIME` (seconds a refresh token lives after the
original consent; six months by default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SIX_MONTHS = 183 * 86_400  # Spotify's refresh-token lifetime since July 2026, in seconds


@dataclass
class SandboxConfig:
    """What the fake Graph, Spotify, Telegram and history servers accept, and where `say`
    posts Messenger events (Telegram updates go where the bot's `setWebhook` said)."""

    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"  # noqa: S105 - a well-known fake
    page_access_token: str = "sandbox-page-token"  # noqa: S105 - a well-known fake
    app_secret: str = "sandbox-app-secret"  # noqa: S105 - a well-known fake
    webhook_url: str = "http://127.0.0.1:8000/webhook"
    page_id: str = "1984234425170095"
    token_ttl: int = 3600  # seconds an access token lives, as Spotify's
    rotate_refresh_tokens: bool = True
    # Graph's "Require App Secret" app setting: every call must carry appsecret_proof.
    require_appsecret_proof: bool = False
    telegram_bot_token: str = "123456:sandbox-telegram-token"  # noqa: S105 - a well-known fake
    lastfm_api_key: str = "sandbox-lastfm-api-key"
    # ListenBrainz requests per window before a 429; None answers headers but never refuses.
    listenbrainz_rate_limit: int | None = None
    listenbrainz_rate_window: int = 10  # seconds, the window of ListenBrainz's rate limiter
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
            require_appsecret_proof=_flag(environ.get("SANDBOX_REQUIRE_APPSECRET_PROOF")),
            telegram_bot_token=(environ.get("TELEGRAM_BOT_TOKEN") or default.telegram_bot_token),
            lastfm_api_key=environ.get("LASTFM_API_KEY") or default.lastfm_api_key,
            listenbrainz_rate_limit=_optional_int(environ.get("SANDBOX_LISTENBRAINZ_RATE_LIMIT")),
            refresh_token_lifetime=lifetime or default.refresh_token_lifetime,
            development_mode=_flag(environ.get("SANDBOX_SPOTIFY_DEVELOPMENT_MODE")),
            allowed_users=tuple(u.strip() for u in allowed.split(",") if u.strip()),
        )


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _optional_int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.strip() else None


def _seconds(environ: Mapping[str, str], name: str) -> int | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) == 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {raw!r}")
    return int(raw)
