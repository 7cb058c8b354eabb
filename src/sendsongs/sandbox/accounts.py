"""The fake Spotify Accounts service: the consent page (`/authorize`) and `/api/token`.

The consent page never picks an account for the person: they choose one from the list
(or type a new sandbox user) and a submit without a choice shows the page again with an
error. A `sandbox_user=<id>` query parameter preselects that account (or fills in the
new-user field for an unknown id). Real Spotify has no such parameter: it logs in
whoever is signed in to accounts.spotify.com, so this is a sandbox-only login hint for
tests and the demo.

Token exchange follows https://developer.spotify.com/documentation/web-api/tutorials/
code-pkce-flow and code-flow. Bad client credentials, in the body or in a Basic header,
answer 400 `{"error": "invalid_client", "error_description": "Invalid client"}` (or
`"Invalid client secret"` for a known client with the wrong secret). Development mode
does not stop the exchange: a person off the allow-list gets tokens, and only the Web
API refuses them (see `web_api`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from sendsongs.sandbox.config import SandboxConfig
from sendsongs.sandbox.paths import sandbox_root
from sendsongs.sandbox.spotify_grants import TokenError
from sendsongs.sandbox.spotify_world import SpotifyWorld
from sendsongs.sandbox.traffic import Family, Traffic, api_route

APP_NAME = "Send Songs"
AUTHORIZE_PARAMS = (
    "client_id",
    "response_type",
    "redirect_uri",
    "state",
    "scope",
    "code_challenge_method",
    "code_challenge",
    "show_dialog",
)
SCOPE_TEXT = {
    "user-read-recently-played": "Your recently played content",
    "user-read-currently-playing": "The content you're currently playing",
    "user-read-playback-state": "Your Spotify playback state",
    "user-read-private": "Your subscription details and country",
    "user-read-email": "Your email address",
}


class Accounts:
    """Route handlers for consent and token exchange over the fake Spotify world."""

    def __init__(self, world: SpotifyWorld, config: SandboxConfig) -> None:
        self.world = world
        self.config = config
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
            autoescape=True,
        )

    def routes(self, traffic: Traffic) -> list[Route]:
        return [
            api_route("/authorize", self.consent, ["GET"], traffic, Family.ACCOUNTS),
            api_route("/authorize", self.decide, ["POST"], traffic, Family.ACCOUNTS),
            api_route("/api/token", self.token, ["POST"], traffic, Family.ACCOUNTS),
        ]

    # -- consent --
    def _invalid(self, params: Mapping[str, str]) -> str | None:
        """Why Spotify would show an error page instead of consent (no redirect, since
        an unverified redirect_uri must never receive anything)."""
        client_id = params.get("client_id")
        if not client_id:
            return "Missing required parameter: client_id"
        if client_id != self.config.client_id:
            return "INVALID_CLIENT: Invalid client"
        redirect = URL(params.get("redirect_uri", ""))
        if redirect.scheme not in ("http", "https") or not redirect.netloc:
            return "INVALID_CLIENT: Invalid redirect URI"
        if params.get("response_type") != "code":
            return "unsupported_response_type: response_type must be code"
        method, challenge = params.get("code_challenge_method"), params.get("code_challenge")
        if (method or challenge) and (method != "S256" or not challenge):
            return "INVALID_REQUEST: code_challenge_method must be S256 with a code_challenge"
        return None

    def _page(
        self,
        request: Request,
        params: Mapping[str, str],
        error: str | None,
        status: int,
        hint: str = "",
    ) -> HTMLResponse:
        template = self.templates.get_template("authorize.html")
        scopes = params.get("scope", "").split()
        known = hint in self.world.users
        html = template.render(
            selected=hint if known else "",
            new_user=hint if hint and not known else "",
            app_name=APP_NAME,
            # A path, not a URL: right behind any proxy or host name the browser used.
            action=sandbox_root(request) + "/authorize",
            hidden={k: params[k] for k in AUTHORIZE_PARAMS if params.get(k)},
            scopes=[SCOPE_TEXT.get(s, s) for s in scopes],
            users=sorted(self.world.users.values(), key=lambda u: u.id),
            error=error,
        )
        return HTMLResponse(html, status_code=status)

    def _error_page(self, message: str) -> HTMLResponse:
        html = self.templates.get_template("error.html").render(message=message)
        return HTMLResponse(html, status_code=400)

    async def consent(self, request: Request) -> Response:
        params = dict(request.query_params)
        problem = self._invalid(params)
        if problem:
            return self._error_page(problem)
        return self._page(request, params, None, 200, params.get("sandbox_user", "").strip())

    async def decide(self, request: Request) -> Response:
        form = await request.form()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
        problem = self._invalid(params)
        if problem:
            return self._error_page(problem)
        target = URL(params["redirect_uri"])
        state = {"state": params["state"]} if params.get("state") else {}
        if params.get("decision") != "allow":
            denied = target.include_query_params(error="access_denied", **state)
            return RedirectResponse(str(denied), status_code=302)
        user_id = (params.get("new_user") or params.get("user") or "").strip()
        if not user_id:
            return self._page(request, params, "Choose who is logging in.", 400)
        self.world.add_user(user_id)
        code = self.world.grants.issue_code(
            params["client_id"],
            params["redirect_uri"],
            params.get("scope", ""),
            user_id,
            params.get("code_challenge"),
        )
        return RedirectResponse(
            str(target.include_query_params(code=code, **state)), status_code=302
        )

    # -- token --
    async def token(self, request: Request) -> Response:
        form = await request.form()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
        try:
            client_id, authenticated = self._client(request, params)
            return JSONResponse(self._grant(params, client_id, authenticated))
        except TokenError as error:
            return JSONResponse(
                {"error": error.error, "error_description": error.description},
                status_code=error.status,
            )

    def _client(self, request: Request, params: Mapping[str, str]) -> tuple[str, bool]:
        """Who is asking, and whether they proved it with the client secret."""
        header = request.headers.get("authorization", "")
        if header[:6].lower() == "basic ":
            try:
                client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise TokenError("invalid_client", "Invalid client") from None
        else:
            client_id = params.get("client_id", "")
            secret = params.get("client_secret", "")
        # Spotify answers 400 even for a failed Basic login (RFC 6749 §5.2 would allow
        # 401): `{"error": "invalid_client", "error_description": "Invalid client"}`.
        if client_id != self.config.client_id:
            raise TokenError("invalid_client", "Invalid client")
        if secret and secret != self.config.client_secret:
            raise TokenError("invalid_client", "Invalid client secret")
        return client_id, bool(secret)

    def _grant(
        self, params: Mapping[str, str], client_id: str, authenticated: bool
    ) -> dict[str, Any]:
        grant_type = params.get("grant_type")
        if grant_type == "authorization_code":
            return self.world.grants.redeem_code(
                params.get("code", ""),
                client_id,
                params.get("redirect_uri", ""),
                params.get("code_verifier"),
                authenticated,
            )
        if grant_type == "refresh_token":
            if not params.get("refresh_token"):
                raise TokenError("invalid_request", "refresh_token must be supplied")
            return self.world.grants.refresh(params["refresh_token"], client_id, authenticated)
        if grant_type == "client_credentials":
            if not authenticated:
                raise TokenError("invalid_client", "Invalid client secret")
            return self.world.grants.client_credentials()
        if not grant_type:
            raise TokenError("unsupported_grant_type", "grant_type parameter is missing")
        raise TokenError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
