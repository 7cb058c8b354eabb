"""Where the sandbox lives: its mount point, so self-links work standalone or mounted."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

ROOT_KEY = "sendsongs.sandbox.root"


class RootMarker:
    """Remembers the root path the sandbox app was entered at, before inner Mounts
    (such as `/_sandbox`) extend `root_path`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, ROOT_KEY: scope.get("root_path", "")}
        await self.app(scope, receive, send)


def sandbox_root(request: Request) -> str:
    root: str = request.scope.get(ROOT_KEY, request.scope.get("root_path", ""))
    return root


def route_path(request: Request) -> str:
    """The request path relative to the sandbox, e.g. `/v1/me/player/recently-played`."""
    path: str = request.scope["path"]
    root = sandbox_root(request)
    return path[len(root) :] if root and path.startswith(root) else path


def sandbox_url(request: Request, path: str) -> str:
    """An absolute URL for `path` inside the sandbox, as the caller reached it."""
    return str(request.url.replace(path=sandbox_root(request) + path, query=""))
