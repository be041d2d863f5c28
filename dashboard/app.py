"""The dashboard's web app: the JSON API (every /api route needs a bearer token) and the page that uses it.

Routes are thin: they read the request, call a plain module, and shape errors.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from core import bookings, db
from dashboard import assets, conversations, handoffs, health, knowledge, stats, try_bot
from dashboard import bookings as booking_views
from dashboard.auth import Unauthorized, User, Verifier, make_verifier
from dashboard.settings import STATIC_DIR, DashboardSettings, dashboard_settings
from deploy.connector import rasa_client
from deploy.connector.window import OutsideWindow

SECURITY_HEADERS = {
    # the page runs only its own files: no inline script, nothing from elsewhere
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_bearer = HTTPBearer(auto_error=False)


def require_user(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> User:
    if credentials is None:
        raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    try:
        return request.app.state.verifier.verify(credentials.credentials)
    except Unauthorized as err:
        raise HTTPException(401, "the token is not valid", headers={"WWW-Authenticate": "Bearer"}) from err


CurrentUser = Annotated[User, Depends(require_user)]


class TryMessage(BaseModel):
    session: str = Field(min_length=1, max_length=40)
    message: str = Field(max_length=try_bot.MAX_TEXT)


class StaffReply(BaseModel):
    text: str = Field(min_length=1, max_length=handoffs.MAX_TEXT)


def api_routes() -> APIRouter:
    api = APIRouter(prefix="/api", dependencies=[Depends(require_user)])

    @api.get("/me")
    def me(user: CurrentUser) -> dict[str, Any]:
        return {"name": user.name}

    @api.get("/health")
    def get_health(request: Request) -> JSONResponse:
        config: DashboardSettings = request.app.state.settings
        result = health.check(config.rasa_url, config.actions_url)
        return JSONResponse(result, status_code=200 if result["ok"] else 503)

    @api.get("/stats")
    def get_stats(days: Annotated[int, Query(ge=1, le=stats.MAX_DAYS)] = 14) -> dict[str, Any]:
        return stats.overview(days)

    @api.get("/conversations")
    def list_conversations(
        q: str | None = None,
        page: Annotated[int, Query(ge=1)] = 1,
        per_page: Annotated[int, Query(ge=1, le=conversations.MAX_PER_PAGE)] = 25,
    ) -> dict[str, Any]:
        return conversations.page(q, page, per_page)

    @api.get("/conversations/{sender_id}")
    def get_conversation(sender_id: str) -> dict[str, Any]:
        found = conversations.transcript(sender_id)
        if found is None:
            raise HTTPException(404, f"no conversation with sender {sender_id!r}")
        return found

    @api.get("/handoffs")
    def list_handoffs() -> dict[str, Any]:
        return handoffs.waiting()

    @api.post("/conversations/{sender_id}/reply")
    def staff_reply(sender_id: str, body: StaffReply, user: CurrentUser, request: Request) -> dict[str, Any]:
        try:
            return handoffs.reply(sender_id, body.text, user.name, request.app.state.settings.rasa_url)
        except ValueError as err:
            raise HTTPException(400, str(err)) from err
        except OutsideWindow as err:
            raise HTTPException(409, f"Messenger does not allow this reply now: {err}") from err
        except handoffs.SendFailed as err:
            raise HTTPException(502, str(err)) from err
        except rasa_client.RasaError as err:  # sent and recorded; the assistant's quiet time was not renewed
            raise HTTPException(502, f"sent, but the assistant could not be told: {err}") from err

    @api.post("/conversations/{sender_id}/release")
    def release(sender_id: str, user: CurrentUser, request: Request) -> dict[str, Any]:
        try:
            return handoffs.release(sender_id, user.name, request.app.state.settings.rasa_url)
        except handoffs.NoHandoff as err:
            raise HTTPException(404, str(err)) from err
        except rasa_client.RasaUnavailable as err:
            raise HTTPException(503, f"the assistant is not answering: {err}") from err
        except rasa_client.RasaError as err:
            raise HTTPException(502, str(err)) from err

    @api.get("/bookings")
    def list_bookings(
        start: Annotated[date | None, Query(alias="from")] = None,
        end: Annotated[date | None, Query(alias="to")] = None,
        status: str | None = None,
    ) -> dict[str, Any]:
        try:
            items = booking_views.find(start, end, status or None)
        except ValueError as err:
            raise HTTPException(400, str(err)) from err
        return {"items": items, "count": len(items)}

    @api.get("/bookings/{reference}")
    def get_booking(reference: str) -> dict[str, Any]:
        try:
            return booking_views.detail(reference)
        except db.BookingNotFound as err:
            raise HTTPException(404, f"no booking {reference!r}") from err

    @api.post("/bookings/{reference}/cancel")
    def cancel_booking(reference: str, user: CurrentUser) -> dict[str, Any]:
        try:
            return booking_views.cancel(reference, user.name)
        except db.BookingNotFound as err:
            raise HTTPException(404, f"no booking {reference!r}") from err
        except bookings.Refused as err:  # a booking rule said no: already cancelled, already started
            raise HTTPException(409, err.describe()) from err

    @api.get("/knowledge")
    def get_knowledge() -> dict[str, Any]:
        return knowledge.status()

    @api.post("/knowledge/rebuild")
    def rebuild_knowledge() -> dict[str, Any]:
        try:
            return knowledge.rebuild()
        except knowledge.RebuildRunning as err:
            raise HTTPException(409, str(err)) from err

    @api.post("/try")
    def try_the_bot(body: TryMessage, request: Request) -> dict[str, Any]:
        try:
            return try_bot.send(request.app.state.settings.rasa_url, body.session, body.message)
        except ValueError as err:
            raise HTTPException(400, str(err)) from err
        except rasa_client.RasaUnavailable as err:
            raise HTTPException(503, f"the assistant is not answering: {err}") from err
        except rasa_client.RasaError as err:
            raise HTTPException(502, str(err)) from err

    @api.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def unknown(path: str) -> None:
        raise HTTPException(404, f"no API route /api/{path}")

    return api


def create_app(config: DashboardSettings | None = None, verifier: Verifier | None = None) -> FastAPI:
    """The dashboard app; nothing connects until a request needs it."""
    config = config or dashboard_settings()
    app = FastAPI(title="Lotus dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = config
    app.state.verifier = verifier or make_verifier(config)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(db.DatabaseUnavailable)
    async def database_down(request: Request, err: db.DatabaseUnavailable) -> JSONResponse:
        return JSONResponse({"detail": f"the database is unavailable: {err}"}, status_code=503)

    app.include_router(api_routes())

    @app.get("/auth/config", include_in_schema=False)
    def auth_config() -> dict[str, Any]:
        """How the page signs in (public: holds no secret)."""
        cognito = config.cognito
        if cognito is None:
            return {"mode": "token"}
        return {"mode": "cognito", "domain": cognito.hosted_ui_domain, "client_id": cognito.app_client_id}

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    @app.get("/vendor/chart.umd.js", include_in_schema=False)
    def chart_library() -> FileResponse:
        path: Path = assets.chart_js(config.assets_dir)
        if not path.exists():
            raise HTTPException(503, "the chart library is not installed: run `python -m dashboard.assets`")
        return FileResponse(path, media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
