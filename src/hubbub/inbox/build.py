"""Turning stored posts into cases, by the workspace's rules.

``build_cases`` reads posts stored since the last round and matches of the
rules' saved queries, classifies the ones that may start a case (the
classifier's answer is stored, so listening and reports reuse it), and
creates or extends cases (``hubbub.store.inbox_repo_build`` says which post
starts or joins what). Running it again adds nothing; the CLI runs it before
it lists, the runtime's ``InboxWatcher`` after new posts arrive.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from hubbub.listen.classes import ensure_classes
from hubbub.store.inbox_repo_build import Built, CaseBuilder, Own
from hubbub.store.scope import Scope

MAX_ROUNDS = 1_000  # batches of posts per call (500 each); the rest waits for the next call


def _classes(builder: CaseBuilder, pks: Sequence[int]) -> dict[int, tuple[str, str]]:
    if not pks:
        return {}
    found = builder.classes(pks)
    missing = [pk for pk in pks if pk not in found]
    if missing:
        for pk, row in ensure_classes(builder.scope, missing).items():
            found[pk] = (str(row["intent"]), str(row["sentiment"]))
    return found


def build_cases(scope: Scope, *, rule_id: int | None = None, now: datetime | None = None) -> Built:
    """Create and extend cases from what was stored since the last call
    (with ``rule_id``: from every stored match of that rule as well)."""
    builder = CaseBuilder(scope)
    created = joined = reopened = 0
    hours = builder.hours()
    mention_intents = set(hours.mention_intents)
    with builder.engine.connect() as conn:
        own = builder.own(conn)
        authors = builder.authors_with_cases(conn)

    def tally(outcome: str | int | None) -> None:
        nonlocal created, joined, reopened
        if isinstance(outcome, int):
            created += 1
        elif outcome == "joined":
            joined += 1
        elif outcome == "reopened":
            reopened += 1

    # Nothing can start or join a case yet (no account, no sent post, no
    # case): leave the cursor, so posts stored now still count once an
    # account is connected, and a runtime without accounts writes nothing.
    idle = not own.handles and not own.post_ids and not authors
    for _ in range(0 if idle else MAX_ROUNDS):
        posts, cursor = builder.new_posts()
        if cursor is None:
            break
        at = now or datetime.now(UTC)
        candidates: list[tuple[sa.RowMapping, str | None, str | None]] = []  # post, origin, account
        for post in posts:
            if post["repost_of"] or post["deleted"]:
                continue
            net = post["network"]
            if own.is_own(net, post["author_handle"], post["author_id"]):
                continue
            mentioned = own.mentioned(net, post["mentions"] or ())
            replied, _case = own.replied(net, post["reply_to"])
            if mentioned is not None:
                candidates.append((post, "mention", mentioned))
            elif replied is not None:
                candidates.append((post, "reply", replied))
            elif (net, post["author_id"]) in authors or _case is not None:
                candidates.append((post, None, None))  # may be a follow-up
        classes = _classes(builder, [p["pk"] for p, origin, _a in candidates if origin])
        with builder.engine.begin() as conn:
            for post, origin, account in candidates:
                tally(
                    _place(
                        builder,
                        conn,
                        own,
                        post,
                        origin=origin,
                        account=account,
                        rule=None,
                        intents=mention_intents,
                        klass=classes.get(post["pk"]),
                        at=at,
                        auto_assign=hours.auto_assign,
                    )
                )
                authors.add((post["network"], post["author_id"]))
            builder.set_cursor(conn, "posts", str(cursor))

    started = now or datetime.now(UTC)
    matches = builder.rule_matches(rule_id, started)
    if not matches and not builder.has_rules():
        return Built(created=created, joined=joined, reopened=reopened)
    classes = _classes(builder, [row["pk"] for _r, _i, row in matches])
    if matches:
        with builder.engine.begin() as conn:
            for rid, intents, post in matches:
                if own.is_own(post["network"], post["author_handle"], post["author_id"]):
                    continue
                tally(
                    _place(
                        builder,
                        conn,
                        own,
                        post,
                        origin="rule",
                        account=None,
                        rule=rid,
                        intents=set(intents),
                        klass=classes.get(post["pk"]),
                        at=started,
                        auto_assign=hours.auto_assign,
                    )
                )
    if rule_id is None:
        builder.save_match_cursor(started)
    return Built(created=created, joined=joined, reopened=reopened)


def _place(
    builder: CaseBuilder,
    conn: sa.Connection,
    own: Own,
    post: sa.RowMapping,
    *,
    origin: str | None,
    account: str | None,
    rule: int | None,
    intents: set[str],
    klass: tuple[str, str] | None,
    at: datetime,
    auto_assign: bool,
) -> str | int | None:
    """Join the author's case in this thread, or start one when the post
    qualifies; the case id when one was created, "joined"/"reopened", or None."""
    thread = builder.thread_of(conn, post, own)
    existing = builder.case_of(conn, post["network"], post["author_id"], thread)
    if existing is not None:
        return builder.join(conn, existing, post, at) or None
    if origin is None or klass is None or klass[0] not in intents:
        return None
    return builder.create(
        conn,
        post,
        thread=thread,
        origin=origin,
        rule_id=rule,
        account=account,
        intent=klass[0],
        sentiment=klass[1],
        at=at,
        auto_assign=auto_assign,
    )
