"""The team inbox page and its JSON API (``/inbox``, ``/api/inbox/...``).

Every request acts in the signed-in user's own workspace, through the
inbox service (``hubbub.inbox.service.Inbox``), which scopes every read and
write: a case number of another workspace is simply not found (404, never
403). Viewers read; agents and owners act; the service enforces the roles and
these routes map its refusals to HTTP answers. The CSRF token and the Origin
of every state change are checked by the security middleware before any
route here runs.

Live updates travel on ``/api/inbox/live`` (see ``routes_inbox_live``): a
nudge that something changed, after which each page refetches through this
API with its own session, so the socket itself never carries case data.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, TypeVar

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, field_validator

from hubbub.i18n import _
from hubbub.inbox.errors import CaseNotFound, Claimed, InboxError, NotAllowed
from hubbub.inbox.model import PRIORITIES, STATUSES, VIEWS, Actor
from hubbub.inbox.service import Inbox
from hubbub.store.scope import NoSuchWorkspace, existing_scope
from hubbub.web.accounts import User
from hubbub.web.deps import current_user
from hubbub.web.routes_inbox_live import nudge
from hubbub.web.routes_inbox_live import router as live_router
from hubbub.web.routes_pages import _page

router = APIRouter()
router.include_router(live_router)  # the page's socket, /api/inbox/live

T = TypeVar("T")

# A case number fits the database's 64-bit key; a larger one is no case (and
# must not reach PostgreSQL, which would refuse it with an error, not a miss).
CaseId = Annotated[int, Path(ge=1, le=2**63 - 1)]
NETWORKS = ("x", "bluesky", "mastodon")
MAX_TEXT = 5_000  # a reply or a note; the service and the network count further
MAX_LABELS = 20
MAX_LABEL = 40
MAX_NAME = 100
MAX_SNOOZE = timedelta(days=366)
KEY = re.compile(r"^[A-Za-z0-9_-]{8,32}$")  # as the service takes it
# PostgreSQL refuses NUL in text, and UTF-8 cannot hold a lone surrogate
# (which a JSON string may carry): both are refused at the edge, as 422.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(value: str) -> str:
    if _UNSTORABLE.search(value):
        raise ValueError("text holds a character that cannot be stored")
    return value


# -- who is asking ---------------------------------------------------------------


def _user(request: Request) -> User:
    user = current_user(request)
    if user is None:
        raise HTTPException(401, _("Sign in first."))
    return user


def _workspace(request: Request, user: User) -> str:
    """The workspace every request of ``user`` acts in: their own."""
    return user.workspace


def inbox_for(request: Request, user: User) -> Inbox:
    """The inbox of ``user``'s workspace, one per workspace per app (blocking:
    the first call looks the workspace up)."""
    state = request.app.state
    cache: dict[str, Inbox] | None = getattr(state, "inbox_by_workspace", None)
    if cache is None:
        cache = state.inbox_by_workspace = {}
    name = _workspace(request, user)
    inbox = cache.get(name)
    if inbox is None:
        try:
            inbox = Inbox(existing_scope(request.app.state.store, name))
        except NoSuchWorkspace:
            raise HTTPException(404, _("No such workspace.")) from None
        cache[name] = inbox
    return inbox


async def _call(request: Request, work: Callable[[Inbox, Actor], T], *, changes: bool = False) -> T:
    """Run ``work`` with the user's inbox and actor in a thread, mapping the
    service's refusals to answers; a change nudges the workspace's live pages."""
    user = _user(request)
    actor = Actor(user.name, user.role)

    def run() -> T:
        return work(inbox_for(request, user), actor)

    try:
        result = await asyncio.to_thread(run)
    except CaseNotFound:
        raise HTTPException(404, _("No such case.")) from None
    except NotAllowed as exc:
        raise HTTPException(403, str(exc)) from None
    except Claimed as exc:
        raise HTTPException(409, {"message": str(exc), "being_answered_by": exc.user}) from None
    except InboxError as exc:
        raise HTTPException(400, str(exc)) from None
    if changes:
        nudge(request.app, _workspace(request, user))
    return result


# -- the page ----------------------------------------------------------------------


@router.get("/inbox", response_class=HTMLResponse)
async def inbox_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return RedirectResponse("/login?next=/inbox", status_code=303)
    actor = Actor(user.name, user.role)
    unknown = await asyncio.to_thread(lambda: inbox_for(request, user).unknown_accounts(actor))
    return _page(
        request,
        "inbox.html",
        unknown_accounts=unknown,
        can_act=user.role in ("owner", "agent"),
        statuses=[str(s) for s in STATUSES],
        priorities=[str(p) for p in PRIORITIES],
        status_labels=_status_labels(),
        priority_labels=_priority_labels(),
    )


def _status_labels() -> dict[str, str]:
    # Built per request: the words follow the language configured now.
    return {
        "new": _("New"),
        "open": _("Open"),
        "pending": _("Pending"),
        "resolved": _("Resolved"),
        "snoozed": _("Snoozed"),
    }


def _priority_labels() -> dict[str, str]:
    return {"low": _("Low"), "normal": _("Normal"), "high": _("High"), "urgent": _("Urgent")}


# -- reading -------------------------------------------------------------------------


@router.get("/api/inbox/cases")
async def list_cases(
    request: Request,
    view: Annotated[str, Query(max_length=20)] = "all",
    status: Annotated[str | None, Query(max_length=20)] = None,
    priority: Annotated[str | None, Query(max_length=20)] = None,
    label: Annotated[str | None, Query(max_length=MAX_LABEL)] = None,
    network: Annotated[str | None, Query(max_length=20)] = None,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, object]:
    """A view's cases (newest activity first) and the count of each view."""
    if view not in VIEWS:
        raise HTTPException(400, _("Unknown view."))
    if label is not None and _UNSTORABLE.search(label):
        raise HTTPException(422, _("The label holds a character that cannot be stored."))

    def read(inbox: Inbox, actor: Actor) -> dict[str, object]:
        stamp = inbox.stamp(actor)  # before the read: a change in between shows next time
        cases = inbox.list_cases(
            actor,
            view,
            status=status or None,
            priority=priority or None,
            label=(label or "").strip().casefold() or None,
            network=network or None,
            limit=limit,
            before_id=before,
        )
        counts = inbox.counts(actor)
        return {
            "cases": [c.as_json() for c in cases],
            "counts": {
                "all": counts.all,
                "mine": counts.mine,
                "unassigned": counts.unassigned,
                "by_status": dict(counts.by_status),
            },
            "stamp": stamp,
            "me": actor.name,
        }

    return await _call(request, read)


@router.get("/api/inbox/cases/{case_id}")
async def get_case(request: Request, case_id: CaseId) -> dict[str, object]:
    return await _call(request, lambda inbox, actor: inbox.get_case(actor, case_id).as_json())


@router.get("/api/inbox/agents")
async def agents(request: Request) -> dict[str, object]:
    """Who a case can be assigned to: the workspace's owners and agents."""

    def read(inbox: Inbox, actor: Actor) -> dict[str, object]:
        return {
            "agents": [
                {
                    "name": a.name,
                    "role": a.role,
                    "available": a.available,
                    "cap": a.cap,
                    "open_cases": a.open_cases,
                }
                for a in inbox.agents(actor)
            ],
            "me": actor.name,
            "can_act": actor.may_act,
        }

    return await _call(request, read)


@router.get("/api/inbox/saved-replies")
async def saved_replies(request: Request) -> dict[str, object]:
    def read(inbox: Inbox, actor: Actor) -> dict[str, object]:
        return {
            "saved_replies": [
                {"code": s.code, "text": s.text, "fields": list(s.fields)}
                for s in inbox.saved_replies(actor)
            ]
        }

    return await _call(request, read)


@router.get("/api/inbox/cases/{case_id}/saved-replies/{code}")
async def render_saved_reply(
    request: Request, case_id: CaseId, code: Annotated[str, Path(max_length=40)]
) -> dict[str, str]:
    """A saved reply filled in for this case (the page puts it in the reply box)."""

    if _UNSTORABLE.search(code):
        raise HTTPException(422, _("The code holds a character that cannot be stored."))

    def work(inbox: Inbox, actor: Actor) -> dict[str, str]:
        # The case first: another workspace's case is 404 whatever the code.
        inbox.get_case(actor, case_id)
        return {"text": inbox.render_saved_reply(actor, code, case_id)}

    return await _call(request, work)


# -- acting on a case -------------------------------------------------------------------


class AssignIn(BaseModel):
    user: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    # Round robin among available agents under their cap, instead of ``user``.
    auto: bool = False

    @field_validator("user")
    @classmethod
    def _check(cls, value: str | None) -> str | None:
        return None if value is None else _storable(value)


class StatusIn(BaseModel):
    status: str = Field(min_length=1, max_length=20)
    until: datetime | None = None  # a snooze's wake-up time, with its zone

    @field_validator("until")
    @classmethod
    def _check(cls, value: datetime | None) -> datetime | None:
        if value is None or value.tzinfo is None:
            return value  # the service says a wake-up time needs a zone (400)
        try:
            utc = value.astimezone(UTC)
        except OverflowError:  # 9999-12-31T23:00-14:00 is past the last date
            raise ValueError("the snooze time is out of range") from None
        if utc > datetime.now(UTC) + MAX_SNOOZE:
            raise ValueError("a case is snoozed for at most a year")
        return utc


class PriorityIn(BaseModel):
    priority: str = Field(min_length=1, max_length=20)


class LabelsIn(BaseModel):
    labels: list[Annotated[str, Field(max_length=MAX_LABEL)]] = Field(max_length=MAX_LABELS)

    @field_validator("labels")
    @classmethod
    def _check(cls, value: list[str]) -> list[str]:
        for label in value:
            _storable(label)
        return value


class TextIn(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT)

    @field_validator("text")
    @classmethod
    def _check(cls, value: str) -> str:
        return _storable(value)


class ReplyIn(TextIn):
    # One key per reply box: a double click, a retry after a lost answer or a
    # second tab sending the same box makes one reply, not two.
    key: str = Field(pattern=KEY.pattern)


class ClaimIn(BaseModel):
    seconds: int = Field(default=120, ge=10, le=900)


@router.post("/api/inbox/cases/{case_id}/assign")
async def assign(request: Request, case_id: CaseId, body: AssignIn) -> dict[str, object]:
    if body.auto:
        return await _call(
            request,
            lambda inbox, actor: inbox.auto_assign(actor, case_id).as_json(),
            changes=True,
        )
    user = body.user.strip() if body.user else None
    return await _call(
        request,
        lambda inbox, actor: inbox.assign(actor, case_id, user or None).as_json(),
        changes=True,
    )


@router.post("/api/inbox/cases/{case_id}/status")
async def set_status(request: Request, case_id: CaseId, body: StatusIn) -> dict[str, object]:
    return await _call(
        request,
        lambda inbox, actor: inbox.set_status(
            actor, case_id, body.status, until=body.until
        ).as_json(),
        changes=True,
    )


@router.post("/api/inbox/cases/{case_id}/priority")
async def set_priority(request: Request, case_id: CaseId, body: PriorityIn) -> dict[str, object]:
    return await _call(
        request,
        lambda inbox, actor: inbox.set_priority(actor, case_id, body.priority).as_json(),
        changes=True,
    )


@router.post("/api/inbox/cases/{case_id}/labels")
async def set_labels(request: Request, case_id: CaseId, body: LabelsIn) -> dict[str, object]:
    return await _call(
        request,
        lambda inbox, actor: inbox.set_labels(actor, case_id, body.labels).as_json(),
        changes=True,
    )


@router.post("/api/inbox/cases/{case_id}/notes", status_code=201)
async def add_note(request: Request, case_id: CaseId, body: TextIn) -> dict[str, object]:
    return await _call(
        request,
        lambda inbox, actor: inbox.add_note(actor, case_id, body.text).as_json(),
        changes=True,
    )


@router.post("/api/inbox/cases/{case_id}/claim")
async def claim(request: Request, case_id: CaseId, body: ClaimIn) -> dict[str, object]:
    """ "I am answering this": shown live to the workspace's other agents;
    409 while another agent holds it."""

    def work(inbox: Inbox, actor: Actor) -> dict[str, object]:
        held = inbox.claim(actor, case_id, body.seconds)
        return {"being_answered_by": held.user, "until": held.until.isoformat()}

    return await _call(request, work, changes=True)


@router.delete("/api/inbox/cases/{case_id}/claim")
async def release(request: Request, case_id: CaseId) -> dict[str, bool]:
    def work(inbox: Inbox, actor: Actor) -> dict[str, bool]:
        inbox.release(actor, case_id)
        return {"ok": True}

    return await _call(request, work, changes=True)


@router.post("/api/inbox/cases/{case_id}/replies", status_code=201)
async def reply(request: Request, case_id: CaseId, body: ReplyIn) -> dict[str, object]:
    """Queue a reply in the outbox, threaded under the customer's post; the
    same ``key`` again answers with the first reply instead of a second one."""
    return await _call(
        request,
        lambda inbox, actor: inbox.reply(actor, case_id, body.text, key=body.key).as_json(),
        changes=True,
    )
