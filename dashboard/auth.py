"""Who may use the API: a bearer token checked by one verifier, chosen by the settings.

Locally the token is `DASHBOARD_TOKEN`; in production it is an Amazon Cognito ID
token, verified against the user pool's published keys (RS256 only).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

import jwt

from dashboard.settings import Cognito, DashboardSettings


class Unauthorized(Exception):
    """The request carries no valid bearer token."""


@dataclass(frozen=True)
class User:
    name: str
    claims: dict[str, Any]


class Verifier(Protocol):
    mode: str

    def verify(self, token: str) -> User: ...


class StaticTokenVerifier:
    """The local sign-in: one shared token, compared in constant time."""

    mode = "token"

    def __init__(self, token: str):
        if not token:
            raise ValueError("the dashboard token must not be empty")
        self._token = token.encode()

    def verify(self, token: str) -> User:
        if not hmac.compare_digest(token.encode(), self._token):
            raise Unauthorized("wrong token")
        return User(name="staff", claims={})


class CognitoVerifier:
    """Cognito ID tokens: RS256 signature by a key of the pool's JWKS (cached), issuer, audience, expiry, token use."""

    mode = "cognito"
    ALGORITHMS = ["RS256"]

    def __init__(self, cognito: Cognito, leeway_seconds: int = 30):
        self.cognito = cognito
        self.leeway = leeway_seconds
        self._keys = jwt.PyJWKClient(cognito.jwks_url, cache_keys=True, lifespan=3600, timeout=5)

    def verify(self, token: str) -> User:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in self.ALGORITHMS:
                raise Unauthorized(f"token algorithm {header.get('alg')!r} is not accepted")
            key = self._keys.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=self.ALGORITHMS,
                audience=self.cognito.app_client_id,
                issuer=self.cognito.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"]},
            )
        except jwt.PyJWTError as err:  # includes PyJWKClientError (unknown key, JWKS unreachable)
            raise Unauthorized(str(err)) from err
        if claims.get("token_use") != "id":
            raise Unauthorized("not an ID token")
        name = claims.get("email") or claims.get("cognito:username") or claims["sub"]
        return User(name=str(name), claims=claims)


def make_verifier(config: DashboardSettings) -> Verifier:
    if config.cognito is not None:
        return CognitoVerifier(config.cognito)
    if not config.token:
        raise ValueError("set DASHBOARD_TOKEN (or configure Cognito) before starting the dashboard")
    return StaticTokenVerifier(config.token)


def generate_token() -> str:
    return secrets.token_urlsafe(24)
