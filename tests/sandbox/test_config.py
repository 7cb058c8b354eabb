"""SandboxConfig: defaults, and the bot's own variables read from the environment."""

import pytest

from sendsongs.sandbox.config import SandboxConfig


def test_defaults_are_the_documented_fakes() -> None:
    config = SandboxConfig()
    assert config.client_id == "sandbox-client-id"
    assert config.page_access_token == "sandbox-page-token"
    assert config.webhook_url == "http://127.0.0.1:8000/webhook"
    assert config.page_id == "1984234425170095"
    assert config.token_ttl == 3600
    assert config.rotate_refresh_tokens is True
    assert config.require_appsecret_proof is False


def test_from_env_reads_the_bot_variables_and_falls_back() -> None:
    config = SandboxConfig.from_env(
        {
            "SPOTIFY_CLIENT_ID": "cid",
            "SPOTIFY_CLIENT_SECRET": "csecret",
            "MESSENGER_PAGE_ACCESS_TOKEN": "ptoken",
            "SANDBOX_WEBHOOK_URL": "http://127.0.0.1:9999/webhook",
        }
    )
    assert (config.client_id, config.client_secret) == ("cid", "csecret")
    assert config.page_access_token == "ptoken"
    assert config.app_secret == "sandbox-app-secret"
    assert config.webhook_url == "http://127.0.0.1:9999/webhook"
    assert config.require_appsecret_proof is False


def test_appsecret_proof_is_required_only_when_switched_on() -> None:
    for value, required in (("1", True), ("true", True), ("0", False), ("", False)):
        config = SandboxConfig.from_env({"SANDBOX_REQUIRE_APPSECRET_PROOF": value})
        assert config.require_appsecret_proof is required


def test_strict_modes_are_off_unless_the_environment_turns_them_on() -> None:
    plain = SandboxConfig.from_env({})
    assert plain.development_mode is False and plain.allowed_users == ()
    assert plain.refresh_token_lifetime == 183 * 86_400
    strict = SandboxConfig.from_env(
        {
            "SANDBOX_SPOTIFY_DEVELOPMENT_MODE": "1",
            "SANDBOX_SPOTIFY_ALLOWED_USERS": "alice, bob,,",
            "SANDBOX_SPOTIFY_REFRESH_TOKEN_LIFETIME": "120",
        }
    )
    assert strict.development_mode is True and strict.allowed_users == ("alice", "bob")
    assert strict.refresh_token_lifetime == 120


def test_a_bad_lifetime_names_its_variable() -> None:
    with pytest.raises(ValueError, match="SANDBOX_SPOTIFY_REFRESH_TOKEN_LIFETIME"):
        SandboxConfig.from_env({"SANDBOX_SPOTIFY_REFRESH_TOKEN_LIFETIME": "six months"})
