"""The listening dashboard: saved queries, the scorecard, charts data, report
downloads and spike alerts (pages + JSON API). The background listener that
matches and classifies live posts is ``hubbub.listen.live.Listener``, run by
the runtime; these routes read its counters.

Live counters are polled, not pushed: the page asks ``/api/listen/status``
(a few integers) every few seconds and refetches the scorecard only when the
listener's ``version`` moved. The figures are SQL aggregates anyway, polling
survives reconnects and proxies without code, and it adds no subscription per
open dashboard to the bus the rooms depend on.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime, timedelta
from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from hubbub.analyze import PeriodError, Selection, build_report, render_csv, render_html
from hubbub.analyze.selection import matching_bounds, resolve_period, selection_condition
from hubbub.author_labels import AuthorLabels
from hubbub.i18n import _
from hubbub.listen.live import Listener, start_listening, webhook_allowed  # noqa: F401 - re-exported
from hubbub.listen.saved import (
    SavedQueryError,
    SavedQueryInUse,
    SavedQueryNameError,
    add_query,
    list_queries,
    remove_query,
)
from hubbub.post import rfc3339
from hubbub.query.ast import Node
from hubbub.query.parser import QueryLimitError, QuerySyntaxError, parse
from hubbub.repost_text import needs_original, repost_text
from hubbub.store import Store
from hubbub.store.originals import stored_originals
from hubbub.web.accounts import User
from hubbub.web.audit_hooks import audit_event, audit_export
from hubbub.web.deps import current_user, require_host, tenant
from hubbub.web.roles import has_role
from hubbub.web.routes_pages import _page

log = logging.getLogger(__name__)

PREVIEW_LIMIT = 10
QUERY_MAX = 2000
# "The last N days": a day to a year (and a leap day). Out of range is refused,
# not quietly clamped: days=0 showing one day's figures misleads.
DAYS_MIN, DAYS_MAX = 1, 366
SCORECARD_KEYS = (
    "mentions",
    "reposts",
    "accuracy",
    "strength",
    "sentiment",
    "passion",
    "reach",
    "top_keywords",
    "top_users",
    "top_hashtags",
    "sources",
)
REPORT_TYPES = {
    "html": "text/html; charset=utf-8",
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
}
# The downloaded report is self-contained; if a browser shows it inline from
# our origin anyway, it gets the same lock-down as the file declares.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"


# -- request helpers -------------------------------------------------------------

router = APIRouter()


def _listener(request: Request) -> Listener | None:
    """The runtime's live listener, which follows the default workspace's
    saved queries; another workspace's dashboard reads the store only (its
    live counters stay at zero), so it never sees the default's figures."""
    if tenant(request).name != request.app.state.settings.workspace:
        return None
    found: Listener | None = request.app.state.listening
    return found


def _bump(request: Request, forget: str | None = None) -> None:
    lst = _listener(request)
    if lst is not None:
        if forget is not None:
            lst.live.pop(forget, None)
        lst.bump()


def _require_user(request: Request) -> User:
    user = current_user(request)
    if user is None:
        raise HTTPException(401, _("Sign in first."))
    return user


def _syntax_error(exc: QuerySyntaxError) -> JSONResponse:
    """400 for a mistake in the query; 422 for one over a limit (length,
    nesting), whose message names the limit."""
    status = 422 if isinstance(exc, QueryLimitError) else 400
    return JSONResponse({"error": exc.message, "position": exc.position}, status_code=status)


def _parse_query(text: str) -> Node:
    """Parse a query typed into the dashboard, under the web's length limit
    (lower than the parser's own: each request may run several searches)."""
    if len(text) > QUERY_MAX:
        raise QueryLimitError(f"query longer than {QUERY_MAX} characters", QUERY_MAX)
    return parse(text)


def _selection(saved: str | None, group: str | None, q: str | None) -> Selection:
    # Saved names and groups are stored stripped (check_name): asked for
    # padded, they are the same one.
    saved, group = (v.strip() if v is not None else None for v in (saved, group))
    given = [(k, v) for k, v in (("saved", saved), ("group", group), ("query", q)) if v]
    if len(given) != 1:
        raise HTTPException(400, _("Choose one of a saved query, a group or a query."))
    kind, value = given[0]
    if kind == "query":
        _parse_query(value)  # QuerySyntaxError → 400/422 with its position (caller)
    return Selection(kind, value)


def _last_days(
    store: Store, ws: str, selection: Selection, days: int, until: str | None
) -> tuple[datetime, datetime, str]:
    """Start, end and anchor of "the last ``days`` days". Like ``hubbub
    report``, the window ends just after the newest post the selection
    matches (anchor ``newest_match``), so a query whose last mention is older
    than the workspace's newest post still shows its figures; ``until``
    given: there (``until``); nothing matches: now, or just after an
    archive's newest post (``latest``)."""
    if until is not None:
        end, anchor = resolve_period(store, ws, None, until).until, "until"
    else:
        bounds = matching_bounds(store, ws, selection_condition(store, ws, selection))
        if bounds is not None:
            end, anchor = bounds[1] + timedelta(microseconds=1), "newest_match"
        else:
            end, anchor = resolve_period(store, ws).until, "latest"
    return end - timedelta(days=days), end, anchor


def _report(
    request: Request,
    selection: Selection,
    days: int | None,
    since: str | None,
    until: str | None,
) -> dict[str, Any]:
    """build_report for the request's period (runs in a worker thread)."""
    app = request.app
    store, ws = app.state.store, tenant(request).name
    if days is None or since is not None:
        return build_report(store, selection, workspace=ws, since=since, until=until)
    start, end, anchor = _last_days(store, ws, selection, days, until)
    report = build_report(store, selection, workspace=ws, since=start, until=end)
    # Say which window was used: the page shows it under the scorecard.
    report["period"].update(window="days", days=days, anchor=anchor)
    return report


def _check_days(days: int | None) -> None:
    if days is not None and not DAYS_MIN <= days <= DAYS_MAX:
        raise HTTPException(
            400,
            _("days must be from {low} to {high} (got {days}).").format(
                low=DAYS_MIN, high=DAYS_MAX, days=days
            ),
        )


async def _build(
    request: Request,
    saved: str | None,
    group: str | None,
    q: str | None,
    days: int | None,
    since: str | None,
    until: str | None,
) -> dict[str, Any] | JSONResponse:
    _check_days(days)
    try:
        selection = _selection(saved, group, q)
        return await asyncio.to_thread(_report, request, selection, days, since, until)
    except QuerySyntaxError as exc:
        return _syntax_error(exc)
    except SavedQueryError as exc:
        raise HTTPException(404, str(exc)) from None
    except PeriodError as exc:
        raise HTTPException(400, str(exc)) from None


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", value).strip("-")[:40] or "report"


# -- pages -------------------------------------------------------------------------


@router.get("/listen", response_class=HTMLResponse)
async def listen_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return RedirectResponse("/login?next=/listen", status_code=303)
    return _page(request, "listen.html", can_manage=has_role(user, "agent"))


# -- JSON API ----------------------------------------------------------------------


@router.get("/api/listen/status")
async def status(request: Request) -> dict[str, Any]:
    """Cheap: polled every few seconds by the dashboard."""
    _require_user(request)
    lst = _listener(request)
    if lst is None:
        return {
            "version": 0,
            "live": {},
            "alerts": 0,
            "posts": 0,
            "matches": 0,
            "failures": 0,
            "overflows": 0,
        }
    stats = lst.stage.stats
    return {
        "version": lst.version,
        "live": dict(lst.live),
        "alerts": len(lst.alerts),
        "posts": stats.posts,
        "matches": stats.matches,
        "failures": stats.failures,
        "overflows": lst.overflows,
    }


@router.get("/api/listen/queries")
async def get_queries(request: Request) -> list[dict[str, Any]]:
    _require_user(request)
    app = request.app

    def read() -> list[dict[str, Any]]:
        ws = tenant(request).name
        return [q.as_json() for q in list_queries(app.state.store, workspace=ws, with_matches=True)]

    return await asyncio.to_thread(read)


class QueryIn(BaseModel):
    # No length limits here: the listen layer strips a name, then checks its
    # length, as it does for the CLI (a limit here counted the padding, and
    # let a name of spaces through). The body limit bounds what is read.
    name: str
    query: str = Field(min_length=1, max_length=QUERY_MAX)
    group: str = "brand"


@router.post("/api/listen/queries", status_code=201, response_model=None)
async def post_query(request: Request, body: QueryIn) -> dict[str, Any] | JSONResponse:
    user = require_host(request)
    app = request.app
    # Names and groups are stripped and checked once, by the listen layer
    # (the CLI's check too); stripped here as well for the audit line.
    name, group = body.name.strip(), body.group.strip()
    try:
        saved = await asyncio.to_thread(
            add_query,
            app.state.store,
            name,
            body.query,
            group=group,
            workspace=tenant(request).name,
        )
    except QuerySyntaxError as exc:
        return _syntax_error(exc)
    except SavedQueryNameError as exc:
        raise HTTPException(422, str(exc)) from None
    except SavedQueryError as exc:
        raise HTTPException(409, str(exc)) from None
    _bump(request)
    await audit_event(request, user, "saved_query_created", user.workspace, target=name)
    return saved.as_json()


@router.delete("/api/listen/queries/{name:path}")
async def delete_query(request: Request, name: str, force: bool = False) -> dict[str, Any]:
    """Remove a saved query: 409 naming the inbox rules built on it, unless
    ``force`` (then they go too; their cases stay)."""
    user = require_host(request)
    app = request.app
    # Stripped as on create (and for the audit line and the live matcher's key).
    name = name.strip()
    try:
        removed = await asyncio.to_thread(
            remove_query, app.state.store, name, workspace=tenant(request).name, force=force
        )
    except SavedQueryInUse as exc:
        ids = ", ".join(str(i) for i in exc.rule_ids)
        raise HTTPException(
            409,
            _(
                "Inbox rules are built on this saved query (rule {ids}) and would go with it. "
                "Remove them first (hubbub inbox rule remove ID), then the query."
            ).format(ids=ids),
        ) from None
    if not removed:
        raise HTTPException(404, _("No such saved query."))
    _bump(request, forget=name)
    await audit_event(request, user, "saved_query_deleted", user.workspace, target=name)
    return {"ok": True}


@router.get("/api/listen/preview", response_model=None)
async def preview(request: Request, q: str = "") -> dict[str, Any] | JSONResponse:
    """Syntax check and the newest matches among stored posts, for feedback while typing."""
    _require_user(request)
    if not q.strip():
        return {"ok": True, "count": 0, "posts": []}
    try:
        node = _parse_query(q)
    except QuerySyntaxError as exc:
        return _syntax_error(exc)
    app = request.app
    here = tenant(request)
    store, ws = app.state.store, here.name

    def read() -> dict[str, Any]:
        posts = store.search(node, ws, limit=PREVIEW_LIMIT)
        # A repost with no text (Bluesky, Mastodon) is shown by its original.
        originals = stored_originals(store, ws, filter(needs_original, posts))
        labels = AuthorLabels.of_authors(
            here.scope,
            ((p.network, p.author.id, p.author.handle) for p in [*posts, *originals.values()]),
        )
        return {
            "ok": True,
            "count": store.count(node, ws),
            "posts": [
                {
                    "network": p.network,
                    "id": p.id,
                    "author": p.author.handle,
                    "author_id": p.author.id,
                    **labels.fields(p.network, p.author.id),
                    "name": p.author.display_name,
                    "text": repost_text(p, originals.get((p.network, p.repost_of or "")), labels)[
                        :500
                    ],
                    "repost_of": p.repost_of,
                    "created_at": rfc3339(p.created_at),
                }
                for p in posts
            ],
        }

    return await asyncio.to_thread(read)


@router.get("/api/listen/scorecard", response_model=None)
async def get_scorecard(
    request: Request,
    saved: str | None = None,
    group: str | None = None,
    q: str | None = None,
    days: int | None = None,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any] | JSONResponse:
    """The scorecard part of the report, plus the volume series for the chart."""
    _require_user(request)
    report = await _build(request, saved, group, q, days, since, until)
    if isinstance(report, JSONResponse):
        return report
    out = {key: report[key] for key in ("selection", "period", "generated_at", *SCORECARD_KEYS)}
    out["volume"] = {
        "bucket": report["when"]["bucket"],
        "series": report["when"]["volume"],
        "spikes": report["when"]["spikes"],
    }
    lst = _listener(request)
    out["version"] = lst.version if lst is not None else 0
    return out


@router.get("/api/listen/report", response_model=None)
async def get_report(
    request: Request,
    saved: str | None = None,
    group: str | None = None,
    q: str | None = None,
    days: int | None = None,
    since: str | None = None,
    until: str | None = None,
    format: str = "html",
) -> Response:
    user = _require_user(request)
    if format not in REPORT_TYPES:
        raise HTTPException(400, _("The format is html, json or csv."))
    report = await _build(request, saved, group, q, days, since, until)
    if isinstance(report, JSONResponse):
        return report
    if format == "html":
        body = render_html(report)
    elif format == "csv":
        body = render_csv(report)
    else:
        body = orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n"
    day = report["period"]["until"][:10]
    filename = f"hubbub-report-{_slug(report['selection']['value'])}-{day}.{format}"
    headers = {
        "content-disposition": f'attachment; filename="{filename}"',
        "content-security-policy": REPORT_CSP,
        "cache-control": "no-store",
    }
    # A report carries matched posts out of the workspace: audited as an
    # export, with the detail 'hubbub report' records.
    chosen = report["selection"]
    detail = {"command": "report", "format": format, str(chosen["kind"]): str(chosen["value"])}
    await audit_export(request, user, tenant(request).name, target=filename, detail=detail)
    return Response(body, media_type=REPORT_TYPES[format], headers=headers)


@router.get("/api/listen/alerts")
async def get_alerts(request: Request) -> dict[str, Any]:
    _require_user(request)
    lst = _listener(request)
    if lst is None:
        return {"alerts": [], "webhook": False}
    try:
        alerts = await lst.check_alerts()
    except Exception as exc:  # noqa: BLE001 - show the last known alerts rather than fail
        log.error("spike check failed: %s", type(exc).__name__)
        alerts = lst.alerts
    return {"alerts": alerts, "webhook": lst.webhook is not None}
