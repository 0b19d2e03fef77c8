"""Stored posts become cases: the store side of ``hubbub.inbox.build``.

What starts a case (``origin``):

- ``mention``: a post that mentions a connected account's handle;
- ``reply``: a post that answers one of the workspace's own posts (sent
  through the outbox, or stored and written by a connected account);
  both only when the post's intent is one of the workspace's mention
  intents (by default complaint and question);
- ``rule``: a post a saved query matched whose intent its rule names.

A later post of the same author in the same thread joins that case
whatever its intent, and reopens it if it was resolved, pending or
snoozed. A thread is the network's conversation id, or the root reached by
walking reply links through stored posts and the case's own replies.

Idempotent: ``inbox_case_posts`` holds each post at most once, so running
again (or in two processes at once) adds nothing. Posts are read from a
cursor (pk); matches by the time they were stored, with a margin, because
the listener stores them after their posts (see ``MATCH_MARGIN``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from hubbub.inbox.model import Status
from hubbub.query.evaluate import handle_forms
from hubbub.query.tokens import fold
from hubbub.store import schema as t
from hubbub.store.connect_schema import network_accounts
from hubbub.store.inbox_repo import InboxRepo
from hubbub.store.inbox_schema import inbox_case_events as _e
from hubbub.store.inbox_schema import inbox_case_posts as _p
from hubbub.store.inbox_schema import inbox_cases as _c
from hubbub.store.inbox_schema import inbox_cursors, inbox_rules
from hubbub.store.listen_schema import post_classes, query_matches
from hubbub.store.outbox_schema import outbox_actions
from hubbub.store.scope import Scope
from hubbub.store.sql import chunks, insert_ignore

BATCH = 500  # posts read per round
MATCH_MARGIN = timedelta(minutes=10)  # matches re-read behind the cursor
MAX_WALK = 20  # reply links followed to find a thread's root
POST_CURSOR = "posts"
MATCH_CURSOR = "matches"
SYSTEM = "hubbub"  # the actor of what case building does

_POST_COLUMNS = (
    t.posts.c.pk,
    t.posts.c.network,
    t.posts.c.post_id,
    t.posts.c.author_id,
    t.posts.c.author_handle,
    t.posts.c.reply_to,
    t.posts.c.conversation_id,
    t.posts.c.mentions,
    t.posts.c.created_at,
    t.posts.c.repost_of,
    t.posts.c.deleted,
)


@dataclass(slots=True)
class Own:
    """What the workspace is on each network: its accounts' handles (folded
    forms) and ids of its own posts, and which of those are case replies."""

    handles: dict[str, dict[str, str]] = field(default_factory=dict)  # net -> form -> account
    post_ids: dict[str, dict[str, str]] = field(default_factory=dict)  # net -> id -> account
    reply_case: dict[tuple[str, str], int] = field(default_factory=dict)  # (net, id) -> case
    author_ids: dict[str, set[str]] = field(default_factory=dict)  # net -> own author ids

    def mentioned(self, network: str, mentions: Iterable[str]) -> str | None:
        forms = self.handles.get(network, {})
        for mention in mentions:
            if network == "mastodon":
                # "acme@other.example" is someone else; a bare "acme" is a
                # mention on the account's own server.
                folded = fold(mention.lstrip("@"))
                if folded in forms:
                    return forms[folded]
                continue
            for form in handle_forms(mention):
                if form in forms:
                    return forms[form]
        return None

    def is_own(self, network: str, author_handle: str, author_id: str) -> bool:
        if author_id in self.author_ids.get(network, set()):
            return True
        forms = self.handles.get(network, {})
        if network == "mastodon":
            return fold(author_handle.lstrip("@")) in forms  # user@server, never a bare name
        return any(form in forms for form in handle_forms(author_handle))

    def replied(self, network: str, reply_to: str | None) -> tuple[str | None, int | None]:
        """(account whose post it answers, case whose reply it answers)."""
        if not reply_to:
            return None, None
        keys = [reply_to]
        if network == "mastodon" and "://" not in reply_to and "/" in reply_to:
            keys.append(reply_to.rsplit("/", 1)[1])  # "server/local-id": the local id
        for key in keys:
            case = self.reply_case.get((network, key))
            account = self.post_ids.get(network, {}).get(key)
            if account is not None or case is not None:
                return account, case
        return None, None


@dataclass(frozen=True, slots=True)
class Built:
    """What one round did."""

    created: int = 0
    joined: int = 0
    reopened: int = 0


def unknown_accounts(scope: Scope) -> list[tuple[str, str]]:
    """(name, network) of ``scope``'s accounts whose handle is not known: never
    checked, or the last check failed. Mentions of them cannot become cases
    (nothing tells a mention of the account from any other), which users did
    not find out until they wondered why the inbox stayed empty."""
    a = network_accounts
    with scope.engine.connect() as conn:
        rows = conn.execute(
            sa.select(a.c.name, a.c.network, a.c.check_result)
            .where(scope.owns(a))
            .order_by(a.c.name)
        )
        return [(name, network) for name, network, result in rows if not _handle_of(result)]


def _handle_of(check_result: str | None) -> str | None:
    # ``hubbub account check`` records "ok: @handle" (Mastodon "@user@host").
    if not check_result or not check_result.startswith("ok: "):
        return None
    who = check_result[4:].strip().split()[0] if check_result[4:].strip() else ""
    return who.lstrip("@") or None


class CaseBuilder(InboxRepo):
    """Builds ``scope``'s cases from its stored posts and matches."""

    def own(self, conn: sa.Connection) -> Own:
        own = Own()
        a = network_accounts
        for name, network, result in conn.execute(
            sa.select(a.c.name, a.c.network, a.c.check_result).where(self.scope.owns(a))
        ):
            handle = _handle_of(result)
            if handle:
                forms = own.handles.setdefault(network, {})
                # The handle and its user part (a Mastodon mention from
                # the account's own server carries the bare user name).
                for form in handle_forms(handle):
                    forms.setdefault(form, name)
        o = outbox_actions
        for account, network, remote_id, remote_url in conn.execute(
            sa.select(o.c.account, o.c.network, o.c.remote_id, o.c.remote_url).where(
                self.scope.owns(o), o.c.status == "sent", o.c.remote_id.is_not(None)
            )
        ):
            ids = own.post_ids.setdefault(network, {})
            ids[remote_id] = account
            if remote_url:
                ids[remote_url] = account
        # Replies sent from cases: their ids lead a customer's answer back.
        stmt = (
            sa.select(_e.c.case_id, o.c.network, o.c.remote_id, o.c.remote_url)
            .select_from(_e.join(o, o.c.id == _e.c.outbox_id))
            .where(self.scope.owns(_e), self.scope.owns(o), o.c.remote_id.is_not(None))
        )
        for case_id, network, remote_id, remote_url in conn.execute(stmt):
            own.reply_case[(network, remote_id)] = int(case_id)
            if remote_url:
                own.reply_case[(network, remote_url)] = int(case_id)
        # Stored posts written by the accounts: replies to them count too.
        sent = [(n, i) for n, ids in own.post_ids.items() for i in ids]
        for batch in chunks(sent, 200):
            for network, author_id in conn.execute(
                sa.select(t.posts.c.network, t.posts.c.author_id).where(
                    self.scope.owns(t.posts),
                    sa.tuple_(t.posts.c.network, t.posts.c.post_id).in_(list(batch)),
                )
            ):
                own.author_ids.setdefault(network, set()).add(author_id)
        return own

    # -- cursors -------------------------------------------------------------

    def _cursor(self, conn: sa.Connection, name: str) -> str | None:
        k = inbox_cursors
        return conn.execute(
            sa.select(k.c.value).where(self.scope.owns(k), k.c.name == name)
        ).scalar_one_or_none()

    def set_cursor(self, conn: sa.Connection, name: str, value: str) -> None:
        k = inbox_cursors
        moved = conn.execute(
            k.update().where(self.scope.owns(k), k.c.name == name).values(value=value)
        ).rowcount
        if not moved:
            conn.execute(
                insert_ignore(conn, k).values(**self.scope.values(), name=name, value=value)
            )

    # -- reading ---------------------------------------------------------------

    def new_posts(self, limit: int = BATCH) -> tuple[list[sa.RowMapping], int | None]:
        """Posts stored after the cursor (oldest first) and the new cursor."""
        with self.engine.connect() as conn:
            after = int(self._cursor(conn, POST_CURSOR) or 0)
            rows = list(
                conn.execute(
                    sa.select(*_POST_COLUMNS)
                    .where(self.scope.owns(t.posts), t.posts.c.pk > after)
                    .order_by(t.posts.c.pk)
                    .limit(limit)
                ).mappings()
            )
        return rows, (int(rows[-1]["pk"]) if rows else None)

    def save_post_cursor(self, pk: int) -> None:
        with self.engine.begin() as conn:
            self.set_cursor(conn, POST_CURSOR, str(pk))

    def rule_matches(
        self, rule_id: int | None, now: datetime
    ) -> list[tuple[int, tuple[str, ...], sa.RowMapping]]:
        """(rule id, intents, post) for matches of rules' queries not yet in a
        case: since the match cursor (minus a margin), or every match of
        ``rule_id`` (a new rule looks at posts stored already)."""
        r, m = inbox_rules, query_matches
        with self.engine.connect() as conn:
            rules = {
                int(row.query_id): (int(row.id), tuple(row.intents.split(",")))
                for row in conn.execute(
                    sa.select(r.c.id, r.c.query_id, r.c.intents).where(self.scope.owns(r))
                )
                if rule_id is None or int(row.id) == rule_id
            }
            if not rules:
                return []
            stmt = (
                sa.select(m.c.query_id, *_POST_COLUMNS)
                .select_from(m.join(t.posts, t.posts.c.pk == m.c.post_pk))
                .where(
                    self.scope.owns(m),
                    self.scope.owns(t.posts),
                    m.c.query_id.in_(list(rules)),
                    ~sa.exists().where(
                        self.scope.owns(_p),
                        _p.c.network == t.posts.c.network,
                        _p.c.post_id == t.posts.c.post_id,
                    ),
                )
                .order_by(t.posts.c.pk)
            )
            if rule_id is None:
                since = self._cursor(conn, MATCH_CURSOR)
                if since is not None:
                    stmt = stmt.where(
                        m.c.matched_at >= datetime.fromisoformat(since) - MATCH_MARGIN
                    )
            rows = list(conn.execute(stmt).mappings())
        out = []
        for row in rows:
            rid, intents = rules[int(row["query_id"])]
            out.append((rid, intents, row))
        return out

    def has_rules(self) -> bool:
        with self.engine.connect() as conn:
            return (
                conn.execute(
                    sa.select(inbox_rules.c.id).where(self.scope.owns(inbox_rules)).limit(1)
                ).first()
                is not None
            )

    def save_match_cursor(self, at: datetime) -> None:
        with self.engine.begin() as conn:
            self.set_cursor(conn, MATCH_CURSOR, at.isoformat())

    def classes(self, pks: Iterable[int]) -> dict[int, tuple[str, str]]:
        """(intent, sentiment) of stored classifications."""
        wanted = sorted(set(pks))
        out: dict[int, tuple[str, str]] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(wanted, BATCH):
                for pk, intent, sentiment in conn.execute(
                    sa.select(
                        post_classes.c.post_pk, post_classes.c.intent, post_classes.c.sentiment
                    ).where(post_classes.c.post_pk.in_(list(chunk)))
                ):
                    out[int(pk)] = (intent, sentiment)
        return out

    def thread_of(self, conn: sa.Connection, post: sa.RowMapping, own: Own) -> str:
        """The root of the conversation ``post`` is in (see the module doc)."""
        current = post
        for _ in range(MAX_WALK):
            if current["conversation_id"]:
                return str(current["conversation_id"])
            parent_id = current["reply_to"]
            if not parent_id:
                return str(current["post_id"])
            _account, case_id = own.replied(post["network"], parent_id)
            if case_id is not None:
                thread = conn.execute(
                    sa.select(_c.c.thread).where(self.scope.owns(_c), _c.c.id == case_id)
                ).scalar_one_or_none()
                if thread is not None:
                    return str(thread)
            parent = self._stored(conn, post["network"], parent_id)
            if parent is None:
                return str(parent_id)
            current = parent
        return str(current["post_id"])

    def _stored(self, conn: sa.Connection, network: str, post_id: str) -> sa.RowMapping | None:
        row = (
            conn.execute(
                sa.select(*_POST_COLUMNS).where(
                    self.scope.owns(t.posts),
                    t.posts.c.network == network,
                    t.posts.c.post_id == post_id,
                )
            )
            .mappings()
            .first()
        )
        if row is not None:
            return row
        alias = t.post_aliases
        real = conn.execute(
            sa.select(alias.c.post_id).where(
                self.scope.owns(alias), alias.c.network == network, alias.c.alias == post_id
            )
        ).scalar_one_or_none()
        if real is None or real == post_id:
            return None
        return self._stored(conn, network, real)

    def case_of(self, conn: sa.Connection, network: str, author_id: str, thread: str) -> int | None:
        found = conn.execute(
            sa.select(_c.c.id).where(
                self.scope.owns(_c),
                _c.c.network == network,
                _c.c.author_id == author_id,
                _c.c.thread == thread,
            )
        ).scalar_one_or_none()
        return None if found is None else int(found)

    def authors_with_cases(self, conn: sa.Connection) -> set[tuple[str, str]]:
        return {
            (n, a)
            for n, a in conn.execute(
                sa.select(_c.c.network, _c.c.author_id).where(self.scope.owns(_c)).distinct()
            )
        }

    # -- writing -----------------------------------------------------------------

    def _add_post(
        self, conn: sa.Connection, case_id: int, post: sa.RowMapping, at: datetime
    ) -> bool:
        added = conn.execute(
            insert_ignore(conn, _p).values(
                **self.scope.values(),
                case_id=case_id,
                network=post["network"],
                post_id=post["post_id"],
                post_pk=post["pk"],
                posted_at=post["created_at"],
                added_at=at,
            )
        ).rowcount
        return bool(added)

    def join(self, conn: sa.Connection, case_id: int, post: sa.RowMapping, at: datetime) -> str:
        """Add ``post`` to a case: "" when it was there already, "joined",
        or "reopened" (it woke a resolved, pending or snoozed case)."""
        if not self._add_post(conn, case_id, post, at):
            return ""  # in a case already (this one or, raced, another)
        row = self._case_row(conn, case_id)
        values: dict[str, object] = {
            "last_post_at": max(row["last_post_at"], post["created_at"]),
        }
        self._event(conn, case_id, "post", SYSTEM, at, detail={"post_id": post["post_id"]})
        outcome = "joined"
        if row["status"] in (Status.RESOLVED.value, Status.PENDING.value, Status.SNOOZED.value):
            values.update(status=Status.OPEN.value, snoozed_until=None)
            if row["status"] == Status.RESOLVED.value:
                values["resolved_at"] = None
                outcome = "reopened"
            self._event(
                conn,
                case_id,
                "status",
                SYSTEM,
                at,
                detail={"from": row["status"], "to": Status.OPEN.value, "why": "customer wrote"},
            )
        self._touch(conn, case_id, at, **values)
        return outcome

    def create(
        self,
        conn: sa.Connection,
        post: sa.RowMapping,
        *,
        thread: str,
        origin: str,
        rule_id: int | None,
        account: str | None,
        intent: str | None,
        sentiment: str | None,
        at: datetime,
        auto_assign: bool,
    ) -> int | None:
        """A new case for ``post``; None when the post is in a case already.
        Joins the author's case in that thread if one appeared meanwhile."""
        existing = self.case_of(conn, post["network"], post["author_id"], thread)
        if existing is not None:
            self.join(conn, existing, post, at)
            return None
        # ON CONFLICT DO NOTHING rather than catching IntegrityError: a
        # failed statement would end the whole transaction on PostgreSQL.
        new_id = conn.execute(
            insert_ignore(conn, _c)
            .values(
                **self.scope.values(),
                network=post["network"],
                author_id=post["author_id"],
                author_handle=post["author_handle"],
                thread=thread,
                origin=origin,
                rule_id=rule_id,
                account=account,
                status=Status.NEW.value,
                priority="normal",
                intent=intent,
                sentiment=sentiment,
                opened_at=post["created_at"],
                last_post_at=post["created_at"],
                created_at=at,
                updated_at=at,
            )
            .returning(_c.c.id)
        ).scalar_one_or_none()
        if new_id is None:
            # Another builder made this case at the same moment: join it.
            existing = self.case_of(conn, post["network"], post["author_id"], thread)
            if existing is not None:
                self.join(conn, existing, post, at)
            return None
        case_id = int(new_id)
        if not self._add_post(conn, case_id, post, at):
            # The post went into another case meanwhile: no empty case.
            conn.execute(_c.delete().where(self.scope.owns(_c), _c.c.id == case_id))
            return None
        self._event(
            conn,
            case_id,
            "created",
            SYSTEM,
            at,
            detail={"origin": origin, "post_id": post["post_id"], "rule": rule_id},
        )
        if auto_assign:
            chosen = self._next_agent(conn)
            if chosen is not None:
                self._assign(
                    conn, self._case_row(conn, case_id), chosen, SYSTEM, at, how="round robin"
                )
        return case_id
