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
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hubbub.author_labels import AuthorLabels, carries_handle
from hubbub.chat.qa import qa_prefix
from hubbub.post import Post, rfc3339
from hubbub.query.ast import Hashtag
from hubbub.query.tokens import fold
from hubbub.store import Store
from hubbub.store.chat_repo import ChatData
from hubbub.store.known_handles import known_handles
from hubbub.store.rooms_repo import PersonRecord, RoomRecord, RoomRows
from hubbub.store.scope import Scope, scope
from hubbub.tags import TagError, parse_tag
from hubbub.web.client_address import address_block
from hubbub.web.room_reposts import Key, capped, repost_json, room_originals, without_hidden

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
    # What a block of a web guest extends to: its addresses (as
    # ``address_block``s: an IPv6 guest's whole /64) and names.
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
        if address and address_block(address) in self.blocked_addresses:
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
            # Each role's people in the order a reader reads them: by the
            # label shown (``@handle`` or a short DID), not by the stored id.
            for (role, n, a) in sorted(
                self.labels, key=lambda k: (k[0], fold(self.labels[k]), k[1], k[2])
            )
            if role in HIDDEN_ROLES
        ]
        return data


class RoomRepo:
    """The rooms of one workspace (rows kept by ``hubbub.store.rooms_repo``).
    ``tag`` arguments are folded keys."""

    def __init__(self, store: Store, workspace: str | Scope) -> None:
        # A name (the command line, the runtime) creates the workspace on
        # first use; the web hands an existing Scope.
        self.scope = workspace if isinstance(workspace, Scope) else scope(store, workspace)
        self.store = store
        self.workspace = self.scope.name
        self.rows = RoomRows(self.scope)

    @staticmethod
    def _room(record: RoomRecord) -> Room:
        room = Room(
            record.id,
            record.tag,
            record.allow_guests,
            record.approval,
            record.title,
            record.public,
        )
        for p in record.people:
            if p.role in HIDDEN_ROLES:
                room.hidden.add((p.network, p.who))
                if p.role == "blocked":
                    if p.address:
                        room.blocked_addresses.add(address_block(p.address))
                    if p.name_key:
                        room.blocked_names.add(p.name_key)
            else:
                room.roles[(p.network, p.who)] = p.role
            room.labels[(p.role, p.network, p.who)] = p.label or p.who
        return room

    def find(self, tag: str) -> Room | None:
        """The room's row, or None when no host opened or configured it."""
        record = self.rows.find(tag)
        return None if record is None else self._room(record)

    def get(self, tag: str) -> Room:
        """The room's row, or a room with the defaults when it has none."""
        room = self.find(tag)
        return room if room is not None else Room(None, tag)

    def all(self) -> list[Room]:
        """Every room a host opened or configured in this workspace."""
        return [self._room(r) for r in self.rows.all()]

    def ensure(self, tag: str, *, public: bool = True) -> Room:
        """The room, creating its row when it has none (a host opens it)."""
        room = self.find(tag)
        if room is not None:
            return room
        self.rows.insert(tag, public=public)
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
        assert room.id is not None  # ensured
        values = {"allow_guests": allow_guests, "approval": approval, "public": public}
        self.rows.update(room.id, {k: v for k, v in values.items() if v is not None})
        return self.get(tag)

    def close_guests(self) -> list[str]:
        """Stop guest posting in every room at once; the tags that changed."""
        return self.rows.close_guests()

    def note_guest(self, author_id: str, address: str | None, name: str) -> None:
        """Remember where a web guest (or viewer) posted from and as whom, so
        that blocking them later also blocks that address and name."""
        self.rows.note_guest(author_id, address, name[:300])

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
            address, name = self.rows.guest(who)
            if who.startswith(GUEST_PREFIX) and name is None and label:
                name = label.lstrip("@")  # no record of it: the name it showed still counts
        room = self.ensure(tag)
        assert room.id is not None  # ensured
        person = PersonRecord(
            role,
            network,
            who,
            (label or name or who)[:300],
            address,
            name_key(name) if name else None,
        )
        self.rows.set_person(room.id, person, on=on)
        return self.get(tag)

    # -- approval queue ----------------------------------------------------

    def hold(self, room: Room, post: Post) -> None:
        """Queue a post for approval (idempotent: a replayed post keeps its decision)."""
        assert room.id is not None
        self.rows.hold(room.id, post.network, post.id)

    def decide(self, room: Room, network: str, post_id: str, approve: bool, by: str) -> Post | None:
        """Approve or reject a post held in ``room``; the decision holds in
        every room that holds it (one post, one decision). The post (when
        approved) to publish."""
        if room.id is None:
            return None
        if not self.rows.decide(room.id, network, post_id, approve, by) or not approve:
            return None
        return self.store.get_post(network, post_id, self.workspace)

    def pending(self, room: Room, limit: int = 200) -> list[Post]:
        if room.id is None:
            return []
        found = (
            self.store.get_post(n, i, self.workspace) for n, i in self.rows.pending(room.id, limit)
        )
        return [p for p in found if p is not None and not p.deleted]

    def withheld(self, posts: list[Post]) -> set[tuple[str, str]]:
        """Which of ``posts`` are held or rejected in any room: a held post is
        public nowhere until it is approved."""
        if not posts:
            return set()
        return self.rows.withheld([p.id for p in posts])

    def author_labels(self, posts: Iterable[Post]) -> AuthorLabels:
        """How a page of posts names their authors: one lookup for the
        authors stored without a handle (``hubbub.author_labels``)."""
        return AuthorLabels.of_authors(
            self.scope, ((p.network, p.author.id, p.author.handle) for p in posts)
        )

    def removed(self, tag: str) -> set[tuple[str, str]]:
        """(network, post id) of the posts a host took out of room ``tag``."""
        return ChatData(self.scope).removed(tag)

    def shown(self, room: Room, posts: list[Post], removed: Collection[Key]) -> list[Post]:
        """What any reader of the room may see of ``posts``: no hidden author,
        no post held for approval or rejected, none a host removed (``removed``)."""
        held = self.withheld(posts)
        return [
            p
            for p in posts
            if not room.is_hidden(p)
            and (p.network, p.id) not in held
            and (p.network, p.id) not in removed
        ]

    def hidden_originals(
        self, room: Room, originals: Iterable[Post], removed: Collection[Key]
    ) -> set[Key]:
        """Which stored ``originals`` the room would not show (``shown``, and
        deleted ones): their reposts are left out with them."""
        found = list(originals)
        seen = {
            (p.network, p.id)
            for p in self.shown(room, [p for p in found if not p.deleted], removed)
        }
        return {(p.network, p.id) for p in found} - seen

    def originals(
        self, room: Room, posts: Iterable[Post], removed: Collection[Key]
    ) -> tuple[dict[Key, Post], set[Key]]:
        """The stored originals of ``posts``' reposts the room shows, and
        those it hides (``room_reposts``)."""
        found = room_originals(self.scope, posts)
        hidden = self.hidden_originals(room, found.values(), removed) if found else set()
        return {k: p for k, p in found.items() if k not in hidden}, hidden

    def page_names(
        self, room: Room, posts: list[Post], removed: Collection[Key]
    ) -> tuple[list[Post], AuthorLabels, dict[Key, Post]]:
        """A page's posts less the reposts of what the room hides (a host
        removed it, ``removed``, or it is hidden as ``shown`` hides), their
        author labels and the originals shown, their authors labelled with
        the rest: one lookup each."""
        originals, hidden = self.originals(room, posts, removed)
        kept = without_hidden(posts, hidden)
        return kept, self.author_labels([*kept, *originals.values()]), originals

    def visible_posts(self, room: Room, limit: int) -> list[Post]:
        """The newest posts of the room a visitor may see, newest first."""
        limit = max(1, min(limit, 1000))
        # Ask for more than needed: some may be hidden or held.
        posts = self.store.search(Hashtag(room.tag), self.workspace, limit=limit * 2 + 20)
        return self.shown(room, posts, ())[:limit]


class RoomAuthorNames:
    """How a live room names its authors, for the room's lifetime.

    The live stream must not query the store per post: an author whose posts
    carry no handle (a Jetstream post names its author by DID alone) is
    looked up once (``learn``, off the event loop) and the answer kept, "not
    known" too, so a DID-only author asks once, not with every post. Every
    author's label fields are kept, keyed by the handle as stored, so a post
    costs one dictionary look-up, not a label computed again. Bounded: past
    ``limit`` authors the least recently seen is forgotten (and asked about
    again should they post). A handle the store learns after the lookup
    shows on the next page load, not in the live stream."""

    def __init__(self, scope: Scope | None, limit: int = 10_000) -> None:
        self._scope = scope  # None: a hub tested on its own, nothing to ask
        self._limit = max(1, limit)
        # (network, author id, handle as stored) → author_handle, author_label
        self._fields: OrderedDict[tuple[str, str, str], dict[str, str | None]] = OrderedDict()
        # learn() runs in a worker thread while the loop reads: one lock, held briefly.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._fields)

    def missing(self, post: Post) -> bool:
        """Whether ``post``'s author needs a lookup before it can be labelled."""
        a = post.author
        if self._scope is None or (post.network, a.id, a.handle) in self._fields:
            return False
        return not carries_handle(post.network, a.id, a.handle)

    def learn(self, posts: Iterable[Post]) -> None:
        """Ask the store (once, for all of them) about the authors of ``posts``
        that carry no handle and are not remembered yet."""
        keys = sorted({(p.network, p.author.id, p.author.handle) for p in posts if self.missing(p)})
        if not keys or self._scope is None:
            return
        found = known_handles(self._scope, [(n, i) for n, i, _h in keys])
        for key in keys:
            self._keep(key, AuthorLabels([key], found).fields(key[0], key[1]))

    def fields(self, post: Post) -> dict[str, str | None]:
        """``author_handle`` and ``author_label`` of ``post``'s author, from
        what is remembered, else from the post alone (no I/O)."""
        key = (post.network, post.author.id, post.author.handle)
        with self._lock:
            found = self._fields.get(key)
            if found is not None:
                self._fields.move_to_end(key)
                return found
        fields = AuthorLabels([key]).fields(key[0], key[1])
        if not self.missing(post):  # else not looked up (yet): ask when it posts again
            self._keep(key, fields)
        return fields

    def _keep(self, key: tuple[str, str, str], fields: dict[str, str | None]) -> None:
        with self._lock:
            self._fields[key] = fields
            self._fields.move_to_end(key)
            while len(self._fields) > self._limit:
                self._fields.popitem(last=False)


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


def post_json(
    post: Post,
    room: Room | None = None,
    labels: AuthorLabels | RoomAuthorNames | None = None,
    originals: Mapping[Key, Post] | None = None,
) -> dict[str, Any]:
    """The contract keys (network, id, author, author_name, text, created_at)
    plus what the room page needs to filter, merge and group.

    ``author`` stays the handle as stored (the DID for a Jetstream post);
    ``author_handle`` and ``author_label`` name the author as ``labels`` (the
    page's, see ``RoomRepo.page_names``) does, else from the post alone.
    ``repost`` shows a repost with nothing of its own to show by its original
    among ``originals`` (``room_reposts``; absent there: not stored)."""
    qa = qa_number(post.text)
    if qa and qa[0] == "Q" and room is not None and _asks_nothing(post, room):
        qa = None
    if isinstance(labels, RoomAuthorNames):
        names = labels
        author = names.fields(post)

        def label(p: Post) -> str:
            return names.fields(p)["author_label"] or p.author.id

    else:
        if labels is None:  # named from the posts alone: the post and its original
            shown = [post, *(originals or {}).values()]
            labels = AuthorLabels((p.network, p.author.id, p.author.handle) for p in shown)
        page = labels
        author = page.fields(post.network, post.author.id)

        def label(p: Post) -> str:
            return page.label(p.network, p.author.id)

    # Cut as a repost's original is: no text makes a page of posts huge.
    text, truncated = capped(post.text)
    return {
        "network": post.network,
        "id": post.id,
        "author": post.author.handle,
        "author_name": post.author.display_name,
        "author_id": post.author.id,
        **author,
        "text": text,
        "truncated": truncated,
        "created_at": rfc3339(post.created_at),
        "url": post.url if post.url and post.url.startswith(("https://", "http://")) else None,
        "langs": list(post.langs),
        "reply_to": post.reply_to,
        "repost_of": post.repost_of,
        "repost": repost_json(post, originals, label),
        "sensitive": post.sensitive,
        "content_warning": post.content_warning,
        "question": qa[1] if qa and qa[0] == "Q" else None,
        "answer": qa[1] if qa and qa[0] == "A" else None,
        "xkey": crosspost_key(post),
        "role": room.role_of(post) if room else None,
    }
