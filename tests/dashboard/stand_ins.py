"""Local stand-ins for two AWS services the deployed dashboard talks to.

- `OidcProvider`: Cognito's hosted UI as the page uses it, an OpenID Connect provider with the authorization
  code flow and PKCE (S256 only): /oauth2/authorize (a sign-in form), /oauth2/token, /logout, and the key
  set at /.well-known/jwks.json. A token request whose code_verifier does not hash to the challenge, or
  that reuses a code, is refused as Cognito refuses it (invalid_grant).
- `LocalFargate`: the two ECS calls the dashboard makes (RunTask, DescribeTasks, JSON 1.1 protocol), which
  runs the task definition's entry point as a real process with its environment, so a rebuild started from
  the dashboard really builds and publishes.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.dashboard.edge import _Server, body_of, reply

KEY_ID = "local-pool-key"


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class OidcProvider:
    def __init__(self, client_id: str, redirect_uris: list[str], users: dict[str, str]):
        self.client_id = client_id
        self.redirect_uris = redirect_uris
        self.users = users
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.codes: dict[str, dict[str, Any]] = {}
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, Any]] = []
        self.logouts: list[dict[str, str]] = []
        self._server = _Server(self._handle)
        self.url = self._server.url
        self.issuer = self.url

    # -- endpoints ---------------------------------------------------------------------------------------
    def _handle(self, request, method: str) -> None:
        parts = urlsplit(request.path)
        query = dict(parse_qsl(parts.query))
        if parts.path == "/.well-known/jwks.json":
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
            return self._json(request, 200, {"keys": [{**jwk, "kid": KEY_ID, "alg": "RS256", "use": "sig"}]})
        if parts.path == "/oauth2/authorize" and method == "GET":
            return self._authorize_form(request, query)
        if parts.path == "/oauth2/authorize" and method == "POST":
            return self._sign_in(request, dict(parse_qsl(body_of(request).decode())))
        if parts.path == "/oauth2/token" and method == "OPTIONS":
            return reply(request, 204, self._cors(request) | {"Access-Control-Allow-Methods": "POST",
                                                              "Access-Control-Allow-Headers": "content-type"}, b"")  # fmt: skip
        if parts.path == "/oauth2/token" and method == "POST":
            return self._token(request, dict(parse_qsl(body_of(request).decode())))
        if parts.path == "/logout":
            self.logouts.append(query)
            if query.get("client_id") != self.client_id or query.get("logout_uri") not in self.redirect_uris:
                return self._json(request, 400, {"error": "invalid logout request"})
            return reply(request, 302, {"Location": query["logout_uri"]}, b"")
        return self._json(request, 404, {"error": "not found"})

    def _cors(self, request) -> dict[str, str]:
        origin = request.headers.get("origin") or ""
        allowed = {f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in self.redirect_uris}
        return {"Access-Control-Allow-Origin": origin} if origin in allowed else {}

    def _json(self, request, status: int, body: Any, extra: dict[str, str] | None = None) -> None:
        reply(request, status, {"Content-Type": "application/json", "Cache-Control": "no-store", **(extra or {})},
              json.dumps(body).encode())  # fmt: skip

    def _authorize_form(self, request, query: dict[str, str]) -> None:
        self.authorize_requests.append(query)
        problem = self._authorize_problem(query)
        if problem:
            return self._json(request, 400, {"error": "invalid_request", "error_description": problem})
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in query.items()
        )
        page = (
            "<!doctype html><title>Sign in</title><form method=post action=/oauth2/authorize>" + hidden +
            '<label>Email <input name=username id=signin-email></label>'
            '<label>Password <input name=password type=password id=signin-password></label>'
            "<button type=submit id=signin-submit>Sign in</button></form>"
        )  # fmt: skip
        reply(request, 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode())

    def _authorize_problem(self, query: dict[str, str]) -> str | None:
        if query.get("client_id") != self.client_id:
            return "unknown client"
        if query.get("redirect_uri") not in self.redirect_uris:
            return "redirect_uri is not a callback URL of the client"
        if query.get("response_type") != "code":
            return "only the authorization code flow is allowed for this client"
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return "a PKCE challenge (S256) is required"
        return None

    def _sign_in(self, request, form: dict[str, str]) -> None:
        if self._authorize_problem(form):
            return self._json(request, 400, {"error": "invalid_request"})
        if self.users.get(form.get("username", "")) != form.get("password"):
            return reply(
                request, 200, {"Content-Type": "text/html"}, b"<p id=signin-refused>Incorrect username or password.</p>"
            )
        code = secrets.token_urlsafe(24)
        self.codes[code] = {
            "client_id": form["client_id"], "redirect_uri": form["redirect_uri"], "challenge": form["code_challenge"],
            "email": form["username"], "at": time.time(),
        }  # fmt: skip
        target = form["redirect_uri"] + "?" + urlencode({"code": code, "state": form.get("state", "")})
        reply(request, 302, {"Location": target}, b"")

    def _token(self, request, form: dict[str, str]) -> None:
        grant = self.codes.pop(form.get("code", ""), None)  # a code is used once
        outcome = "issued"
        if form.get("grant_type") != "authorization_code" or grant is None:
            outcome = "unknown or used code"
        elif form.get("client_id") != grant["client_id"] or form.get("redirect_uri") != grant["redirect_uri"]:
            outcome = "client or redirect_uri differs from the authorization request"
        elif s256(form.get("code_verifier", "")) != grant["challenge"]:
            outcome = "code_verifier does not match the challenge"
        self.token_requests.append({"form": form, "outcome": outcome})
        if outcome != "issued":
            return self._json(request, 400, {"error": "invalid_grant"}, self._cors(request))
        self._json(request, 200, {"id_token": self.id_token(grant["email"]), "access_token": secrets.token_urlsafe(32),
                                  "token_type": "Bearer", "expires_in": 3600}, self._cors(request))  # fmt: skip

    def id_token(self, email: str) -> str:
        now = int(time.time())
        claims = {
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, email)), "email": email, "iss": self.issuer, "aud": self.client_id,
            "token_use": "id", "iat": now, "auth_time": now, "exp": now + 3600,
        }  # fmt: skip
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KEY_ID})

    def close(self) -> None:
        self._server.close()


class LocalFargate:
    """ECS's RunTask and DescribeTasks for `task_definitions` (ARN -> its container, resolved from the template).

    RunTask starts the container's entry point as a process with the container's environment plus `extra_env`
    (the local stand-ins' addresses and folders); DescribeTasks reports it RUNNING, then STOPPED with the
    container's exit code, as Fargate does.
    """

    def __init__(
        self, cluster: str, task_definitions: dict[str, dict[str, Any]], extra_env: dict[str, str], log_dir: Path
    ):
        self.cluster = cluster
        self.task_definitions = task_definitions
        self.extra_env = extra_env
        self.log_dir = log_dir
        self.runs: list[dict[str, Any]] = []
        self.tasks: dict[str, dict[str, Any]] = {}
        self._server = _Server(self._handle)
        self.url = self._server.url

    def _handle(self, request, method: str) -> None:
        operation = (request.headers.get("x-amz-target") or "").rsplit(".", 1)[-1]
        body = json.loads(body_of(request) or b"{}")
        if operation == "RunTask":
            return self._reply(request, *self._run(body))
        if operation == "DescribeTasks":
            return self._reply(
                request, 200, {"tasks": [self._describe(a) for a in body["tasks"] if a in self.tasks], "failures": []}
            )
        self._reply(request, 400, {"__type": "InvalidParameterException", "message": f"{operation} is not played here"})

    def _reply(self, request, status: int, body: dict[str, Any]) -> None:
        reply(request, status, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(body).encode())

    def _run(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.runs.append(body)
        if body.get("cluster") != self.cluster or body.get("taskDefinition") not in self.task_definitions:
            return 400, {"__type": "ClientException", "message": "unknown cluster or task definition"}
        container = self.task_definitions[body["taskDefinition"]]
        command = [
            sys.executable if part == "python" else part
            for part in [*container.get("EntryPoint", []), *container.get("Command", [])]
        ]
        env = {**os.environ, **{e["Name"]: e["Value"] for e in container.get("Environment", [])}, **self.extra_env}
        arn = f"arn:aws:ecs:ap-southeast-1:123456789012:task/{self.cluster}/{uuid.uuid4().hex}"
        log = open(self.log_dir / f"{arn.rsplit('/', 1)[1]}.log", "wb")  # noqa: SIM115 - closed when the task ends
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[2]
        )
        self.tasks[arn] = {
            "process": process,
            "log": log,
            "container": container["Name"],
            "definition": body["taskDefinition"],
        }
        return 200, {"tasks": [self._describe(arn)], "failures": []}

    def _describe(self, arn: str) -> dict[str, Any]:
        task = self.tasks[arn]
        code = task["process"].poll()
        if code is not None and not task["log"].closed:
            task["log"].close()
        container = {"name": task["container"], "lastStatus": "RUNNING" if code is None else "STOPPED"}
        described = {"taskArn": arn, "taskDefinitionArn": task["definition"], "launchType": "FARGATE",
                     "lastStatus": "RUNNING" if code is None else "STOPPED", "containers": [container]}  # fmt: skip
        if code is not None:
            container["exitCode"] = code
            described["stoppedReason"] = "Essential container in task exited"
        return described

    def wait(self, timeout: float = 300) -> None:
        for task in self.tasks.values():
            task["process"].wait(timeout=timeout)

    def log_of(self, arn: str) -> str:
        return (self.log_dir / f"{arn.rsplit('/', 1)[1]}.log").read_text(errors="replace")

    def close(self) -> None:
        for task in self.tasks.values():
            if task["process"].poll() is None:
                task["process"].kill()
            task["log"].close()
        self._server.close()
