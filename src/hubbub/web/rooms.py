"""Room state and the rules that shape what a room shows.

A room is a hashtag in a workspace. Its settings (web guests allowed, approval
queue), its people (hosts and guests highlighted; muted and blocked authors
hidden) and its approval queue are stored through here; routes never touch
the tables. The pure helpers at the bottom turn a Post into the JSON a
browser gets: Q&A numbers and the cross-post key are computed once, here,
so the page and the API agree.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hubbub.post import Post, rfc3339
from hubbub.query.tokens import fold
from hubbub.store import Store
from hubbub.store.web_schema import room_approvals, room_people, rooms

PEOPLE_ROLES = ("host", "guest", "muted", "blocked")
HIDDEN_ROLES = ("muted", "blocked")
_TAG_RE = re.compile(r"^[^\s#@/\\?&<>\"']{1,100}$")


class RoomError(ValueError):
    pass


def normalise_tag(tag: str) -> str:
    """The room key for a hashtag: without '#', folded like the store folds tags."""
    tag = tag.strip().lstrip("#")
    if not _TAG_RE.match(tag):
        raise RoomError("a room is a hashtag: 1 to 100 characters, no spaces")
    return fold(tag)


@dataclass(slots=True)
class Room:
    id: int | None  # None: nobody configured it yet (defaults apply)
    tag: str
    allow_guests: bool = False
    approval: bool = False
    title: str | None = None
    # (network, folded handle) → "host" | "guest"
    roles: dict[tuple[str, str], str] = field(default_factory=dict)
    # (network, author id) pairs hidden from the room
    hidden: set[tuple[str, str]] = field(default_factory=set)
    labels: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def role_of(self, post: Post) -> str | None:
        if post.author.id.startswith("web:guest:"):
            return None  # a guest's chosen name must not borrow a host's highlight
        return self.roles.get((post.author.network, fold(post.author.handle)))

    def is_hidden(self, post: Post) -> bool:
        return (post.author.network, post.author.id) in self.hidden

    def public(self) -> dict[str, Any]:
        """What every visitor may know: settings and highlighted people."""
        return {
            "tag": self.tag,
            "allow_guests": self.allow_guests,
            "approval": self.approval,
            "roles": [
                {"network": n, "handle": h, "role": r} for (n, h), r in sorted(self.roles.items())
            ],
        }

    def for_host(self) -> dict[str, Any]:
        data = self.public()
        data["hidden"] = [
            {
                "network": n,
                "author_id": a,
                "label": self.labels.get((role, n, a), a),
                "role": role,
            }
            for (role, n, a) in sorted(self.labels)
            if role in HIDDEN_ROLES
        ]
        return data


class RoomRepo:
    """Room rows of one workspace."""

    def __init__(self, store: Store, workspace: str) -> None:
        self.store = store
        self.workspace = workspace
        self.ws = store.workspace_id(workspace)

    def get(self, tag: str) -> Room:
        key = normalise_tag(tag)
        with self.store.engine.connect() as conn:
            row = (
                conn.execute(
                    sa.select(rooms).where(rooms.c.workspace_id == self.ws, rooms.c.tag == key)
                )
                .mappings()
                .first()
            )
            if row is None:
                return Room(None, key)
            room = Room(row["id"], key, row["allow_guests"], row["approval"], row["title"])
            people = conn.execute(
                sa.select(room_people).where(
                    room_people.c.workspace_id == self.ws, room_people.c.room_id == row["id"]
                )
            ).mappings()
            for p in people:
                if p["role"] in HIDDEN_ROLES:
                    room.hidden.add((p["network"], p["who"]))
                else:
                    room.roles[(p["network"], p["who"])] = p["role"]
                room.labels[(p["role"], p["network"], p["who"])] = p["label"] or p["who"]
        return room

    def ensure(self, tag: str) -> Room:
        """The room, creating its row (with defaults) when it has none."""
        room = self.get(tag)
        if room.id is not None:
            return room
        now = datetime.now(UTC)
        with self.store.engine.begin() as conn:
            conn.execute(
                rooms.insert().values(
                    workspace_id=self.ws,
                    tag=room.tag,
                    allow_guests=False,
                    approval=False,
                    created_at=now,
                    updated_at=now,
                )
            )
        return self.get(tag)

    def update(
        self, tag: str, *, allow_guests: bool | None = None, approval: bool | None = None
    ) -> Room:
        room = self.ensure(tag)
        values: dict[str, Any] = {"updated_at": datetime.now(UTC)}
        if allow_guests is not None:
            values["allow_guests"] = allow_guests
        if approval is not None:
            values["approval"] = approval
        with self.store.engine.begin() as conn:
            conn.execute(
                rooms.update()
                .where(rooms.c.workspace_id == self.ws, rooms.c.id == room.id)
                .values(**values)
            )
        return self.get(tag)

    def set_person(
        self, tag: str, role: str, network: str, who: str, label: str | None = None, on: bool = True
    ) -> Room:
        """Add (or with ``on=False`` remove) a host/guest (by handle) or a
        muted/blocked author (by author id)."""
        if role not in PEOPLE_ROLES:
            raise RoomError(f"role must be one of {', '.join(PEOPLE_ROLES)}")
        who = who.strip()
        if role in ("host", "guest"):
            who = fold(who.lstrip("@"))
        if not who or len(who) > 300 or not network or len(network) > 16:
            raise RoomError("name the person: a network and a handle or author id")
        room = self.ensure(tag)
        rp = room_people
        key = (rp.c.workspace_id == self.ws, rp.c.room_id == room.id, rp.c.role == role)
        with self.store.engine.begin() as conn:
            conn.execute(rp.delete().where(*key, rp.c.network == network, rp.c.who == who))
            if on:
                conn.execute(
                    rp.insert().values(
                        workspace_id=self.ws,
                        room_id=room.id,
                        role=role,
                        network=network,
                        who=who,
                        label=(label or who)[:300],
                        created_at=datetime.now(UTC),
                    )
                )
        return self.get(tag)

    # -- approval queue ----------------------------------------------------

    def hold(self, room: Room, post: Post) -> None:
        """Queue a post for approval (idempotent: a replayed post keeps its decision)."""
        assert room.id is not None
        ra = room_approvals
        with self.store.engine.begin() as conn:
            exists = conn.execute(
                sa.select(ra.c.status).where(
                    ra.c.room_id == room.id, ra.c.network == post.network, ra.c.post_id == post.id
                )
            ).first()
            if exists is None:
                conn.execute(
                    ra.insert().values(
                        workspace_id=self.ws,
                        room_id=room.id,
                        network=post.network,
                        post_id=post.id,
                        status="pending",
                        created_at=datetime.now(UTC),
                    )
                )

    def decide(self, room: Room, network: str, post_id: str, approve: bool, by: str) -> Post | None:
        """Approve or reject a held post; the post (when approved) to publish."""
        ra = room_approvals
        with self.store.engine.begin() as conn:
            changed = conn.execute(
                ra.update()
                .where(
                    ra.c.workspace_id == self.ws,
                    ra.c.room_id == room.id,
                    ra.c.network == network,
                    ra.c.post_id == post_id,
                    ra.c.status == "pending",
                )
                .values(
                    status="approved" if approve else "rejected",
                    decided_at=datetime.now(UTC),
                    decided_by=by,
                )
            ).rowcount
        if not changed or not approve:
            return None
        return self.store.get_post(network, post_id, self.workspace)

    def pending(self, room: Room, limit: int = 200) -> list[Post]:
        if room.id is None:
            return []
        ra = room_approvals
        with self.store.engine.connect() as conn:
            keys = conn.execute(
                sa.select(ra.c.network, ra.c.post_id)
                .where(
                    ra.c.workspace_id == self.ws, ra.c.room_id == room.id, ra.c.status == "pending"
                )
                .order_by(ra.c.created_at)
                .limit(limit)
            ).all()
        found = (self.store.get_post(n, i, self.workspace) for n, i in keys)
        return [p for p in found if p is not None and not p.deleted]

    def withheld(self, room: Room, posts: list[Post]) -> set[tuple[str, str]]:
        """Which of ``posts`` are held or rejected (not for the public page)."""
        if room.id is None or not posts:
            return set()
        ra = room_approvals
        ids = [p.id for p in posts]
        out: set[tuple[str, str]] = set()
        with self.store.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                rows = conn.execute(
                    sa.select(ra.c.network, ra.c.post_id).where(
                        ra.c.workspace_id == self.ws,
                        ra.c.room_id == room.id,
                        ra.c.status != "approved",
                        ra.c.post_id.in_(ids[i : i + 500]),
                    )
                )
                out.update((r.network, r.post_id) for r in rows)
        return out

    def visible_posts(self, room: Room, limit: int) -> list[Post]:
        """The newest posts of the room a visitor may see, newest first."""
        limit = max(1, min(limit, 1000))
        # Ask for more than needed: some may be hidden or held.
        posts = self.store.search("#" + room.tag, self.workspace, limit=limit * 2 + 20)
        held = self.withheld(room, posts)
        shown = [p for p in posts if not room.is_hidden(p) and (p.network, p.id) not in held]
        return shown[:limit]


# -- pure helpers: what a browser gets for a post ----------------------------

_QA_RE = re.compile(r"^\s*(?:[@.][^\s]+\s+)*([QqAa])\s?(\d{1,3})(?![\d\w])")
_HASHTAG_RE = re.compile(r"#[^\s#]+")
_SPACE_RE = re.compile(r"\s+")


def qa_number(text: str) -> tuple[str, int] | None:
    """("Q", n) or ("A", n) for a chat post starting with Qn / An (after @mentions)."""
    m = _QA_RE.match(text)
    if not m:
        return None
    return m.group(1).upper(), int(m.group(2))


def crosspost_key(post: Post) -> str:
    """Same person (display name) + same text ignoring hashtags and whitespace.

    Cross-posters use different handles per network, so the display name is
    the best signal we have; the page merges equal keys from different
    networks within a few minutes into one entry.
    """
    name = fold(post.author.display_name or post.author.handle)
    text = _SPACE_RE.sub(" ", _HASHTAG_RE.sub(" ", fold(post.text))).strip()
    return hashlib.sha1(f"{name}\x00{text}".encode(), usedforsecurity=False).hexdigest()[:16]


def post_json(post: Post, room: Room | None = None) -> dict[str, Any]:
    """The contract keys (network, id, author, author_name, text, created_at)
    plus what the room page needs to filter, merge and group."""
    qa = qa_number(post.text)
    return {
        "network": post.network,
        "id": post.id,
        "author": post.author.handle,
        "author_name": post.author.display_name,
        "author_id": post.author.id,
        "text": post.text,
        "created_at": rfc3339(post.created_at),
        "url": post.url if post.url and post.url.startswith(("https://", "http://")) else None,
        "langs": list(post.langs),
        "reply_to": post.reply_to,
        "repost_of": post.repost_of,
        "sensitive": post.sensitive,
        "content_warning": post.content_warning,
        "question": qa[1] if qa and qa[0] == "Q" else None,
        "answer": qa[1] if qa and qa[0] == "A" else None,
        "xkey": crosspost_key(post),
        "role": room.role_of(post) if room else None,
    }


def configured_tags(store: Store, workspace: str) -> list[str]:
    """Tags of rooms someone configured (followed live from the start, so an
    approval queue holds posts even while nobody has the page open)."""
    ws = store.workspace_id(workspace)
    with store.engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(rooms.c.tag).where(rooms.c.workspace_id == ws).order_by(rooms.c.id)
            ).scalars()
        )
