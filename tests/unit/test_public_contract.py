"""Pins the public names of docs/contract.md: operators and outside tests rely on them."""

from __future__ import annotations

import pytest
from pydantic import AliasChoices

from sendsongs.cli import _parser
from sendsongs.config import Settings
from sendsongs.domain.commands import (
    ForgetMe,
    Help,
    Register,
    RegisterWithCode,
    SendSong,
    Yes,
    parse,
)
from sendsongs.web.app import ROUTES

DESIGN_VARIABLES = {
    "SENDSONGS_DATABASE_URL", "SENDSONGS_PUBLIC_URL", "SENDSONGS_SECRET_KEY",
    "MESSENGER_VERIFY_TOKEN", "MESSENGER_APP_SECRET", "MESSENGER_PAGE_ACCESS_TOKEN",
    "MESSENGER_GRAPH_URL", "SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "SPOTIFY_ACCOUNTS_URL",
    "SPOTIFY_API_URL", "SENDSONGS_FAST_INTERVAL", "SENDSONGS_FAST_WINDOW",
    "SENDSONGS_SLOW_INTERVAL", "SENDSONGS_EXPIRE_AFTER",
    "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_API_URL",
    "LISTENBRAINZ_API_URL", "LASTFM_API_KEY", "LASTFM_API_URL",
}  # fmt: skip
ADDED_VARIABLES = {
    "SENDSONGS_FIRST_CHECK", "SENDSONGS_LOG_LEVEL", "SPOTIFY_SHORT_LINK_URL",
    "SENDSONGS_PREVIOUS_SECRET_KEYS", "SENDSONGS_SIGNUPS_PER_HOUR", "SENDSONGS_SHARES_PER_HOUR",
    "SENDSONGS_INBOX_QUEUE_URL", "SENDSONGS_CHECK_QUEUE_URL",  # AWS: the queues between functions
}  # fmt: skip


def test_every_setting_has_its_design_name() -> None:
    names = set()
    for field in Settings.model_fields.values():
        assert isinstance(field.validation_alias, AliasChoices)
        names.update(str(choice) for choice in field.validation_alias.choices)
    assert names == DESIGN_VARIABLES | ADDED_VARIABLES


def test_design_defaults() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "sqlite:///sendsongs.db"
    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.messenger_graph_url == "https://graph.facebook.com/v26.0"
    assert settings.spotify_accounts_url == "https://accounts.spotify.com"
    assert settings.spotify_api_url == "https://api.spotify.com/v1"
    assert (settings.fast_interval, settings.fast_window) == (300, 3600)
    assert (settings.slow_interval, settings.expire_after) == (3600, 604800)
    assert settings.listenbrainz_api_url == "https://api.listenbrainz.org"
    assert settings.lastfm_api_url == "https://ws.audioscrobbler.com/2.0/"
    assert settings.lastfm_api_key is None
    assert settings.redirect_uri == "http://127.0.0.1:8000/spotify/callback"


@pytest.mark.parametrize(
    ("argv", "host", "port"),
    [(["serve"], "127.0.0.1", 8000), (["serve", "--host", "0.0.0.0", "--port", "9"], "0.0.0.0", 9)],
)
def test_serve_options(argv: list[str], host: str, port: int) -> None:
    args = _parser().parse_args(argv)
    assert (args.host, args.port) == (host, port)


@pytest.mark.parametrize("command", ["serve", "sandbox", "demo", "migrate", "rotate-keys"])
def test_commands_exist(command: str) -> None:
    assert _parser().parse_args([command]).run.__name__ == f"_{command.replace('-', '_')}"


def test_routes() -> None:
    routes = {(route.path, method) for route in ROUTES for method in route.methods or ()}  # type: ignore[attr-defined]
    assert {
        ("/webhook", "GET"),
        ("/webhook", "POST"),
        ("/spotify/login", "GET"),
        ("/spotify/callback", "GET"),
        ("/healthz", "GET"),
        ("/messenger/data-deletion", "POST"),
        ("/messenger/data-deletion", "GET"),
    } <= routes


def test_chat_words() -> None:
    link = "https://open.spotify.com/track/46X0dXeliHXD73sxexJx7d"
    assert parse("help") == Help()
    assert isinstance(parse("register"), Register)
    assert isinstance(parse('register code:"c" name:"N"'), RegisterWithCode)
    assert isinstance(parse(f'send_song name:"N" pre:"a" post:"b" {link}'), SendSong)
    assert parse("forget me") == ForgetMe()
    assert parse("yes") == Yes()
