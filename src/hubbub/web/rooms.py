"""Room state and the rules that shape what a room shows.

A room is a hashtag in a workspace. It exists when a host opens it (a row in
``rooms``) or when the configuration or a source names it (``Hubs`` keeps
those); any other tag is no room at all. Its settings (public or private, web
guests allowed, approval queue), its people (hosts and guests highlighted;
muted and blocked authors hidden) and its approval queue are stored through
here; routes never touch the tables. Tags reach this module already
validated and folded (``hubbub.tags.parse_tag`` at the edge) and are not
checked again. The pure helpers at the bottom turn a Post into the JSON a
browser gets: Q&A numbers and the cross-post key are computed once, here, so
the page and the API agree.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hubbub.chat.qa import qa_prefix
from hubbub.post import Post, rfc3339
from hubbub.query.ast import Hashtag
from hubbub.query.tokens import fold
from hubbub.store import Store
from hubbub.store.room_access_schema import web_guests
from hubbub.store.web_schema import room_approvals, room_people, rooms
from hubbub.tags import TagError, parse_tag

log = logging.getLogger(__name__)

HOST_ROLES = ("owner", "agent")  # user roles that host every room of the workspace
PEOPLE_ROLES = ("host", "guest", "muted", "blocked")
HIDDEN_ROLES = ("muted", "blocked")
GUEST_PREFIX = "web:guest:"


class RoomError(ValueError):
    pass


class RoomsFull(RuntimeError):
    """A limit on live rooms or readers is reached: the new room or reader is
    refused (503); rooms already live are not touched."""


def normalise_tag(tag: str) -> str:
    """``hubbub.tags.parse_tag`` raising RoomError (for callers that catch it)."""
    try:
        return parse_tag(tag)
    except TagError as exc:
        raise RoomError(str(exc)) from None


def name_key(name: str) -> str:
    """How guest names compare for a block: folded, spaces collapsed."""
    return " ".join(fold(name).split())


@dataclass(slots=True)
class Room:
    id: int | None  # None: no row (a room the configuration or a source names)
    tag: str
    allow_guests: bool = False
    approval: bool = False
    title: str | None = None
    public: bool = True
    # (network, folded handle) → "host" | "guest"
    roles: dict[tuple[str, str], str] = field(default_factory=dict)
    # (network, author id) pairs hidden from the room
    hidden: set[tuple[str, str]] = field(default_factory=set)
    labels: dict[tuple[str, str, str], str] = field(default_factory=dict)
    # What a block of a web guest extends to: its addresses and names.
    blocked_addresses: set[str] = field(default_factory=set)
    blocked_names: set[str] = field(default_factory=set)

    def role_of(self, post: Post) -> str | None:
        if post.author.id.startswith(GUEST_PREFIX):
            return None  # a guest's chosen name must not borrow a host's highlight
        return self.roles.get((post.author.network, fold(post.author.handle)))

    def is_hidden(self, post: Post) -> bool:
        if (post.author.network, post.author.id) in self.hidden:
            return True
        return (
            post.author.id.startswith(GUEST_PREFIX)
            and bool(self.blocked_names)
            and name_key(post.author.display_name or post.author.handle) in self.blocked_names
        )

    def blocks(self, author_id: str, address: str | None, name: str | None) -> bool:
        """Whether a web author (guest or viewer) writing from ``address`` as
        ``name`` is blocked here: by cookie, by address or by name."""
        if ("web", author_id) in self.hidden:
            return True
        if address and address in self.blocked_addresses:
            return True
        return bool(name) and name_key(name or "") in self.blocked_names

    def public_view(self) -> dict[str, Any]:
        """What every visitor may know: settings and highlighted people."""
        return {
            "tag": self.tag,
            "public": self.public,
            "allow_guests": self.allow_guests,
            "approval": self.approval,
            "roles": [
                {"network": n, "handle": h, "role": r} for (n, h), r in sorted(self.roles.items())
            ],
        }

    def for_host(self) -> dict[str, Any]:
        data = self.public_view()
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
    """Room rows of one workspace. ``tag`` arguments are folded keys."""

    def __init__(self, store: Store, workspace: str) -> None:
        self.store = store
        self.workspace = workspace
        self.ws = store.workspace_id(workspace)

    def _load(self, conn: sa.Connection, row: Any) -> Room:
        room = Room(
            row["id"],
            row["tag"],
            row["allow_guests"],
            row["approval"],
            row["title"],
            bool(row["public"]),
        )
        people = conn.execute(
            sa.select(room_people).where(
                room_people.c.workspace_id == self.ws, room_people.c.room_id == row["id"]
            )
        ).mappings()
        for p in people:
            if p["role"] in HIDDEN_ROLES:
                room.hidden.add((p["network"], p["who"]))
                if p["role"] == "blocked":
                    if p["address"]:
                        room.blocked_addresses.add(p["address"])
                    if p["name_key"]:
                        room.blocked_names.add(p["name_key"])
            else:
                room.roles[(p["network"], p["who"])] = p["role"]
            room.labels[(p["role"], p["network"], p["who"])] = p["label"] or p["who"]
        return room

    def find(self, tag: str) -> Room | None:
        """The room's row, or None when no host opened or configured it."""
        with self.store.engine.connect() as conn:
            row = (
                conn.execute(
                    sa.select(rooms).where(rooms.c.workspace_id == self.ws, rooms.c.tag == tag)
                )
                .mappings()
                .first()
            )
            return None if row is None else self._load(conn, row)

    def get(self, tag: str) -> Room:
        """The room's row, or a room with the defaults when it has none."""
        room = self.find(tag)
        return room if room is not None else Room(None, tag)

    def all(self) -> list[Room]:
        """Every room a host opened or configured in this workspace."""
        with self.store.engine.connect() as conn:
            rows = (
                conn.execute(
                    sa.select(rooms).where(rooms.c.workspace_id == self.ws).order_by(rooms.c.id)
                )
                .mappings()
                .all()
            )
            return [self._load(conn, row) for row in rows]

    def ensure(self, tag: str, *, public: bool = True) -> Room:
        """The room, creating its row when it has none (a host opens it)."""
        room = self.find(tag)
        if room is not None:
            return room
        now = datetime.now(UTC)
        try:
            with self.store.engine.begin() as conn:
                conn.execute(
                    rooms.insert().values(
                        workspace_id=self.ws,
                        tag=tag,
                        allow_guests=False,
                        approval=False,
                        public=public,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except sa.exc.IntegrityError:
            pass  # opened at the same moment by someone else: theirs stands
        return self.get(tag)

    def update(
        self,
        tag: str,
        *,
        allow_guests: bool | None = None,
        approval: bool | None = None,
        public: bool | None = None,
    ) -> Room:
        room = self.ensure(tag)
        values: dict[str, Any] = {"updated_at": datetime.now(UTC)}
        if allow_guests is not None:
            values["allow_guests"] = allow_guests
        if approval is not None:
            values["approval"] = approval
        if public is not None:
            values["public"] = public
        with self.store.engine.begin() as conn:
            conn.execute(
                rooms.update()
                .where(rooms.c.workspace_id == self.ws, rooms.c.id == room.id)
                .values(**values)
            )
        return self.get(tag)

    def close_guests(self) -> list[str]:
        """Stop guest posting in every room at once; the tags that changed."""
        with self.store.engine.begin() as conn:
            tags = list(
                conn.execute(
                    sa.select(rooms.c.tag).where(
                        rooms.c.workspace_id == self.ws, rooms.c.allow_guests.is_(True)
                    )
                ).scalars()
            )
            conn.execute(
                rooms.update()
                .where(rooms.c.workspace_id == self.ws, rooms.c.allow_guests.is_(True))
                .values(allow_guests=False, updated_at=datetime.now(UTC))
            )
        return tags

    def note_guest(self, author_id: str, address: str | None, name: str) -> None:
        """Remember where a web guest (or viewer) posted from and as whom, so
        that blocking them later also blocks that address and name."""
        wg = web_guests
        values = {"address": address, "name": name[:300], "last_seen": datetime.now(UTC)}
        where = (wg.c.workspace_id == self.ws, wg.c.author_id == author_id)
        with self.store.engine.begin() as conn:
            if conn.execute(wg.update().where(*where).values(**values)).rowcount:
                return
        try:
            with self.store.engine.begin() as conn:
                conn.execute(
                    wg.insert().values(workspace_id=self.ws, author_id=author_id, **values)
                )
        except sa.exc.IntegrityError:
            pass  # the same guest's other post won the race; either row will do

    def _guest(self, author_id: str) -> tuple[str | None, str | None]:
        wg = web_guests
        with self.store.engine.connect() as conn:
            row = conn.execute(
                sa.select(wg.c.address, wg.c.name).where(
                    wg.c.workspace_id == self.ws, wg.c.author_id == author_id
                )
            ).first()
        return (row.address, row.name) if row else (None, None)

    def set_person(
        self, tag: str, role: str, network: str, who: str, label: str | None = None, on: bool = True
    ) -> Room:
        """Add (or with ``on=False`` remove) a host/guest (by handle) or a
        muted/blocked author (by author id). Blocking a web author also blocks
        the address and the name it last posted with."""
        if role not in PEOPLE_ROLES:
            raise RoomError(f"role must be one of {', '.join(PEOPLE_ROLES)}")
        who = who.strip()
        if role in ("host", "guest"):
            who = fold(who.lstrip("@"))
        if not who or len(who) > 300 or not network or len(network) > 16:
            raise RoomError("name the person: a network and a handle or author id")
        address = name = None
        if role == "blocked" and network == "web" and on:
            address, name = self._guest(who)
            if who.startswith(GUEST_PREFIX) and name is None and label:
                name = label.lstrip("@")  # no record of it: the name it showed still counts
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
                        label=(label or name or who)[:300],
                        created_at=datetime.now(UTC),
                        address=address,
                        name_key=name_key(name) if name else None,
                    )
                )
        return self.get(tag)

    # -- approval queue ----------------------------------------------------

    def hold(self, room: Room, post: Post) -> None:
        """Queue a post for approval (idempotent: a replayed post keeps its decision)."""
        assert room.id is not None
        ra = room_approvals
        with self.store.engine.connect() as conn:
            exists = conn.execute(
                sa.select(ra.c.status).where(
                    ra.c.room_id == room.id, ra.c.network == post.network, ra.c.post_id == post.id
                )
            ).first()
        if exists is not None:
            return
        try:
            with self.store.engine.begin() as conn:
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
        except sa.exc.IntegrityError:
            pass  # held at the same moment by the route and the room's hub

    def decide(self, room: Room, network: str, post_id: str, approve: bool, by: str) -> Post | None:
        """Approve or reject a post held in ``room``; the decision holds in
        every room that holds it (one post, one decision). The post (when
        approved) to publish."""
        ra = room_approvals
        with self.store.engine.begin() as conn:
            held_here = conn.execute(
                sa.select(ra.c.status).where(
                    ra.c.workspace_id == self.ws,
                    ra.c.room_id == room.id,
                    ra.c.network == network,
                    ra.c.post_id == post_id,
                    ra.c.status == "pending",
                )
            ).first()
            if held_here is None:
                return None
            conn.execute(
                ra.update()
                .where(
                    ra.c.workspace_id == self.ws,
                    ra.c.network == network,
                    ra.c.post_id == post_id,
                    ra.c.status == "pending",
                )
                .values(
                    status="approved" if approve else "rejected",
                    decided_at=datetime.now(UTC),
                    decided_by=by,
                )
            )
        if not approve:
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

    def withheld(self, posts: list[Post]) -> set[tuple[str, str]]:
        """Which of ``posts`` are held or rejected in any room: a held post is
        public nowhere until it is approved."""
        if not posts:
            return set()
        ra = room_approvals
        ids = [p.id for p in posts]
        out: set[tuple[str, str]] = set()
        with self.store.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                rows = conn.execute(
                    sa.select(ra.c.network, ra.c.post_id).where(
                        ra.c.workspace_id == self.ws,
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
        posts = self.store.search(Hashtag(room.tag), self.workspace, limit=limit * 2 + 20)
        held = self.withheld(posts)
        shown = [p for p in posts if not room.is_hidden(p) and (p.network, p.id) not in held]
        return shown[:limit]


# -- rooms the configuration and the sources name -----------------------------


def fed_tags(configured: Iterable[str], specs: Iterable[str]) -> tuple[list[str], list[str]]:
    """The room keys the configuration (``Settings.room_tags()``, folded) and
    ``sim:TAG`` sources name, and the files of ``replay:FILE`` sources (their
    rooms are their posts' hashtags, see ``replay_tags``)."""
    tags: list[str] = list(configured)
    files: list[str] = []
    for spec in specs:
        kind, _, rest = spec.partition(":")
        if kind == "sim":
            try:
                tags.append(parse_tag(rest.partition("?")[0]))
            except TagError:
                log.warning("source %s names no usable hashtag", spec)
        elif kind == "replay":
            from hubbub.sources.replay import ReplaySource
            from hubbub.sources.spec import source_from_spec

            try:
                source = source_from_spec(spec)
            except ValueError as exc:
                log.warning("%s", exc)
                continue
            if isinstance(source, ReplaySource):
                files.append(str(source.path))
    return list(dict.fromkeys(tags)), files


def replay_tags(path: str | Path, limit: int) -> list[str]:
    """The folded hashtags the posts of a replay file carry, in order of first
    appearance, at most ``limit`` (read as a stream, in constant memory)."""
    from hubbub.formats import Context, parse_record
    from hubbub.formats.reader import iter_file_records

    found: dict[str, None] = {}
    ctx = Context(source=f"replay:{path}")
    with open(path, "rb") as stream:
        for record in iter_file_records(stream):
            if record.error is not None:
                continue
            try:
                _fmt, items = parse_record(record.value, ctx)
            except Exception:  # noqa: BLE001, S112 - the replay itself reports unreadable lines
                continue
            for item in items:
                for tag in getattr(item, "hashtags", ()) or ():
                    try:
                        key = parse_tag(tag)
                    except TagError:
                        continue
                    if key not in found:
                        found[key] = None
                        if len(found) >= limit:
                            return list(found)
    return list(found)


# -- pure helpers: what a browser gets for a post ----------------------------

_HASHTAG_RE = re.compile(r"#[^\s#]+")
_SPACE_RE = re.compile(r"\s+")


def qa_number(text: str) -> tuple[str, int] | None:
    """("Q", n) or ("A", n) for a chat post starting with Qn / An (after
    @mentions): the one rule of ``hubbub.chat.qa``, which the Q&A view and
    the recap use too."""
    return qa_prefix(text)


def _asks_nothing(post: Post, room: Room) -> bool:
    """A Qn post is no question when the room has hosts and this is not one."""
    return "host" in room.roles.values() and room.role_of(post) != "host"


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
    if qa and qa[0] == "Q" and room is not None and _asks_nothing(post, room):
        qa = None
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
