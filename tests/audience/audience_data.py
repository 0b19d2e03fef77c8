"""A fixed, hand-made audience: one X account, eight followers, a set of
stored posts whose engagement is counted by hand below (the independent
count the engagement classes are checked against)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hubbub.post import Author, Post
from hubbub.store import Store
from hubbub.store.audience_repo import AudienceRepo, Member
from hubbub.store.ingest import Ingest
from hubbub.store.scope import scope
from hubbub.store.web_schema import rooms

# Today at midnight: the posts are dated back from it, so a 90-day window
# from the command's 'now' (later the same day) holds the same posts.
NOW = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
ACCOUNT_ID, ACCOUNT = "100", "brand"
ROOM = "brandchat"

# follower → (class, replies, mentions, quotes, reposts, chats, answered), by hand.
EXPECTED = {
    "f1": ("engaged", 1, 0, 0, 0, 0, 1),  # replied, the account replied back
    "f2": ("active", 1, 0, 0, 0, 0, 0),  # replied to an old post, no answer
    "f3": ("active", 0, 1, 0, 0, 0, 0),  # mentioned @Brand (other case)
    "f4": ("engaged", 0, 0, 0, 1, 0, 1),  # reposted; the account mentioned them
    "f5": ("engaged", 0, 0, 0, 0, 1, 0),  # came to the #brandchat room
    "f6": ("passive", 0, 0, 0, 0, 0, 0),  # quoted, but before the window
    "f7": ("passive", 0, 0, 0, 0, 0, 0),  # nothing
    "f8": ("passive", 0, 0, 0, 0, 0, 0),  # replied to someone else
}
SUSPICIOUS = {"f7", "f8"}


def _author(handle: str, uid: str) -> Author:
    return Author(network="x", id=uid, handle=handle, display_name=handle)


def _uid(handle: str) -> str:
    return ACCOUNT_ID if handle == ACCOUNT else str(int(handle[1:]) if handle[0] == "f" else 99)


_n = [0]


def _post(handle: str, days_ago: float, **kw: object) -> Post:
    _n[0] += 1
    return Post(
        network="x",
        id=kw.pop("id", None) or str(5000 + _n[0]),  # type: ignore[arg-type]
        author=_author(handle, _uid(handle)),
        text=str(kw.pop("text", "text")),
        created_at=NOW - timedelta(days=days_ago),
        **kw,  # type: ignore[arg-type]
    )


def posts() -> list[Post]:
    return [
        _post(ACCOUNT, 200, id="a1"),
        _post(ACCOUNT, 10, id="a2"),
        _post("f1", 9, id="r1", reply_to="a2", mentions=("brand",)),
        _post(ACCOUNT, 8, reply_to="r1", mentions=("f1",)),
        _post("f2", 7, reply_to="a1"),
        _post("f3", 6, mentions=("Brand",)),
        _post("f4", 5, repost_of="a2"),
        _post(ACCOUNT, 4, text="thanks @F4", mentions=("F4",)),
        _post("f5", 3, hashtags=(ROOM,), text="#brandchat hello"),
        _post("f6", 150, quote_of="a2"),
        _post("n99", 2, id="n1"),
        _post("f8", 1, reply_to="n1"),
        _post("n99", 1, reply_to="a2"),  # not a follower
    ]


def member(handle: str, suspicious: bool, followers: int = 10) -> Member:
    return Member(
        member_id=_uid(handle),
        position=0,
        handle=handle,
        name=handle.upper(),
        description="",
        created_at=None,
        posts=5,
        followers=followers,
        following=5,
        default_avatar=False,
        has_url=False,
        declared_bot=False,
        declared_by=None,
        suspicion=0.9 if suspicious else 0.1,
        suspicious=suspicious,
        reasons=("default profile picture",) if suspicious else (),
        fetched_at=NOW,
    )


def load(store: Store, workspace: str = "default", handles: list[str] | None = None) -> int:
    """Store the posts, the room and a finished snapshot; returns its id."""
    store.ingest([Ingest(p) for p in posts()], workspace)
    sc = scope(store, workspace)
    with store.engine.begin() as conn:
        conn.execute(
            rooms.insert().values(
                workspace_id=sc.id,
                tag=ROOM,
                title=None,
                allow_guests=False,
                approval=False,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    return snapshot(store, workspace, handles or list(EXPECTED))


def snapshot(store: Store, workspace: str, handles: list[str]) -> int:
    repo = AudienceRepo(scope(store, workspace))
    snap = repo.open_snapshot("brand-x", "x", "followers", ACCOUNT_ID, ACCOUNT)
    repo.save_page(snap.id, [member(h, h in SUSPICIOUS) for h in handles], None)
    repo.finish(snap.id, "done")
    return snap.id
