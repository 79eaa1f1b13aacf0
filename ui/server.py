"""The web server: FastAPI with the JSON API under /api/ and the Gradio UI mounted at /.

Offline and quiet: no analytics, no version check, no monitoring endpoint, no font or script
from another host (the web component's script is served by the app itself at /gradio.js).
Cross-origin use (CORS) and framing (frame-ancestors) are allowed only for the configured
origins; by default, same origin only.
"""

from __future__ import annotations

import ctypes
import hmac
import logging
import os
from pathlib import Path
from typing import Any

from qa.core import offline
from qa.settings import Settings
from ui.guards import RouteAllowList, UiLogin, send_json

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
# Gradio's per-event records, kept for its monitoring page (off here): a few, and never summarised.
GRADIO_ANALYTICS_EVENTS_KEPT = 100
GRADIO_ANALYTICS_NEVER = 2**62
# Every ten minutes, Gradio's files older than an hour are deleted (frequency, age; seconds).
GRADIO_FILES_MAX_AGE = (600, 3600)


class BodySizeLimit:
    """Reject request bodies over a size limit with 413, before anything reads them whole."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(send, self.max_bytes)
            return
        seen = 0

        async def limited_receive() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await _too_large(send, self.max_bytes)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Any, limit: int) -> None:
    await send_json(send, 413, f'{{"detail": "request body larger than {limit} bytes"}}'.encode())


class FrameAncestors:
    """Content-Security-Policy frame-ancestors: who may show the app in a frame."""

    def __init__(self, app: Any, origins: tuple[str, ...]) -> None:
        self.app = app
        self.value = ("frame-ancestors 'self' " + " ".join(origins)).strip().encode()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"content-security-policy"]
                headers.append((b"content-security-policy", self.value))
                headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_header)


class BearerToken:
    """When a token is configured, /api/* (but /api/health) answers 401 without ``Authorization: Bearer <token>``."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        guarded = scope["type"] == "http" and path.startswith("/api/") and path != "/api/health"
        if guarded and scope.get("method") != "OPTIONS":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                body = b'{"detail": "missing or wrong bearer token"}'
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def gradio_web_component_script() -> Path:
    import gradio

    return Path(gradio.__file__).parent / "templates" / "frontend" / "gradio.js"


def create_app(engine: Any, settings: Settings, root_path: str = "") -> Any:
    """The ASGI app: API routes, the web component script, the Gradio UI at /."""
    offline.apply()
    app = _api_app(engine, settings)
    engine.watch(settings.reload_every)
    _mount_ui(app, engine, settings, root_path)
    return app


def _api_app(engine: Any, settings: Settings) -> Any:
    """The FastAPI app with its guards (CORS, framing, token, body size), the API and the web component."""
    from fastapi.middleware.cors import CORSMiddleware
    from fastapi.responses import FileResponse
    from fastapi_offline import FastAPIOffline

    from qa import __version__
    from ui.api import api_router

    # Swagger UI's script, style and icon served by the app itself: an intranet has no CDN.
    app = FastAPIOffline(
        title="briefing-qa",
        version=__version__,
        description="Cited, extractive answers to questions about a briefing.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        static_url="/api/docs-assets",
        swagger_ui_oauth2_redirect_url="/api/docs/oauth2-redirect",
    )
    # An explicit CORS policy also switches off Gradio's own, which reflects any localhost origin.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.allowed_origins),
        allow_methods=["GET", "POST"],
        allow_headers=["*"],  # Gradio's client sends its own headers (queue, session)
        allow_credentials=False,
    )
    app.add_middleware(FrameAncestors, origins=settings.allowed_origins)
    if settings.api_token:
        app.add_middleware(BearerToken, token=settings.api_token)
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(RouteAllowList)  # outermost: a closed route reaches no app and no guard
    app.include_router(api_router(engine))

    @app.get("/gradio.js", include_in_schema=False)
    async def web_component() -> FileResponse:
        # Served here so an intranet page needs no CDN: it imports ./assets/..., which Gradio serves.
        return FileResponse(gradio_web_component_script(), media_type="text/javascript")

    return app


def _mount_ui(app: Any, engine: Any, settings: Settings, root_path: str) -> None:
    """The Gradio page at /, without its monitoring, MCP, PWA or server-side rendering."""
    import gradio as gr

    from ui.chat import CITATION_LINKS, CSS, build_ui

    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
    # Gradio summarises its event records with pandas (a DataFrame every so many events), for its
    # monitoring page only, which is off here: never summarised, a few records kept.
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(GRADIO_ANALYTICS_NEVER))
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", str(GRADIO_ANALYTICS_EVENTS_KEPT))
    # Gradio's files live where the operator says, and age out.
    try:
        settings.gradio_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # the chat writes no file there (uploads are closed): serve anyway
        log.warning("cannot create Gradio's folder %s: %s", settings.gradio_dir, exc)
    os.environ["GRADIO_TEMP_DIR"] = str(settings.gradio_dir)
    demo = build_ui(engine, concurrency=settings.ui_concurrency)
    demo.state_session_capacity = settings.ui_sessions
    demo.delete_cache = GRADIO_FILES_MAX_AGE
    demo.queue(max_size=settings.ui_queue_size)
    gr.mount_gradio_app(
        app,
        demo,
        path="/",
        root_path=root_path or None,
        theme=theme,
        css=CSS,
        js=CITATION_LINKS,
        footer_links=["api"],
        run_history=False,
        enable_monitoring=False,
        mcp_server=False,
        ssr_mode=False,
        pwa=False,
        show_error=True,
        auth=(settings.ui_user, settings.ui_password) if settings.ui_password else None,
    )
    if settings.ui_password:
        from starlette.routing import Mount

        gradio_app = next(route.app for route in app.routes if isinstance(route, Mount) and route.path == "")
        app.add_middleware(UiLogin, gradio_app=gradio_app)


def limit_malloc_arenas(arenas: int) -> None:
    """Cap glibc's malloc arenas (0: leave glibc's default), before the server starts its threads.

    glibc gives threads that allocate at once arenas of their own, up to 8 per core, and keeps their
    high-water marks: under 32 clients the learned stages' feature arrays left about 30 MiB of
    half-empty arenas that no question reused (the soak test's RSS bound). Few arenas cost nothing
    here: the GIL already serialises most allocation. Elsewhere than glibc, nothing is done.
    """
    if arenas <= 0:
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_arena_max = -8  # M_ARENA_MAX in glibc's malloc.h
    if libc.mallopt(m_arena_max, arenas) != 1:
        log.warning("malloc: could not cap the arenas at %d", arenas)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, root_path: str = "") -> int:
    import uvicorn

    from qa.engine import Engine
    from ui.connections import protocol_with_header_deadline

    offline.apply()
    limit_malloc_arenas(settings.malloc_arenas)
    log.info("loading the engine (model and index)...")
    engine = Engine(settings)
    app = create_app(engine, settings, root_path=root_path)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    log.info("ready: http://%s:%d%s/ (API docs at /api/docs)", shown_host, port, root_path)
    # Keep-alive longer than uvicorn's 5 s: under load a late timer can close a connection that a
    # client has just reused (seen as resets in the soak test); 75 s is nginx's default.
    uvicorn.run(
        app,
        host=host,
        port=port,
        root_path=root_path,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=75,
        # Past this many open connections (held-open event streams, slow clients), 503 at once
        # rather than running out of file descriptors.
        limit_concurrency=settings.max_connections,
        http=protocol_with_header_deadline(settings.header_timeout),
    )
    return 0
