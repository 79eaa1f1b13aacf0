"""The routes the product uses, and nothing else: every other request gets 404 before any app sees it.

Gradio's app carries far more than the chat uses (file upload and serving, a proxy, streaming,
monitoring, a code editor...). Listing what is open, rather than what is closed, keeps a route
added by a later Gradio release closed too. Each rule is a set of methods and a path pattern,
matched against the whole path (after the proxy's root path); a CORS preflight (OPTIONS) is let
through to the CORS policy for the open paths only.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection

log = logging.getLogger(__name__)

GET = frozenset({"GET", "HEAD"})
POST = frozenset({"POST"})


@dataclass(frozen=True)
class Rule:
    methods: frozenset[str]
    pattern: str
    why: str  # what uses it: listed in the README's table of routes

    def allows(self, method: str, path: str) -> bool:
        # A CORS preflight asks before any method: the CORS policy answers it, for open routes only.
        return (method in self.methods or method == "OPTIONS") and re.fullmatch(self.pattern, path) is not None


OPEN_ROUTES = (
    # The product's own routes.
    Rule(POST, r"/api/ask", "the HTTP API (a bearer token when one is set)"),
    Rule(GET, r"/api/health", "health check (always open)"),
    Rule(GET, r"/api/documents|/api/documents/.+/text", "the documents, and the text every citation points into"),
    Rule(GET, r"/api/docs|/api/openapi\.json", "the API's documentation and schema"),
    Rule(GET, r"/api/docs-assets/[\w.-]+", "Swagger UI's script, style and icon, served locally"),
    Rule(GET, r"/gradio\.js", "the web component's script, for intranet pages"),
    # The Gradio page: its HTML, configuration and assets.
    Rule(GET, r"/|/config/?|/theme\.css|/gradio_api/theme\.css|/favicon\.ico|/robots\.txt", "the chat page"),
    Rule(GET, r"/(?:assets|static|svelte)/[\w./@-]+", "the chat page's scripts, styles and fonts"),
    Rule(GET, r"/gradio_api/(?:info|startup-events|app_id)/?", "the chat page and gradio_client at start"),
    # The chat's one event, through Gradio's queue (the page) or its REST call (gradio_client).
    Rule(POST, r"/gradio_api/queue/join", "a question from the page"),
    Rule(GET, r"/gradio_api/queue/data", "the page's event stream"),
    Rule(GET, r"/gradio_api/heartbeat/[\w-]+", "the page's liveness signal"),
    Rule(POST, r"/gradio_api/cancel", "a question abandoned by the page"),
    Rule(POST, r"/gradio_api/call/ask", "gradio_client's predict(..., api_name='/ask')"),
    Rule(GET, r"/gradio_api/call/ask/[\w-]+", "its result stream"),
    # Login, when BRIEFING_QA_UI_PASSWORD is set.
    Rule(POST, r"/login/?", "the UI's login form"),
    Rule(GET, r"/logout|/gradio_api/login_check/?|/gradio_api/token/?", "the UI's login state"),
)


def app_path(scope: dict) -> str:
    """The request's path inside the app (behind a proxy, without its root path)."""
    path, root = scope.get("path", ""), scope.get("root_path", "")
    return (path[len(root) :] or "/") if root and path.startswith(root) else path


async def send_json(send: Any, status: int, body: bytes) -> None:
    """A whole JSON response, from a middleware that answers before any app."""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def allowed(method: str, path: str, rules: tuple[Rule, ...] = OPEN_ROUTES) -> bool:
    return any(rule.allows(method, path) for rule in rules)


class RouteAllowList:
    """ASGI middleware: requests outside ``OPEN_ROUTES`` get 404, and no app behind reads them."""

    def __init__(self, app: Any, rules: tuple[Rule, ...] = OPEN_ROUTES) -> None:
        self.app = app
        self.rules = rules

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = app_path(scope)
        method = scope.get("method", "GET") if scope["type"] == "http" else "GET"
        if scope["type"] == "http" and allowed(method, path, self.rules):
            await self.app(scope, receive, send)
            return
        log.debug("closed route: %s %s", method, path)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send_json(send, 404, b'{"detail":"Not Found"}')


# With a UI password, Gradio's API asks for the login like the page does (Gradio itself leaves a
# few of its routes open: app_id, startup-events, token, heartbeat, cancel).
LOGIN_GUARDED = re.compile(r"/config/?|/gradio_api/(?!theme\.css$|login_check/?$).*")


class UiLogin:
    """ASGI middleware: Gradio's routes answer 401 unless the request carries the login's cookie."""

    def __init__(self, app: Any, gradio_app: Any) -> None:
        self.app = app
        self.gradio_app = gradio_app  # Gradio's own app: its cookie name and its issued tokens

    def logged_in(self, scope: dict) -> bool:
        cookies = HTTPConnection(scope).cookies  # Starlette's parsing, as Gradio's own check reads them
        cookie_id = self.gradio_app.cookie_id
        token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
        return token is not None and token in self.gradio_app.tokens

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = app_path(scope)
        if scope["type"] == "http" and LOGIN_GUARDED.fullmatch(path) and not self.logged_in(scope):
            await send_json(send, 401, b'{"detail":"Not authenticated"}')
            return
        await self.app(scope, receive, send)
