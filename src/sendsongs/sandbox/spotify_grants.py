"""The fake Spotify Accounts service's memory: authorization codes, refresh and access
tokens, and the rules that end them (expiry, revocation, the six-month consent limit).

Refresh tokens expire a fixed time after the person's original consent (six months
since July 2026: https://developer.spotify.com/blog/2026-06-18-refresh-token-expiration);
refreshing, with or without rotation, does not extend that. Past it the token endpoint
answers 400 `{"error": "invalid_grant", "error_description": "Refresh token expired"}`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from sendsongs.sandbox.clock import Clock

CODE_TTL = 600  # seconds an authorization code may wait to be exchanged


class TokenError(Exception):
    """An /api/token refusal, in Spotify's `{"error", "error_description"}` terms."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    scope: str
    user: str
    code_challenge: str | None
    expires_at: float


@dataclass
class RefreshGrant:
    token: str
    user: str
    scope: str
    client_id: str
    public: bool  # issued to a PKCE client, which may refresh without its secret
    consented_at: float  # the original consent; rotation carries it over unchanged
    valid: bool = True


@dataclass
class AccessGrant:
    token: str
    user: str | None  # None: a client-credentials token, which speaks for no one
    scope: str
    expires_at: float
    refresh: RefreshGrant | None

    def scopes(self) -> set[str]:
        return set(self.scope.split())


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a code verifier (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class Grants:
    """Every code and token issued; mutated only from the event loop."""

    clock: Clock
    token_ttl: int
    rotate_refresh_tokens: bool
    refresh_token_lifetime: int
    codes: dict[str, AuthCode] = field(default_factory=dict)
    refresh_grants: dict[str, RefreshGrant] = field(default_factory=dict)
    access_grants: dict[str, AccessGrant] = field(default_factory=dict)

    def issue_code(
        self, client_id: str, redirect_uri: str, scope: str, user: str, challenge: str | None
    ) -> str:
        code = secrets.token_urlsafe(48)
        self.codes[code] = AuthCode(
            client_id, redirect_uri, scope, user, challenge, self.clock() + CODE_TTL
        )
        return code

    def redeem_code(
        self,
        code: str,
        client_id: str,
        redirect_uri: str,
        verifier: str | None,
        authenticated: bool,
    ) -> dict[str, Any]:
        # Popped before any check: a code is good for one attempt, right or wrong.
        grant = self.codes.pop(code, None)
        if grant is None or grant.expires_at <= self.clock() or grant.client_id != client_id:
            raise TokenError("invalid_grant", "Invalid authorization code")
        if grant.redirect_uri != redirect_uri:
            raise TokenError("invalid_grant", "Invalid redirect URI")
        if grant.code_challenge is not None:
            if not verifier or s256(verifier) != grant.code_challenge:
                raise TokenError("invalid_grant", "code_verifier was incorrect")
        elif not authenticated:
            raise TokenError("invalid_client", "Invalid client secret")
        refresh = RefreshGrant(
            token=secrets.token_urlsafe(96),
            user=grant.user,
            scope=grant.scope,
            client_id=client_id,
            public=grant.code_challenge is not None,
            consented_at=self.clock(),
        )
        self.refresh_grants[refresh.token] = refresh
        access = self._issue_access(refresh.user, refresh.scope, refresh)
        return {**self._token_json(access), "refresh_token": refresh.token}

    def refresh_expires_at(self, grant: RefreshGrant) -> float:
        return grant.consented_at + self.refresh_token_lifetime

    def refresh(self, token: str, client_id: str, authenticated: bool) -> dict[str, Any]:
        grant = self.refresh_grants.get(token)
        if grant is None or grant.client_id != client_id:
            raise TokenError("invalid_grant", "Invalid refresh token")
        if not grant.valid:
            raise TokenError("invalid_grant", "Refresh token revoked")
        if not authenticated and not grant.public:
            raise TokenError("invalid_client", "Invalid client secret")
        if self.refresh_expires_at(grant) <= self.clock():
            raise TokenError("invalid_grant", "Refresh token expired")
        if self.rotate_refresh_tokens:
            # The old refresh token stops working once its successor exists.
            del self.refresh_grants[token]
            grant = RefreshGrant(
                secrets.token_urlsafe(96),
                grant.user,
                grant.scope,
                client_id,
                grant.public,
                grant.consented_at,
            )
            self.refresh_grants[grant.token] = grant
        access = self._issue_access(grant.user, grant.scope, grant)
        body = self._token_json(access)
        if self.rotate_refresh_tokens:
            body["refresh_token"] = grant.token
        return body

    def client_credentials(self) -> dict[str, Any]:
        access = self._issue_access(None, "", None)
        body = self._token_json(access)
        del body["scope"]
        return body

    def _issue_access(
        self, user: str | None, scope: str, refresh: RefreshGrant | None
    ) -> AccessGrant:
        token = "BQ" + secrets.token_urlsafe(120)  # Spotify's access tokens start with BQ
        access = AccessGrant(token, user, scope, self.clock() + self.token_ttl, refresh)
        self.access_grants[token] = access
        return access

    def _token_json(self, access: AccessGrant) -> dict[str, Any]:
        return {
            "access_token": access.token,
            "token_type": "Bearer",
            "scope": access.scope,
            "expires_in": self.token_ttl,
        }

    def check_access(self, token: str) -> AccessGrant | str:
        """The grant behind a bearer token, or the 401 message Spotify would give."""
        access = self.access_grants.get(token)
        if access is None or (access.refresh is not None and not access.refresh.valid):
            return "Invalid access token"
        if access.expires_at <= self.clock():
            return "The access token expired"
        return access

    def refresh_grants_of(self, user: str) -> list[RefreshGrant]:
        return [g for g in self.refresh_grants.values() if g.user == user]

    def age_consent(self, user: str, seconds: float) -> list[RefreshGrant]:
        """Move the original consent of every refresh token of `user` back in time."""
        grants = self.refresh_grants_of(user)
        for grant in grants:
            grant.consented_at -= seconds
        return grants

    def revoke(self, user: str) -> int:
        """The person removes the app: every grant of theirs stops working."""
        revoked = 0
        for grant in self.refresh_grants.values():
            if grant.user == user and grant.valid:
                grant.valid = False
                revoked += 1
        for code, pending in list(self.codes.items()):
            if pending.user == user:
                del self.codes[code]
        for token, access in list(self.access_grants.items()):
            if access.user == user:
                del self.access_grants[token]
        return revoked

    def expire_access_tokens(self) -> int:
        now = self.clock()
        for access in self.access_grants.values():
            access.expires_at = min(access.expires_at, now)
        return len(self.access_grants)

    def reset(self) -> None:
        self.codes.clear()
        self.refresh_grants.clear()
        self.access_grants.clear()
