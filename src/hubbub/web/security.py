"""Sessions, CSRF, security headers and Origin checks.

- The cookie is signed (itsdangerous) and holds a random visitor id, the CSRF
  token and, after sign-in, a session token. Every visitor gets one, so web
  guests' posts are CSRF-protected too. HttpOnly, SameSite=Lax, Secure on https.
- Signing proves the cookie is ours, not that it is still good: a session
  token counts only while its server-side row lives (``user_sessions``), so
  logout, a password change or a revoke ends it at once. The lookup happens
  here, once per request, off the event loop.
- Every state-changing request needs the CSRF token: the ``X-CSRF-Token``
  header (fetch) or a ``csrf`` form field; a foreign ``Origin`` is refused
  first. Both are checked here, in one middleware, never per route.
- WebSockets: browsers always send ``Origin``; one from another site is refused
  (cross-site WebSocket hijacking). Non-browser clients send none and are let in:
  they cannot carry a victim's cookies.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from hubbub.web.user_sessions import LiveSession, SessionPolicy, session_policy

if TYPE_CHECKING:
    from hubbub.settings import Settings

COOKIE = "hubbub_session"
# Marks a browser its owner has signed in with (see signin_throttle): a signed
# random id and the account name, nothing that grants access by itself.
DEVICE_COOKIE = "hubbub_device"
DEVICE_MAX_AGE = 180 * 24 * 3600
AUTH = "auth"  # the cookie's key for a signed-in session's token
CSRF_HEADER = "x-csrf-token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_FORM_BYTES = 64 * 1024

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


class Sessions:
    def __init__(
        self,
        secret: str,
        secure: bool = False,
        policy: SessionPolicy | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="hubbub.session")
        self._devices = URLSafeTimedSerializer(secret, salt="hubbub.device")
        self.force_secure = secure
        self.policy = policy or SessionPolicy()
        # Replaceable so tests can move time instead of waiting for it.
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))

    @classmethod
    def from_settings(cls, settings: Settings) -> Sessions:
        return cls(
            settings.resolved_secret(),
            secure=settings.secure_cookies,
            policy=session_policy(settings),
        )

    def load(self, conn: HTTPConnection) -> dict[str, Any] | None:
        raw = conn.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._serializer.loads(raw, max_age=int(self.policy.absolute.total_seconds()))
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            return None
        if not isinstance(data.get("sid"), str):
            return None
        return data

    def device_for(self, conn: HTTPConnection, name: str) -> str | None:
        """The id of this browser's device token if it was issued for ``name``."""
        raw = conn.cookies.get(DEVICE_COOKIE)
        if not raw:
            return None
        try:
            data = self._devices.loads(raw, max_age=DEVICE_MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(data, dict) or data.get("name") != name.strip():
            return None
        device = data.get("id")
        return device if isinstance(device, str) else None

    def set_device_cookie(self, request: Request, response: Response, name: str) -> None:
        device = self.device_for(request, name) or secrets.token_urlsafe(16)
        response.set_cookie(
            DEVICE_COOKIE,
            self._devices.dumps({"id": device, "name": name}),
            max_age=DEVICE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=self.force_secure or request.url.scheme == "https",
            path="/",
        )

    @staticmethod
    def new(token: str | None = None) -> dict[str, Any]:
        """A fresh visitor id and CSRF token; with ``token``, a signed-in session."""
        session = {"sid": secrets.token_urlsafe(16), "csrf": secrets.token_urlsafe(32)}
        if token:
            session[AUTH] = token
        return session

    def set_cookie(self, request: Request, response: Response, session: dict[str, Any]) -> None:
        response.set_cookie(
            COOKIE,
            self._serializer.dumps(session),
            max_age=int(self.policy.absolute.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=self.force_secure or request.url.scheme == "https",
            path="/",
        )


def own_origin(conn: HTTPConnection) -> str:
    """scheme://host[:port] this request was addressed to (from the Host header)."""
    scheme = conn.url.scheme
    if scheme in ("ws", "wss"):
        scheme = "https" if scheme == "wss" else "http"
    host = conn.headers.get("host", "")
    return f"{scheme}://{host}".lower()


def origin_allowed(conn: HTTPConnection, allowed: tuple[str, ...] = ()) -> bool:
    """No Origin (not a browser) or the same origin (or a configured one)."""
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    origin = origin.lower().rstrip("/")
    return origin == own_origin(conn) or origin in {a.lower().rstrip("/") for a in allowed}


def tokens_equal(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


async def _form_token(request: Request) -> str | None:
    ctype = request.headers.get("content-type", "").split(";")[0].strip()
    if ctype != "application/x-www-form-urlencoded":
        return None
    body = await request.body()  # Starlette caches it, so the route can read it again
    if len(body) > MAX_FORM_BYTES:
        return None
    values = parse_qs(body.decode("utf-8", "replace")).get("csrf")
    return values[0] if values else None


Resolver = Callable[[HTTPConnection, str], Awaitable[LiveSession | None]]


def security_middleware(
    sessions: Sessions, allowed_origins: tuple[str, ...] = (), resolve: Resolver | None = None
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    if resolve is None:
        from hubbub.web.deps import resolve_session_token

        resolve = resolve_session_token

    async def middleware(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        session = sessions.load(request)
        fresh = session is None
        if session is None:
            session = Sessions.new()
        request.state.session = session
        request.state.session_changed = fresh
        request.state.user = None
        request.state.session_id = None
        token = session.get(AUTH)
        if isinstance(token, str) and not request.url.path.startswith("/static/"):
            live = await resolve(request, token)
            if live is None:
                # Ended on the server (logout elsewhere, revoked, expired):
                # the browser forgets it too; it stays a visitor.
                session = {k: v for k, v in session.items() if k != AUTH}
                request.state.session = session
                request.state.session_changed = True
            else:
                request.state.user = live.user
                request.state.session_id = live.id
        if request.method in UNSAFE:
            if not origin_allowed(request, allowed_origins):
                return _refuse(request, "cross-origin request refused")
            token = request.headers.get(CSRF_HEADER) or await _form_token(request)
            if fresh or not tokens_equal(token, session.get("csrf")):
                return _refuse(request, "missing or wrong CSRF token")
        if not request.url.path.startswith("/static/"):
            missing = await _find_workspace(request)
            if missing is not None:
                return missing
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.state.session_changed:
            sessions.set_cookie(request, response, request.state.session)
        return response

    return middleware


async def _find_workspace(request: Request) -> Response | None:
    """Set the workspace the request acts in (``request.state.tenant``), or
    answer 404: a workspace that does not exist, or not the signed-in user's."""
    from hubbub.store.scope import NoSuchWorkspace
    from hubbub.web.workspaces import WorkspaceNotHere, base_path, tenant_for, url_workspace

    if not hasattr(request.app.state, "tenants"):
        return None  # not started (an app without its lifespan)
    try:
        request.state.tenant = await tenant_for(request, request.state.user)
    except (NoSuchWorkspace, WorkspaceNotHere):
        return _refuse(request, "Not Found", status=404)
    request.state.base = base_path(url_workspace(request.url.path))
    return None


def _refuse(request: Request, reason: str, status: int = 403) -> Response:
    path = request.url.path
    if path.startswith("/w/"):  # a workspace's public URL: what follows its name
        path = "/" + path[3:].partition("/")[2]
    if path.startswith("/api/"):
        response: Response = JSONResponse({"detail": reason}, status_code=status)
    else:
        response = PlainTextResponse(reason, status_code=status)
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response
