"""The settings of docs/contract.md ("Configuration"), typed, read from the
environment and `.env`."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sendsongs.domain.schedule import Schedule
from sendsongs.errors import ConfigError

# Settings `serve` cannot run without; `migrate` and the sandbox need none of them.
BOT_SECRETS = ("SENDSONGS_SECRET_KEY", "SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET")
# Each channel is configured by a group of settings: all of them, or none.
CHANNELS = {
    "messenger": (
        "MESSENGER_VERIFY_TOKEN",
        "MESSENGER_APP_SECRET",
        "MESSENGER_PAGE_ACCESS_TOKEN",
    ),
    "telegram": ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"),
}
MIN_SECRET_KEY = 16
_GENERATE_KEY = 'generate one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
# setWebhook `secret_token`: "1-256 characters. Only characters A-Z, a-z, 0-9, _ and -
# are allowed" (https://core.telegram.org/bots/api#setwebhook)
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _env(name: str) -> Any:
    return Field(None, validation_alias=AliasChoices(name))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", frozen=True, populate_by_name=True
    )

    database_url: str = Field(
        "sqlite:///sendsongs.db", validation_alias=AliasChoices("SENDSONGS_DATABASE_URL")
    )
    public_url: str = Field(
        "http://127.0.0.1:8000", validation_alias=AliasChoices("SENDSONGS_PUBLIC_URL")
    )
    secret_key: SecretStr | None = _env("SENDSONGS_SECRET_KEY")
    # not in the original: keys being rotated out, newest first, comma-separated;
    # accepted for reading stored tokens and signed links, never used to write
    previous_secret_keys: SecretStr | None = _env("SENDSONGS_PREVIOUS_SECRET_KEYS")
    messenger_verify_token: SecretStr | None = _env("MESSENGER_VERIFY_TOKEN")
    messenger_app_secret: SecretStr | None = _env("MESSENGER_APP_SECRET")
    messenger_page_access_token: SecretStr | None = _env("MESSENGER_PAGE_ACCESS_TOKEN")
    messenger_graph_url: str = Field(
        "https://graph.facebook.com/v26.0", validation_alias=AliasChoices("MESSENGER_GRAPH_URL")
    )
    telegram_bot_token: SecretStr | None = _env("TELEGRAM_BOT_TOKEN")
    telegram_webhook_secret: SecretStr | None = _env("TELEGRAM_WEBHOOK_SECRET")
    telegram_api_url: str = Field(
        "https://api.telegram.org", validation_alias=AliasChoices("TELEGRAM_API_URL")
    )
    spotify_client_id: str | None = _env("SPOTIFY_CLIENT_ID")
    spotify_client_secret: SecretStr | None = _env("SPOTIFY_CLIENT_SECRET")
    spotify_accounts_url: str = Field(
        "https://accounts.spotify.com", validation_alias=AliasChoices("SPOTIFY_ACCOUNTS_URL")
    )
    spotify_api_url: str = Field(
        "https://api.spotify.com/v1", validation_alias=AliasChoices("SPOTIFY_API_URL")
    )
    listenbrainz_api_url: str = Field(
        "https://api.listenbrainz.org", validation_alias=AliasChoices("LISTENBRAINZ_API_URL")
    )
    lastfm_api_key: SecretStr | None = _env("LASTFM_API_KEY")
    # kept as written: Last.fm's documented endpoint ends in a slash
    lastfm_api_url: str = Field(
        "https://ws.audioscrobbler.com/2.0/", validation_alias=AliasChoices("LASTFM_API_URL")
    )
    # not in the original: where to follow spotify.link / link.tospotify.com short
    # links instead of their real hosts (`{url}/{host}/{code}`); tests use the sandbox
    spotify_short_link_url: str | None = _env("SPOTIFY_SHORT_LINK_URL")
    fast_interval: int = Field(300, gt=0, validation_alias=AliasChoices("SENDSONGS_FAST_INTERVAL"))
    fast_window: int = Field(3600, ge=0, validation_alias=AliasChoices("SENDSONGS_FAST_WINDOW"))
    slow_interval: int = Field(3600, gt=0, validation_alias=AliasChoices("SENDSONGS_SLOW_INTERVAL"))
    expire_after: int = Field(604800, gt=0, validation_alias=AliasChoices("SENDSONGS_EXPIRE_AFTER"))
    # not in the seed: lets the demo and tests see a listen without waiting a song's length
    first_check: int | None = Field(
        None, ge=0, validation_alias=AliasChoices("SENDSONGS_FIRST_CHECK")
    )
    log_level: str = Field("INFO", validation_alias=AliasChoices("SENDSONGS_LOG_LEVEL"))
    # not in the original: per-person limits, so one person cannot make the bot flood
    # a friend or spend the app's Spotify quota
    signups_per_hour: int = Field(
        5, gt=0, validation_alias=AliasChoices("SENDSONGS_SIGNUPS_PER_HOUR")
    )
    shares_per_hour: int = Field(
        30, gt=0, validation_alias=AliasChoices("SENDSONGS_SHARES_PER_HOUR")
    )
    # AWS only: the SQS queues between the functions (deploy/terraform/contract.json)
    inbox_queue_url: str | None = _env("SENDSONGS_INBOX_QUEUE_URL")
    check_queue_url: str | None = _env("SENDSONGS_CHECK_QUEUE_URL")

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        return log_level(value)

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return value  # unset: the channel's settings are checked as a group
        if not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError(
                "must be 1-256 characters, only A-Z, a-z, 0-9, _ and - "
                "(Telegram's rule for a webhook secret_token)"
            )
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value() and not value.get_secret_value().strip():
            raise ValueError(
                f"must not be blank: at least {MIN_SECRET_KEY} characters that are not all "
                f"spaces; {_GENERATE_KEY}"
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _redirectable(cls, value: str) -> str:
        """Spotify accepts only https redirect URIs, or http on a loopback IP literal
        (not `localhost`), since November 2025 (Spotify for Developers, "Redirect URIs")."""
        parts = urlsplit(value)
        if parts.scheme == "https" and parts.hostname:
            return value
        if parts.scheme == "http" and parts.hostname and _is_loopback_ip(parts.hostname):
            return value
        raise ValueError(
            "must be https://…, or http:// on a loopback IP such as 127.0.0.1 "
            "(Spotify refuses other redirect URIs, localhost included)"
        )

    @field_validator(
        "public_url",
        "messenger_graph_url",
        "telegram_api_url",
        "spotify_accounts_url",
        "spotify_api_url",
        "listenbrainz_api_url",
    )
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("lastfm_api_url")
    @classmethod
    def _lastfm_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @property
    def lastfm_enabled(self) -> bool:
        return bool(self._value("LASTFM_API_KEY"))

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value.startswith("sqlite:///") and len(value) > len("sqlite:///"):
            return value
        if value.startswith("dynamodb://") and len(value) > len("dynamodb://"):
            return value
        raise ValueError("must be sqlite:///PATH or dynamodb://TABLE_PREFIX")

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/spotify/callback"

    @property
    def schedule(self) -> Schedule:
        return Schedule(
            fast_interval=timedelta(seconds=self.fast_interval),
            fast_window=timedelta(seconds=self.fast_window),
            slow_interval=timedelta(seconds=self.slow_interval),
            expire_after=timedelta(seconds=self.expire_after),
            first_check_after=None
            if self.first_check is None
            else timedelta(seconds=self.first_check),
        )

    @property
    def previous_keys(self) -> tuple[str, ...]:
        """SENDSONGS_PREVIOUS_SECRET_KEYS as a list, newest first."""
        raw = self._value("SENDSONGS_PREVIOUS_SECRET_KEYS")
        return tuple(key.strip() for key in raw.split(",") if key.strip())

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels whose settings are all set."""
        return tuple(
            channel
            for channel, names in CHANNELS.items()
            if all(self._value(name) for name in names)
        )

    def require_bot_secrets(self) -> None:
        """Refuse to run the bot without its credentials: one line, naming the variable."""
        missing = [name for name in BOT_SECRETS if not self._value(name)]
        if missing:
            raise ConfigError(f"{', '.join(missing)} must be set (see README, Configuration)")
        for channel, names in CHANNELS.items():
            absent = [name for name in names if not self._value(name)]
            if absent and len(absent) < len(names):
                raise ConfigError(
                    f"{', '.join(absent)} must be set too, or none of the {channel} "
                    "settings (a channel is configured completely or not at all)"
                )
        if not self.channels:
            raise ConfigError(
                "no chat channel is configured: set MESSENGER_VERIFY_TOKEN, "
                "MESSENGER_APP_SECRET and MESSENGER_PAGE_ACCESS_TOKEN, and/or "
                "TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET"
            )
        key = self._value("SENDSONGS_SECRET_KEY")
        if len(key) < MIN_SECRET_KEY:
            raise ConfigError(
                f"SENDSONGS_SECRET_KEY must be at least {MIN_SECRET_KEY} characters; "
                f"{_GENERATE_KEY}"
            )

    def secret(self, name: str) -> str:
        """A required secret's value (call require_bot_secrets first)."""
        value = self._value(name)
        if not value:
            raise ConfigError(f"{name} must be set")
        return value

    def _value(self, name: str) -> str:
        field = name.lower().removeprefix("sendsongs_")
        value = getattr(self, field)
        if isinstance(value, SecretStr):
            return value.get_secret_value()
        return value or ""


def log_level(value: str) -> str:
    """A SENDSONGS_LOG_LEVEL as the logging module names it; ValueError otherwise."""
    level = value.strip().upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
    return level


def sandbox_log_level(environ: Mapping[str, str]) -> str:
    """The sandbox reads only this setting of the bot's; ConfigError names it."""
    try:
        return log_level(environ.get("SENDSONGS_LOG_LEVEL") or "INFO")
    except ValueError as error:
        raise ConfigError(f"SENDSONGS_LOG_LEVEL: {error}") from None


def _is_loopback_ip(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_settings(**overrides: Any) -> Settings:
    """Read the environment (and .env); ConfigError names the first bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        alias = _alias_of(field)
        # pydantic words a validator's refusal "Value error, …"; the variable says enough
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{alias}: {message}") from None


def _alias_of(field: str) -> str:
    info = Settings.model_fields.get(field)
    if info is not None and isinstance(info.validation_alias, AliasChoices):
        return str(info.validation_alias.choices[0])
    return field.upper()
