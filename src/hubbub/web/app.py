"""``create_app(settings)``: the FastAPI app of rooms, posting and accounts.

The app owns what it opens: a Store (unless handed one) and a Pipeline fed by
the sources in the settings (unless handed one, as tests and ``demo`` do).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi import Path as PathParam
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from hubbub.i18n import _
from hubbub.runtime import Runtime
from hubbub.settings import Settings
from hubbub.store import Store
from hubbub.web.client_address import parse_networks
from hubbub.web.host_guard import HostGuard, HostPolicy, warn_if_names_are_refused
from hubbub.web.hub import Hubs
from hubbub.web.ratelimit import RateLimiter
from hubbub.web.rooms import RoomRepo, fed_tags
from hubbub.web.security import Sessions, security_middleware
from hubbub.web.signin_throttle import SigninThrottle
from hubbub.web.user_sessions import live_tokens
from hubbub.web.workspaces import Tenants

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
WORKSPACE_PREFIX = "/w/{workspace}"


def url_workspace(workspace: str = PathParam(min_length=1, max_length=100)) -> str:
    """Declares ``/w/{workspace}`` in the API description; the security
    middleware has already checked that the workspace exists and may be
    used by this request."""
    return workspace


def _describe_errors(app: FastAPI) -> None:
    """Generate the API description once, with 422 described as answered
    (see ``errors.describe_422``)."""
    from fastapi.openapi.utils import get_openapi

    from hubbub.web.errors import describe_422

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            app.openapi_schema = describe_422(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    store: Store | None = None,
    pipeline: Any = None,
) -> FastAPI:
    """The web app over ``runtime`` (store, pipeline, sources, listener).
    Without one it builds its own from ``settings`` (``store=`` and
    ``pipeline=`` hand it parts, as tests do). A runtime not yet started is
    started and stopped by the app's lifespan; a started one is left to its
    owner."""
    settings = settings or Settings.from_env()
    sessions = Sessions.from_settings(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime if runtime is not None else Runtime(settings, store=store, pipeline=pipeline)
        own_runtime = not rt.started
        try:
            if own_runtime:
                await rt.start()
            assert rt.store is not None and rt.pipeline is not None
            st, pl = rt.store, rt.pipeline
            app.state.store = st
            # Tests and benchmarks hand posts to the pipeline from other threads.
            app.state.loop = asyncio.get_running_loop()

            def make_hubs(pipe: Any, repo: RoomRepo) -> Hubs:
                name = repo.workspace
                return Hubs(
                    pipe,
                    repo,
                    max_rooms=settings.max_live_rooms,
                    max_readers=settings.max_readers,
                    idle_seconds=settings.room_idle_seconds,
                    live_tokens=lambda tokens: live_tokens(
                        st, name, tokens, now=sessions.clock(), policy=sessions.policy
                    ),
                )

            tenants = Tenants(st, settings, make_hubs, runtime_pipeline=rt.pipeline_for)
            app.state.tenants = tenants
            default = await tenants.add_default(
                pl, fed_tags(settings.room_tags(), settings.sources)
            )
            # The default workspace's parts, by their old names (tests, the CLI's demo).
            app.state.pipeline = pl
            app.state.rooms = default.rooms
            app.state.hubs = default.hubs
            app.state.runtime = rt
            app.state.listening = rt.listener
            yield
        finally:
            if hasattr(app.state, "tenants"):
                await app.state.tenants.stop()
            if own_runtime:
                await rt.stop()

    app = FastAPI(title="Hubbub", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.signin_throttle = SigninThrottle()
    app.state.trusted_proxies = parse_networks(settings.trusted_proxies)
    app.state.guest_limiter = RateLimiter(settings.guest_posts_per_minute, per_seconds=60.0)
    # Recap downloads, per workspace and client address: anyone may fetch a
    # public room's recap, and each one builds a file (a PDF is costly).
    app.state.recap_limiter = RateLimiter(settings.recap_downloads_per_minute, per_seconds=60.0)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["_"] = _
    app.state.templates = templates
    app.middleware("http")(security_middleware(sessions, settings.allowed_origins))
    from fastapi.exceptions import RequestValidationError

    from hubbub.web.errors import validation_error
    from hubbub.web.limits import BodyLimit

    # Added after the security middleware, so outside it: oversized bodies
    # are refused before the CSRF check reads a form or a route parses JSON.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    # Added after BodyLimit, so outermost of all: a request addressed to a
    # name this server does not answer to (DNS rebinding) meets nothing else.
    host_policy = HostPolicy.from_settings(settings)
    warn_if_names_are_refused(settings, host_policy)
    app.add_middleware(HostGuard, policy=host_policy, trusted_proxies=app.state.trusted_proxies)
    app.add_exception_handler(RequestValidationError, validation_error)
    _describe_errors(app)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    from hubbub.web import (
        routes_account,
        routes_api,
        routes_chat,
        routes_inbox,
        routes_listen,
        routes_live,
        routes_pages,
        routes_status,
    )

    app.include_router(routes_pages.router)
    app.include_router(routes_account.router)
    app.include_router(routes_api.router)
    app.include_router(routes_live.router)
    # A workspace's public pages and their API under /w/{workspace}/... (the
    # same routes; hubbub.web.workspaces finds the workspace in the URL).
    for router in (routes_pages.router, routes_api.router, routes_chat.router):
        app.include_router(router, prefix=WORKSPACE_PREFIX, dependencies=[Depends(url_workspace)])
    app.include_router(routes_live.router, prefix=WORKSPACE_PREFIX)
    app.include_router(routes_listen.router)
    app.include_router(routes_chat.router)
    app.include_router(routes_status.router)
    app.include_router(routes_inbox.router)
    from hubbub.web import routes_audit  # owners' audit log: /audit, /api/audit

    app.include_router(routes_audit.router)
    from hubbub.web import routes_audience  # followers' audit: /audience (issue 13)

    app.include_router(routes_audience.router)
    return app
