"""The dashboard as deployed, run locally: the published files in S3 (moto) behind a local CloudFront that
applies deploy/template.yaml's behaviours and security headers, the HTTP API's routes and JWT authoriser in
front of the real DashboardApi Lambda handler, sign-in through an OpenID Connect stand-in with the code flow
and PKCE, the knowledge status from the published index and a rebuild that runs as a (local) Fargate task.

A real headless Chromium signs in, sees the overview with its charts and cancels a booking.
"""

from __future__ import annotations

import importlib
import json
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from cfnlint.decode import cfn_yaml
from playwright.sync_api import Page, expect

from core import db
from dashboard import publish as site
from dashboard.auth import CognitoVerifier
from dashboard.settings import Cognito, dashboard_settings
from deploy.connector.tables import KNOWLEDGE_POINTER
from rag import index as rag_index
from rag import remote
from rag.chunking import document_paths
from rag.config import rag_settings
from tests.connector.conftest import moto_server  # noqa: F401
from tests.dashboard.conftest import Seeded
from tests.dashboard.edge import LocalCloudFront, LocalHttpApi, resolve
from tests.dashboard.stand_ins import LocalFargate, OidcProvider, s256

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "template.yaml"
CLIENT_ID = "local-dashboard-client"
STAFF = ("owner@lotusspa.example", "Correct-Horse-42")
REGION = "ap-southeast-1"
DOMAIN_PREFIX = "lotus-local"
CLUSTER = "lotus-local"
REBUILD_TASK = f"arn:aws:ecs:{REGION}:123456789012:task-definition/lotus-knowledge-rebuild:1"
DOCUMENTS = rag_settings().documents_dir


@dataclass
class Deployed:
    url: str  # the local CloudFront
    oidc: OidcProvider
    fargate: LocalFargate
    api: LocalHttpApi
    site_bucket: str
    index_bucket: str
    pointer_table: str
    first_version: str
    seeded: Seeded


def _bucket(name: str) -> str:
    boto3.client("s3").create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


@pytest.fixture(scope="module")
def deployed(
    moto_server: str,  # noqa: F811
    seeded: Seeded,
    stack: dict[str, str],
    knowledge_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployed]:
    template = cfn_yaml.load(str(TEMPLATE))
    run = secrets.token_hex(4)
    site_bucket, index_bucket = _bucket(f"lotus-site-{run}"), _bucket(f"lotus-index-{run}")
    pointer_table = f"lotus-knowledge-{run}"
    boto3.client("dynamodb").create_table(**KNOWLEDGE_POINTER.create_table_kwargs(pointer_table))

    # the operator's steps: publish the page, upload the documents, publish the first index
    assert site.main(["--bucket", site_bucket]) == 0
    s3 = boto3.client("s3")
    for name in document_paths(DOCUMENTS):  # `aws s3 sync rag/documents ...`: both languages
        s3.put_object(Bucket=index_bucket, Key=remote.DOCUMENTS_PREFIX + name, Body=(DOCUMENTS / name).read_bytes())
    first = remote.publish(knowledge_dir, index_bucket, pointer_table)["version"]

    oidc = OidcProvider(CLIENT_ID, [], {STAFF[0]: STAFF[1]})
    sign_in_domain = f"https://{DOMAIN_PREFIX}.auth.{REGION}.amazoncognito.com"
    names = {"CognitoDomainPrefix": DOMAIN_PREFIX, "AWS::Region": REGION, "IndexBucket": index_bucket,
             "KnowledgePointerTable": pointer_table}  # fmt: skip

    # the rebuild task as the template defines it; its folders are the "image's" (a copy of the session index)
    (container,) = template["Resources"]["KnowledgeRebuildTaskDefinition"]["Properties"]["ContainerDefinitions"]
    container = {
        **container,
        "Environment": [{"Name": e["Name"], "Value": resolve(e["Value"], names)} for e in container["Environment"]],
    }
    work = tmp_path_factory.mktemp("rebuild-task")
    image_index = shutil.copytree(knowledge_dir, work / "rag-index")
    fargate = LocalFargate(
        CLUSTER, {REBUILD_TASK: container},
        {"RAG_DOCUMENTS_DIR": str(work / "documents"), "RAG_INDEX_DIR": str(image_index), "PYTHONPATH": str(ROOT),
         "HF_HUB_OFFLINE": "1"},
        work,
    )  # fmt: skip

    # the DashboardApi function's settings, as the template gives them, pointing at the local stand-ins
    env = {
        "COGNITO_ISSUER": oidc.issuer, "COGNITO_JWKS_URL": f"{oidc.url}/.well-known/jwks.json",
        "COGNITO_APP_CLIENT_ID": CLIENT_ID, "COGNITO_DOMAIN": oidc.url,
        "INDEX_BUCKET": index_bucket, "KNOWLEDGE_TABLE": pointer_table,
        "KNOWLEDGE_REBUILD_CLUSTER": CLUSTER, "KNOWLEDGE_REBUILD_TASK_DEFINITION": REBUILD_TASK,
        "KNOWLEDGE_REBUILD_SUBNETS": "subnet-private-a,subnet-private-b",
        "KNOWLEDGE_REBUILD_SECURITY_GROUP": "sg-knowledge-rebuild",
        "RASA_URL": stack["rasa_url"], "ACTIONS_URL": stack["actions_url"], "AWS_ENDPOINT_URL_ECS": fargate.url,
    }  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        for name in ("DASHBOARD_TOKEN", "COGNITO_REGION", "COGNITO_USER_POOL_ID", "DATABASE_SECRET_ARN"):
            patch.delenv(name, raising=False)
        dashboard_settings.cache_clear()
        rag_settings.cache_clear()
        sys.modules.pop("deploy.handlers.dashboard_api", None)
        handler = importlib.import_module("deploy.handlers.dashboard_api").lambda_handler
        authoriser = CognitoVerifier(Cognito(oidc.issuer, env["COGNITO_JWKS_URL"], CLIENT_ID))
        api = LocalHttpApi(template, "DashboardHttpApi", handler, lambda token: authoriser.verify(token).claims)
        edge = LocalCloudFront(template, names, {"site": site_bucket, "api": api.url}, {sign_in_domain: oidc.url})
        oidc.redirect_uris.append(edge.url + "/")  # the app client's callback and logout URL: DashboardUrl
        try:
            yield Deployed(edge.url, oidc, fargate, api, site_bucket, index_bucket, pointer_table, first, seeded)
        finally:
            edge.close()
            api.close()
            fargate.close()
            oidc.close()
            sys.modules.pop("deploy.handlers.dashboard_api", None)
    dashboard_settings.cache_clear()
    rag_settings.cache_clear()


def id_token_by_code_flow(deployed: Deployed, verifier: str | None = None) -> requests.Response:
    """The page's sign-in without the page: authorize with a PKCE challenge, sign in, trade the code."""
    verifier = verifier or secrets.token_urlsafe(48)
    good = secrets.token_urlsafe(48)
    redirect = deployed.url + "/"
    query = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": redirect, "scope": "openid email",
             "state": "s1", "code_challenge": s256(good if verifier == "wrong" else verifier), "code_challenge_method": "S256"}  # fmt: skip
    assert requests.get(f"{deployed.oidc.url}/oauth2/authorize", params=query, timeout=10).status_code == 200
    signed = requests.post(f"{deployed.oidc.url}/oauth2/authorize", data={**query, "username": STAFF[0], "password": STAFF[1]},
                           allow_redirects=False, timeout=10)  # fmt: skip
    code = parse_qs(urlsplit(signed.headers["Location"]).query)["code"][0]
    return requests.post(
        f"{deployed.oidc.url}/oauth2/token",
        data={"grant_type": "authorization_code", "client_id": CLIENT_ID, "code": code, "redirect_uri": redirect,
              "code_verifier": verifier if verifier != "wrong" else secrets.token_urlsafe(48)},
        timeout=10,
    )  # fmt: skip


@pytest.fixture(scope="module")
def bearer(deployed: Deployed) -> dict[str, str]:
    answer = id_token_by_code_flow(deployed)
    assert answer.status_code == 200, answer.text
    return {"Authorization": "Bearer " + answer.json()["id_token"]}


def test_the_page_signs_in_with_code_and_pkce_sees_the_charts_and_cancels_a_booking(
    deployed: Deployed, page: Page, results_dir: Path
):
    seen: list[str] = []
    refused: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    first = page.goto(deployed.url + "/")
    assert "connect-src 'self' " + deployed.oidc.url in first.headers["content-security-policy"]
    expect(page.locator("#cognito-signin")).to_be_visible()
    expect(page.locator("#signin-form")).to_be_hidden()
    page.click("#cognito-signin")

    # the stand-in's sign-in page: the request carried a PKCE challenge and asked for a code, not tokens
    page.wait_for_url(deployed.oidc.url + "/oauth2/authorize?*")
    (asked,) = deployed.oidc.authorize_requests[-1:]
    assert asked["response_type"] == "code" and asked["code_challenge_method"] == "S256"
    assert len(asked["code_challenge"]) == 43 and asked["redirect_uri"] == deployed.url + "/"
    page.fill("#signin-email", STAFF[0])
    page.fill("#signin-password", STAFF[1])
    page.click("#signin-submit")

    # back on the dashboard: the code was traded with its verifier, and is gone from the address bar
    expect(page.locator("#kpi-messages .value")).not_to_have_text("")
    assert deployed.oidc.token_requests[-1]["outcome"] == "issued"
    assert "code=" not in page.url
    token = page.evaluate("localStorage.getItem('lotus-dashboard-token')")
    stats = requests.get(
        deployed.url + "/api/stats", params={"days": 14}, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ).json()
    figures = deployed.seeded.figures()
    expect(page.locator("#kpi-messages .value")).to_have_text(
        str(sum(d["messages"] for d in figures["per_day"].values()))
    )
    expect(page.locator("#kpi-conversations .value")).to_have_text(str(stats["totals"]["conversations"]))
    expect(page.locator("#health li[data-part=database]")).to_contain_text("up")
    expect(page.locator("#health li[data-part=index]")).to_contain_text(deployed.first_version)
    drawn = page.evaluate("Chart.getChart(document.getElementById('chart-messages')).data.datasets[0].data")
    assert drawn == [d["messages"] for d in stats["per_day"]]
    assert page.evaluate("Chart.getChart(document.getElementById('chart-intents')).data.labels") == [
        i["intent"] for i in stats["top_intents"]
    ]
    for chart in ("chart-bookings", "chart-fallback", "chart-response"):
        assert page.evaluate(f"Chart.getChart(document.getElementById('{chart}')).data.labels.length") == 14
    page.screenshot(path=str(results_dir / "deployed-overview.png"), full_page=True)

    reference = deployed.seeded.booking_references[4]
    assert db.get_booking(reference).status == "confirmed"
    page.click("nav a[data-page=bookings]")
    row = page.locator(f"#booking-table tr[data-reference='{reference}']")
    row.locator("button.cancel").click()
    page.click("#confirm-yes")
    expect(row.locator("td.status")).to_have_text("cancelled")
    assert db.get_booking(reference).status == "cancelled"
    expect(page.locator("#booking-detail")).to_contain_text(f"cancelled by dashboard:{STAFF[0]}")
    page.screenshot(path=str(results_dir / "deployed-bookings.png"), full_page=True)

    # everything came through the distribution, but the token trade at the sign-in domain
    outside = [u for u in seen if not u.startswith(deployed.url)]
    assert outside and all(u.startswith(deployed.oidc.url) for u in outside)
    assert refused == [] and page.errors == []

    page.click("#sign-out")  # ends the hosted UI's session too, and comes back to the sign-in page
    expect(page.locator("#cognito-signin")).to_be_visible()
    assert deployed.oidc.logouts[-1] == {"client_id": CLIENT_ID, "logout_uri": deployed.url + "/"}


def test_the_distribution_routes_as_the_template_says(deployed: Deployed, bearer: dict[str, str]):
    published = {o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=deployed.site_bucket)["Contents"]}
    assert published == {"index.html", "static/app.js", "static/app.css", "vendor/chart.umd.js"}
    page = requests.get(deployed.url + "/", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache" and "/vendor/chart.umd.js" in page.text
    chart = requests.get(deployed.url + "/vendor/chart.umd.js", timeout=10)
    assert chart.status_code == 200 and chart.headers["content-type"].startswith("text/javascript")
    for response in (page, chart):
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["strict-transport-security"].startswith("max-age=63072000")
        assert response.headers["x-content-type-options"] == "nosniff"
    assert requests.get(deployed.url + "/static/missing.js", timeout=10).status_code == 403  # S3 behind OAC
    assert requests.post(deployed.url + "/", timeout=10).status_code == 403  # the page's behaviour is GET/HEAD

    # /auth/* needs no token (how to sign in); /api/* is refused by the authoriser before the Lambda runs
    before = len(deployed.api.invocations)
    config = requests.get(deployed.url + "/auth/config", timeout=30)
    assert config.json() == {"mode": "cognito", "domain": deployed.oidc.url, "client_id": CLIENT_ID}
    assert requests.post(deployed.url + "/auth/config", timeout=10).status_code == 403
    refused = requests.get(deployed.url + "/api/bookings", timeout=10)
    assert refused.status_code == 401 and refused.json() == {"message": "Unauthorized"}
    assert refused.headers["content-security-policy"].startswith("default-src 'self'")
    assert deployed.api.invocations[before:] == ["GET /auth/config"]
    answer = requests.get(deployed.url + "/api/bookings", params={"status": "confirmed"}, headers=bearer, timeout=60)
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert all(b["status"] == "confirmed" for b in answer.json()["items"])
    assert requests.get(deployed.url + "/api/nothing-here", headers=bearer, timeout=30).status_code == 404
    assert requests.get(deployed.url + "/other/path", timeout=10).status_code == 403  # the bucket, not the API


def test_the_token_endpoint_wants_the_verifier_of_the_challenge(deployed: Deployed):
    refused = id_token_by_code_flow(deployed, verifier="wrong")
    assert refused.status_code == 400 and refused.json() == {"error": "invalid_grant"}
    assert deployed.oidc.token_requests[-1]["outcome"] == "code_verifier does not match the challenge"


def test_knowledge_status_comes_from_the_published_index_and_a_rebuild_publishes_a_new_one(
    deployed: Deployed, bearer: dict[str, str]
):
    def knowledge() -> dict:
        answer = requests.get(deployed.url + "/api/knowledge", headers=bearer, timeout=60)
        assert answer.status_code == 200, answer.text
        return answer.json()

    state = knowledge()
    assert (state["source"], state["version"], state["stale"]) == ("published", deployed.first_version, False)
    assert state["folder"] == f"s3://{deployed.index_bucket}/knowledge/{deployed.first_version}/"
    assert state["document_count"] == len(document_paths(DOCUMENTS))

    # staff changed a document: the status says the index is behind
    s3 = boto3.client("s3")
    wifi = (DOCUMENTS / "wifi.md").read_text() + "\n## Printing\n\nGuests can print a receipt at the front desk.\n"
    s3.put_object(Bucket=deployed.index_bucket, Key=remote.DOCUMENTS_PREFIX + "wifi.md", Body=wifi.encode())
    assert knowledge()["stale"] is True

    started = requests.post(deployed.url + "/api/knowledge/rebuild", json={}, headers=bearer, timeout=60)
    assert started.status_code == 200, started.text
    assert started.json()["rebuild"]["state"] == "running"
    (run,) = deployed.fargate.runs
    assert (run["cluster"], run["taskDefinition"], run["launchType"]) == (CLUSTER, REBUILD_TASK, "FARGATE")
    network = run["networkConfiguration"]["awsvpcConfiguration"]
    assert network == {"subnets": ["subnet-private-a", "subnet-private-b"], "securityGroups": ["sg-knowledge-rebuild"],
                       "assignPublicIp": "DISABLED"}  # fmt: skip
    again = requests.post(deployed.url + "/api/knowledge/rebuild", json={}, headers=bearer, timeout=60)
    assert again.status_code == 409 and len(deployed.fargate.runs) == 1

    deadline = time.monotonic() + 300
    while (state := knowledge())["rebuild"]["state"] == "running":
        assert time.monotonic() < deadline, "the rebuild task did not end"
        time.sleep(1)
    (task,) = deployed.fargate.tasks
    assert state["rebuild"]["state"] == "succeeded", deployed.fargate.log_of(task)
    assert state["version"] != deployed.first_version and state["stale"] is False
    assert state["published_at"] >= state["rebuild"]["started_at"]
    assert json.loads(deployed.fargate.log_of(task).strip().splitlines()[-1])["version"] == state["version"]
    # what every action server does within a minute: the pointer names the new version, which it fetches
    served = Path(deployed.fargate.log_dir) / "served"
    assert (
        remote.fetch_if_changed(
            served, deployed.index_bucket, deployed.pointer_table, "knowledge", deployed.first_version
        )
        == state["version"]
    )
    assert any("Printing" in c.text or "receipt" in c.text for c in rag_index.load(served).chunks)


def test_the_published_file_names_are_the_index_files():
    # rag.remote names them itself, so the dashboard's Lambda reads an index without importing faiss
    assert remote.FILES == (rag_index.INDEX_FILE, rag_index.CHUNKS_FILE, rag_index.MANIFEST_FILE)
    assert remote.MANIFEST_FILE == rag_index.MANIFEST_FILE
