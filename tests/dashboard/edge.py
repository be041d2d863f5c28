"""The dashboard's AWS edge on loopback ports, read from deploy/template.yaml: CloudFront's behaviours and
response headers policy in front of the published bucket (S3 on moto) and of the HTTP API, whose routes,
JWT authoriser and Lambda proxy integration (payload 2.0) are played for the real DashboardApi handler.

Only what the template declares is routed: a path, method or route it does not name is refused the way the
AWS service would refuse it.
"""

from __future__ import annotations

import asyncio
import base64
import fnmatch
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import boto3
import requests

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "date", "server"}


def resolve(value: Any, names: dict[str, str]) -> Any:
    """A template value with Ref, Fn::GetAtt, Fn::Sub and Fn::Join replaced by the local `names`."""
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return names[argument]
        if function == "Fn::GetAtt":
            return names[".".join(argument)]
        if function == "Fn::Sub":
            text, extra = (argument, {}) if isinstance(argument, str) else argument
            scope = {**names, **{k: resolve(v, names) for k, v in extra.items()}}
            return re.sub(r"\$\{([\w:.]+)\}", lambda m: scope[m[1]], text)
        if function == "Fn::Join":
            return argument[0].join(resolve(v, names) for v in argument[1])
    if isinstance(value, list):
        return [resolve(v, names) for v in value]
    return value


class _Server:
    """A ThreadingHTTPServer on a free loopback port whose every request goes to `handle`."""

    def __init__(self, handle: Callable[[BaseHTTPRequestHandler, str], None]):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                handle(self, self.command)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _any

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def body_of(request: BaseHTTPRequestHandler) -> bytes:
    length = int(request.headers.get("content-length") or 0)
    return request.rfile.read(length) if length else b""


def reply(request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes) -> None:
    request.send_response(status)
    for name, value in headers.items():
        request.send_header(name, value)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    if request.command != "HEAD":
        request.wfile.write(body)


def response_headers_policy(template: dict, policy: str, names: dict[str, str]) -> dict[str, tuple[str, bool]]:
    """Header -> (value, override) of an AWS::CloudFront::ResponseHeadersPolicy."""
    config = template["Resources"][policy]["Properties"]["ResponseHeadersPolicyConfig"]
    security = config.get("SecurityHeadersConfig", {})
    headers: dict[str, tuple[str, bool]] = {}
    if "ContentSecurityPolicy" in security:
        csp = security["ContentSecurityPolicy"]
        headers["Content-Security-Policy"] = (resolve(csp["ContentSecurityPolicy"], names), csp["Override"])
    if "StrictTransportSecurity" in security:
        hsts = security["StrictTransportSecurity"]
        value = f"max-age={hsts['AccessControlMaxAgeSec']}"
        value += "; includeSubDomains" if hsts.get("IncludeSubdomains") else ""
        value += "; preload" if hsts.get("Preload") else ""
        headers["Strict-Transport-Security"] = (value, hsts["Override"])
    if "FrameOptions" in security:
        headers["X-Frame-Options"] = (security["FrameOptions"]["FrameOption"], security["FrameOptions"]["Override"])
    if "ContentTypeOptions" in security:
        headers["X-Content-Type-Options"] = ("nosniff", security["ContentTypeOptions"]["Override"])
    if "ReferrerPolicy" in security:
        headers["Referrer-Policy"] = (
            security["ReferrerPolicy"]["ReferrerPolicy"],
            security["ReferrerPolicy"]["Override"],
        )
    for item in config.get("CustomHeadersConfig", {}).get("Items", []):
        headers[item["Header"]] = (item["Value"], item["Override"])
    return headers


class LocalCloudFront:
    """The template's DashboardDistribution: behaviours in order, then the default; S3 and custom origins.

    `names` resolves the template's references; `origins` maps each origin id to a moto bucket name (S3
    origins) or a base URL (custom origins); `local_names` rewrites production origins inside header values
    (the Cognito sign-in domain in the CSP) to their local stand-ins.
    """

    def __init__(
        self,
        template: dict,
        names: dict[str, str],
        origins: dict[str, str],
        local_names: dict[str, str],
        distribution: str = "DashboardDistribution",
    ):
        config = template["Resources"][distribution]["Properties"]["DistributionConfig"]
        self.default_root = config.get("DefaultRootObject")
        self.behaviours = [*config.get("CacheBehaviors", []), {**config["DefaultCacheBehavior"], "PathPattern": "*"}]
        self.origin_kinds = {o["Id"]: "s3" if "S3OriginConfig" in o else "custom" for o in config["Origins"]}
        self.origins = origins
        self.headers: dict[str, dict[str, tuple[str, bool]]] = {}
        for behaviour in self.behaviours:
            policy = behaviour.get("ResponseHeadersPolicyId", {}).get("Ref")
            headers = response_headers_policy(template, policy, names) if policy else {}
            for production, local in local_names.items():
                headers = {k: (v.replace(production, local), o) for k, (v, o) in headers.items()}
            self.headers[behaviour["PathPattern"]] = headers
        self.s3 = boto3.client("s3")
        self._server = _Server(self._handle)
        self.url = self._server.url

    def behaviour(self, path: str) -> dict[str, Any]:
        # CloudFront path patterns: `*` matches any characters, `/` included; the first match wins
        return next(b for b in self.behaviours if fnmatch.fnmatchcase(path, b["PathPattern"]))

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(request.path)
        behaviour = self.behaviour(parts.path)
        body = body_of(request)
        if method not in behaviour.get("AllowedMethods", ["GET", "HEAD"]):
            status, headers, content = (
                403,
                {"Content-Type": "text/plain"},
                b"This distribution is not configured to allow this method.",
            )
        elif self.origin_kinds[behaviour["TargetOriginId"]] == "s3":
            status, headers, content = self._from_s3(self.origins[behaviour["TargetOriginId"]], parts.path)
        else:
            status, headers, content = self._from_custom(self.origins[behaviour["TargetOriginId"]], request, body)
        for name, (value, override) in self.headers[behaviour["PathPattern"]].items():
            present = next((k for k in headers if k.lower() == name.lower()), None)
            if present is None or override:
                headers.pop(present, None) if present else None
                headers[name] = value
        reply(request, status, headers, content)

    def _from_s3(self, bucket: str, path: str) -> tuple[int, dict[str, str], bytes]:
        key = path.lstrip("/") or (self.default_root or "")
        try:
            found = self.s3.get_object(Bucket=bucket, Key=key)
        except self.s3.exceptions.NoSuchKey:
            # with origin access control and no s3:ListBucket, S3 answers a missing key with 403
            return 403, {"Content-Type": "application/xml"}, b"<Error><Code>AccessDenied</Code></Error>"
        headers = {"Content-Type": found["ContentType"], "ETag": found["ETag"]}
        if found.get("CacheControl"):
            headers["Cache-Control"] = found["CacheControl"]
        return 200, headers, found["Body"].read()

    def _from_custom(
        self, base: str, request: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        # Managed-AllViewerExceptHostHeader: every viewer header (Authorization included) but Host
        forwarded = {k: v for k, v in request.headers.items() if k.lower() not in {"host", *HOP_BY_HOP}}
        answer = requests.request(
            request.command, base + request.path, headers=forwarded, data=body, timeout=120, allow_redirects=False
        )
        headers = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
        return answer.status_code, headers, answer.content

    def close(self) -> None:
        self._server.close()


def _route_pattern(path: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(path))
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern) + "$")


class LocalHttpApi:
    """An API Gateway HTTP API of the template (AWS::ApiGatewayV2 routes of `api`), in front of a Lambda handler.

    A request no route matches gets API Gateway's 404; a JWT route without a valid token its 401, before the
    handler runs (`verify` plays the authoriser: it raises on a bad token and returns the claims).
    """

    def __init__(self, template: dict, api: str, handler: Callable[[dict, Any], dict], verify: Callable[[str], dict]):
        self.routes = []
        for resource in template["Resources"].values():
            properties = resource.get("Properties", {})
            if resource["Type"] == "AWS::ApiGatewayV2::Route" and properties["ApiId"] == {"Ref": api}:
                method, path = properties["RouteKey"].split(" ", 1)
                self.routes.append(
                    (method, _route_pattern(path), properties["RouteKey"], properties["AuthorizationType"])
                )
        self.handler = handler
        self.verify = verify
        self.invocations: list[str] = []
        self._server = _Server(self._handle)
        self.url = self._server.url

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(request.path)
        body = body_of(request)
        found = next(
            (
                (key, auth)
                for m, pattern, key, auth in self.routes
                if m in ("ANY", method) and pattern.match(parts.path)
            ),
            None,
        )
        if found is None:
            return reply(request, 404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}')
        route_key, authorization = found
        claims: dict[str, Any] = {}
        if authorization == "JWT":
            token = (request.headers.get("authorization") or "").removeprefix("Bearer ").strip()
            try:
                claims = self.verify(token) if token else None
            except Exception:  # noqa: BLE001 - any refusal is API Gateway's 401
                claims = None
            if not claims:
                return reply(request, 401, {"Content-Type": "application/json"}, b'{"message":"Unauthorized"}')
        headers = {k.lower(): v for k, v in request.headers.items()}
        text_body = body.decode("utf-8", "replace") if body else None
        event = {
            "version": "2.0", "routeKey": route_key, "rawPath": parts.path, "rawQueryString": parts.query,
            "headers": headers, "body": text_body, "isBase64Encoded": False,
            "requestContext": {
                "accountId": "123456789012", "apiId": "local", "domainName": headers.get("host", "local"),
                "domainPrefix": "local", "requestId": uuid.uuid4().hex, "routeKey": route_key, "stage": "$default",
                "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()), "timeEpoch": int(time.time() * 1000),
                "http": {"method": method, "path": parts.path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                         "userAgent": headers.get("user-agent", "")},
                "authorizer": {"jwt": {"claims": claims, "scopes": None}} if claims else None,
            },
        }  # fmt: skip
        if not text_body:
            event.pop("body")
        self.invocations.append(f"{method} {parts.path}")
        answer = _invoke(self.handler, event)
        content = answer.get("body") or ""
        data = base64.b64decode(content) if answer.get("isBase64Encoded") else content.encode()
        reply(request, answer["statusCode"], dict(answer.get("headers") or {}), data)

    def close(self) -> None:
        self._server.close()


CONTEXT = SimpleNamespace(
    function_name="DashboardApi", function_version="$LATEST", memory_limit_in_mb=512,
    invoked_function_arn="arn:aws:lambda:ap-southeast-1:123456789012:function:DashboardApi",
    aws_request_id="local", log_group_name="/aws/lambda/DashboardApi", log_stream_name="local",
)  # fmt: skip


def _invoke(handler: Callable[[dict, Any], dict], event: dict) -> dict:
    """Call the handler as Lambda does: on a thread whose event loop is its own."""
    answer: dict[str, Any] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            answer["response"] = handler(event, CONTEXT)
        finally:
            loop.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=120)
    return answer["response"]


def json_body(request: BaseHTTPRequestHandler) -> dict[str, Any]:
    raw = body_of(request)
    return json.loads(raw) if raw else {}
