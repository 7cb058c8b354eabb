"""The fake Spotify Accounts service: consent page, code + PKCE, refresh, client credentials."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

import httpx

from sendsongs.sandbox.config import SandboxConfig
from sendsongs.sandbox.spotify_grants import s256

from .helpers import REDIRECT_URI, FakeClock, authorize, basic, login

DAY = 86_400
TITLE = "Allow Send Songs to see your recently played tracks?"


def consent_query(config: SandboxConfig, **overrides: str) -> dict[str, str]:
    return {
        "client_id": config.client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "state": "xyz",
        "scope": "user-read-recently-played",
        "code_challenge_method": "S256",
        "code_challenge": s256("verifier"),
        **overrides,
    }


async def test_consent_page_offers_users_and_keeps_every_parameter(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    await client.post("/_sandbox/spotify/users", json={"id": "bob", "display_name": "Bob"})
    response = await client.get("/authorize", params=consent_query(config))
    assert response.status_code == 200
    page = response.text
    assert f"<title>{TITLE}</title>" in page
    assert 'name="user"' in page and '<option value="bob">' in page
    assert 'name="new_user"' in page
    assert 'id="allow"' in page and 'name="decision" value="allow"' in page
    assert 'name="code_challenge" value="' + s256("verifier") in page
    assert 'action="/authorize"' in page


async def test_bad_client_or_redirect_gets_an_error_page_not_a_redirect(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    for bad in (
        {"client_id": "nope"},
        {"redirect_uri": "not a url"},
        {"response_type": "token"},
        {"code_challenge_method": "plain"},
    ):
        response = await client.get("/authorize", params=consent_query(config, **bad))
        assert response.status_code == 400, bad
        assert "location" not in response.headers


async def test_deny_redirects_with_access_denied(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    form = consent_query(config, user="", decision="deny")
    response = await client.post("/authorize", data=form)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query == {"error": ["access_denied"], "state": ["xyz"]}


async def test_allow_needs_a_user(client: httpx.AsyncClient, config: SandboxConfig) -> None:
    response = await client.post("/authorize", data=consent_query(config, decision="allow"))
    assert response.status_code == 400
    assert "Choose who is logging in" in response.text


async def test_allow_picks_an_existing_user_from_the_list(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    await client.post("/_sandbox/spotify/users", json={"id": "bob"})
    form = {**consent_query(config), "user": "bob", "new_user": "", "decision": "allow"}
    response = await client.post("/authorize", data=form)
    assert response.status_code == 302
    assert response.headers["location"].startswith(REDIRECT_URI + "?code=")


async def test_pkce_code_flow_without_a_secret(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    tokens = await login(client, config, "alice")
    assert tokens["token_type"] == "Bearer"
    assert tokens["scope"] == "user-read-recently-played"
    assert tokens["expires_in"] == 3600
    assert tokens["access_token"] and tokens["refresh_token"]
    users = (await client.get("/_sandbox/spotify/users")).json()["users"]
    assert [u["id"] for u in users] == ["alice"]


async def test_code_is_single_use_and_checks_verifier_and_redirect(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    verifier = secrets.token_urlsafe(48)
    exchange = {
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT_URI,
        "client_id": config.client_id,
        "code_verifier": verifier,
    }
    code = await authorize(client, config, challenge=s256(verifier))
    wrong = await client.post(
        "/api/token", data={**exchange, "code": code, "code_verifier": "x" * 43}
    )
    assert wrong.status_code == 400
    assert wrong.json() == {
        "error": "invalid_grant",
        "error_description": "code_verifier was incorrect",
    }

    code = await authorize(client, config, challenge=s256(verifier))
    moved = await client.post(
        "/api/token", data={**exchange, "code": code, "redirect_uri": "http://evil.test/cb"}
    )
    assert moved.json()["error"] == "invalid_grant"

    code = await authorize(client, config, challenge=s256(verifier))
    first = await client.post("/api/token", data={**exchange, "code": code})
    again = await client.post("/api/token", data={**exchange, "code": code})
    assert first.status_code == 200
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


async def test_confidential_client_uses_basic_auth(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    code = await authorize(client, config)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    response = await client.post("/api/token", data=form, headers=basic(config))
    assert response.status_code == 200 and "refresh_token" in response.json()

    code = await authorize(client, config)
    without_secret = await client.post(
        "/api/token", data={**form, "code": code, "client_id": config.client_id}
    )
    assert without_secret.json()["error"] == "invalid_client"


async def test_wrong_client_credentials(client: httpx.AsyncClient) -> None:
    header = basic(SandboxConfig(client_secret="wrong"))
    response = await client.post(
        "/api/token", data={"grant_type": "client_credentials"}, headers=header
    )
    assert response.status_code == 400  # not 401, though RFC 6749 would allow it
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Invalid client secret",
    }
    unknown = await client.post(
        "/api/token",
        data={"grant_type": "client_credentials"},
        headers=basic(SandboxConfig(client_id="who")),
    )
    assert unknown.status_code == 400
    assert unknown.json() == {"error": "invalid_client", "error_description": "Invalid client"}
    in_body = await client.post(
        "/api/token",
        data={"grant_type": "client_credentials", "client_id": "who", "client_secret": "x"},
    )
    assert in_body.status_code == 400 and in_body.json()["error"] == "invalid_client"


async def test_unsupported_grant_type(client: httpx.AsyncClient, config: SandboxConfig) -> None:
    response = await client.post(
        "/api/token", data={"grant_type": "password"}, headers=basic(config)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def test_refresh_rotates_and_the_old_token_dies(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    tokens = await login(client, config)
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    fresh = await client.post("/api/token", data=form, headers=basic(config))
    body = fresh.json()
    assert fresh.status_code == 200
    assert body["access_token"] != tokens["access_token"]
    assert body["refresh_token"] != tokens["refresh_token"]
    assert body["scope"] == "user-read-recently-played"
    stale = await client.post("/api/token", data=form, headers=basic(config))
    assert stale.status_code == 400 and stale.json()["error"] == "invalid_grant"
    # A PKCE grant may be refreshed with the client id alone.
    public = {
        "grant_type": "refresh_token",
        "refresh_token": body["refresh_token"],
        "client_id": config.client_id,
    }
    assert (await client.post("/api/token", data=public)).status_code == 200


async def test_refresh_without_rotation_keeps_the_token(clock: object) -> None:
    from sendsongs.sandbox.app import create_sandbox_app

    config = SandboxConfig(rotate_refresh_tokens=False)
    app = create_sandbox_app(config)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://s.test") as client:
        tokens = await login(client, config)
        form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        for _ in range(2):
            response = await client.post("/api/token", data=form, headers=basic(config))
            assert response.status_code == 200
            assert "refresh_token" not in response.json()


async def test_revoked_user_gets_invalid_grant(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    tokens = await login(client, config, "alice")
    revoke = await client.post("/_sandbox/spotify/users/alice/revoke")
    assert revoke.json() == {"revoked_refresh_tokens": 1}
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    response = await client.post("/api/token", data=form, headers=basic(config))
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "Refresh token revoked",
    }


async def test_client_credentials(client: httpx.AsyncClient, config: SandboxConfig) -> None:
    response = await client.post(
        "/api/token",
        data={
            "grant_type": "client_credentials",
            "client_id": config.client_id,
            "client_secret": config.client_secret,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"


async def test_consent_page_chooses_no_account_for_the_person(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    for person in ("alice", "bob"):
        await client.post("/_sandbox/spotify/users", json={"id": person})
    page = (await client.get("/authorize", params=consent_query(config))).text
    assert '<option value="" selected>Choose an account' in page
    assert page.count(" selected") == 1
    # Pressing Allow at once gets the page back, not Alice's account.
    blank = {**consent_query(config), "user": "", "new_user": "", "decision": "allow"}
    again = await client.post("/authorize", data=blank)
    assert again.status_code == 400 and "location" not in again.headers
    assert "Choose who is logging in" in again.text and 'id="consent"' in again.text


async def test_sandbox_user_hint_preselects_that_account(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    for person in ("alice", "bob"):
        await client.post("/_sandbox/spotify/users", json={"id": person})
    page = (await client.get("/authorize", params=consent_query(config, sandbox_user="bob"))).text
    assert '<option value="bob" selected>' in page
    assert '<option value="alice">' in page and '<option value="" selected>' not in page
    newcomer = (
        await client.get("/authorize", params=consent_query(config, sandbox_user="carol"))
    ).text
    assert 'id="new_user" placeholder="e.g. alice"' in newcomer
    assert 'value="carol"' in newcomer and '<option value="" selected>' in newcomer


async def refresh(client: httpx.AsyncClient, config: SandboxConfig, token: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": token}
    return await client.post("/api/token", data=form, headers=basic(config))


async def test_refresh_tokens_die_six_months_after_the_original_consent(
    client: httpx.AsyncClient, config: SandboxConfig, clock: FakeClock
) -> None:
    token = (await login(client, config, "alice"))["refresh_token"]
    for _ in range(6):  # refreshing every month, with rotation, extends nothing
        clock.advance(30 * DAY)
        response = await refresh(client, config, token)
        assert response.status_code == 200
        token = response.json()["refresh_token"]
    clock.advance(3 * DAY - 1)  # 183 days after consent, less a second
    token = (await refresh(client, config, token)).json()["refresh_token"]
    clock.advance(1)
    expired = await refresh(client, config, token)
    assert expired.status_code == 400
    assert expired.json() == {
        "error": "invalid_grant",
        "error_description": "Refresh token expired",
    }
    # Consenting again starts a new six months.
    assert (
        await refresh(client, config, (await login(client, config))["refresh_token"])
    ).is_success


async def test_age_consent_and_a_shorter_lifetime(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    token = (await login(client, config, "alice"))["refresh_token"]
    grants = (await client.get("/_sandbox/spotify/users/alice/grants")).json()["grants"]
    assert len(grants) == 1 and grants[0]["valid"] is True
    aged = await client.post("/_sandbox/spotify/users/alice/age-consent", json={"days": 176})
    assert aged.json()["grants"][0]["valid"] is True  # a week left: time to remind
    assert (await refresh(client, config, token)).status_code == 200
    token = (await login(client, config, "bob"))["refresh_token"]
    await client.post("/_sandbox/spotify/users/bob/age-consent", json={"days": 183})
    assert (await refresh(client, config, token)).json()["error"] == "invalid_grant"
    assert (await client.get("/_sandbox/spotify/users/bob/grants")).json()["grants"][0][
        "valid"
    ] is False
    settings = await client.post("/_sandbox/spotify/settings", json={"refresh_token_lifetime": 60})
    assert settings.json()["refresh_token_lifetime"] == 60
    token = (await login(client, config, "carol"))["refresh_token"]
    await client.post("/_sandbox/spotify/users/carol/age-consent", json={"seconds": 60})
    assert (await refresh(client, config, token)).status_code == 400
    bad = await client.post("/_sandbox/spotify/users/carol/age-consent", json={})
    assert bad.status_code == 400
