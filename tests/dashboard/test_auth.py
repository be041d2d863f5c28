"""Production sign-in: Cognito ID tokens checked against a JWKS served from a local HTTP server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from dashboard.app import create_app
from dashboard.auth import CognitoVerifier, StaticTokenVerifier, Unauthorized
from dashboard.settings import Cognito, load_dashboard_settings
from tests.dashboard.conftest import serve_in_thread

CLIENT_ID = "5example0client0id0lotus"
KID = "lotus-key-1"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def keys() -> dict[str, rsa.RSAPrivateKey]:
    return {"pool": _key(), "stranger": _key()}


@pytest.fixture(scope="module")
def jwks_server(keys) -> Iterator[dict[str, str]]:
    """The user pool's published keys at /.well-known/jwks.json, and how often they were fetched."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(keys["pool"].public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]}).encode()
    fetches = {"count": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            if self.path != "/pool/.well-known/jwks.json":
                self.send_error(404)
                return
            fetches["count"] += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    issuer = f"http://127.0.0.1:{server.server_port}/pool"
    yield {"issuer": issuer, "jwks_url": f"{issuer}/.well-known/jwks.json", "fetches": fetches}
    server.shutdown()


@pytest.fixture(scope="module")
def cognito(jwks_server) -> Cognito:
    return Cognito(issuer=jwks_server["issuer"], jwks_url=jwks_server["jwks_url"], app_client_id=CLIENT_ID)


def _claims(issuer: str, **changes) -> dict:
    now = int(time.time())
    claims = {
        "sub": "0f1e2d3c-staff", "email": "hoa@lotusspa.example", "iss": issuer, "aud": CLIENT_ID,
        "token_use": "id", "iat": now, "auth_time": now, "exp": now + 3600,
    }  # fmt: skip
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _tokens(keys, issuer: str) -> dict[str, str]:
    pool = keys["pool"]
    sign = lambda claims, key=pool, kid=KID: jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})  # noqa: E731
    public_pem = pool.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": KID}).encode())
    payload = _b64(json.dumps(_claims(issuer)).encode())
    hs256_with_public_key = f"{header}.{payload}." + _b64(
        hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    )
    none_header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": KID}).encode())
    return {
        "valid": sign(_claims(issuer)),
        "expired": sign(_claims(issuer, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)),
        "wrong issuer": sign(_claims("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other")),
        "wrong audience": sign(_claims(issuer, aud="another-app-client")),
        "wrong key": sign(_claims(issuer), key=keys["stranger"]),
        "unknown key id": sign(_claims(issuer), key=keys["stranger"], kid="not-in-the-pool"),
        "alg none": f"{none_header}.{payload}.",
        "HS256 signed with the public key": hs256_with_public_key,
        "access token": sign(_claims(issuer, token_use="access")),
        "no expiry": sign(_claims(issuer, exp=None)),
        "garbage": "not.a.jwt",
    }


def test_only_the_valid_id_token_passes(keys, cognito, jwks_server):
    verifier = CognitoVerifier(cognito)
    tokens = _tokens(keys, cognito.issuer)
    user = verifier.verify(tokens["valid"])
    assert user.name == "hoa@lotusspa.example" and user.claims["token_use"] == "id"
    for name, token in tokens.items():
        if name == "valid":
            continue
        with pytest.raises(Unauthorized):
            verifier.verify(token)
            pytest.fail(f"{name} was accepted")


def test_the_key_set_is_fetched_once_and_cached(keys, cognito, jwks_server):
    verifier = CognitoVerifier(cognito)
    before = jwks_server["fetches"]["count"]
    token = _tokens(keys, cognito.issuer)["valid"]
    for _ in range(5):
        verifier.verify(token)
    assert jwks_server["fetches"]["count"] == before + 1


def test_the_api_accepts_only_the_valid_token(keys, cognito):
    config = replace(load_dashboard_settings(), token=None, cognito=cognito)
    with serve_in_thread(create_app(config)) as base:
        results = {
            name: requests.get(f"{base}/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code
            for name, token in _tokens(keys, cognito.issuer).items()
        }
        assert requests.get(f"{base}/api/me", timeout=10).status_code == 401
        assert requests.get(f"{base}/auth/config", timeout=10).json() == {
            "mode": "cognito", "domain": None, "client_id": CLIENT_ID,
        }  # fmt: skip
    assert results == {name: 200 if name == "valid" else 401 for name in results}


def test_static_token_compares_whole_tokens():
    verifier = StaticTokenVerifier("s3cret-token")
    assert verifier.verify("s3cret-token").name == "staff"
    for wrong in ("", "s3cret", "s3cret-token ", "S3CRET-TOKEN"):
        with pytest.raises(Unauthorized):
            verifier.verify(wrong)


def test_settings_choose_cognito_from_the_pool(monkeypatch):
    monkeypatch.setenv("COGNITO_REGION", "ap-southeast-1")
    monkeypatch.setenv("COGNITO_USER_POOL_ID", "ap-southeast-1_AbCdEf")
    monkeypatch.setenv("COGNITO_APP_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("COGNITO_DOMAIN", "lotus-admin.auth.ap-southeast-1.amazoncognito.com")
    cognito = load_dashboard_settings().cognito
    assert cognito == Cognito(
        issuer="https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_AbCdEf",
        jwks_url="https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_AbCdEf/.well-known/jwks.json",
        app_client_id=CLIENT_ID,
        hosted_ui_domain="https://lotus-admin.auth.ap-southeast-1.amazoncognito.com",
    )
    monkeypatch.delenv("COGNITO_APP_CLIENT_ID")
    with pytest.raises(ValueError, match="COGNITO_APP_CLIENT_ID"):
        load_dashboard_settings()


@pytest.mark.parametrize("token", ["", "changeme", "set-me-please", "Ab3xK9q"])
def test_a_placeholder_or_short_dashboard_token_stops_the_start_naming_the_setting(token, tmp_path):
    import os
    import subprocess
    import sys

    from core.settings import PROJECT_ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith("COGNITO_")}
    env.update(DASHBOARD_TOKEN=token, PYTHONPATH=str(PROJECT_ROOT))
    if not token:  # an empty token is generated by `python -m dashboard`; the verifier itself refuses it
        with pytest.raises(ValueError, match="DASHBOARD_TOKEN is empty"):
            StaticTokenVerifier(token)
        return
    started = subprocess.run(
        [sys.executable, "-m", "dashboard", "--port", "0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 2
    assert "DASHBOARD_TOKEN" in started.stderr and token not in started.stderr.replace("DASHBOARD_TOKEN", "")
