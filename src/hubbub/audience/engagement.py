"""Who talks with the account: engagement classes from stored posts.

For one account and a window, every stored post of its network in the
window is read once (streamed). A follower **interacted** when they replied
to, quoted, reposted or mentioned the account; the account **answered**
when it replied to one of their posts or mentioned them; they **came to a
chat** when they posted with the hashtag of one of the workspace's rooms.

- engaged: interacted and answered, or came to a chat (two-way);
- active: interacted, never answered;
- passive: nothing in the window.

Likes are not counted: the stored posts do not carry who liked them (none
of the three networks streams likes with posts), and the audit says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from hubbub.store.audience_repo import AudienceRepo

CLASSES = ("engaged", "active", "passive")


@dataclass(slots=True)
class Touches:
    replies: int = 0
    mentions: int = 0
    quotes: int = 0
    reposts: int = 0
    chats: int = 0
    answered: int = 0  # the account's replies to them and mentions of them

    @property
    def interactions(self) -> int:
        return self.replies + self.mentions + self.quotes + self.reposts

    def klass(self) -> str:
        if self.chats or (self.interactions and self.answered):
            return "engaged"
        if self.interactions:
            return "active"
        return "passive"


@dataclass(slots=True)
class Engagement:
    """Touches per author id; the account's answers indexed by whom they
    answer (by author id for replies, by handle for mentions), so a reply
    that also mentions the person counts as one answer."""

    by_author: dict[str, Touches] = field(default_factory=dict)
    answers_by_author: dict[str, set[int]] = field(default_factory=dict)
    answers_by_handle: dict[str, set[int]] = field(default_factory=dict)

    def of(self, author_id: str, handle: str) -> Touches:
        found = self.by_author.get(author_id)
        touches = Touches(**_fields(found)) if found is not None else Touches()
        answers = self.answers_by_author.get(author_id, set()) | self.answers_by_handle.get(
            fold_handle(handle), set()
        )
        touches.answered = len(answers)
        return touches


def _fields(t: Touches) -> dict[str, int]:
    return {
        "replies": t.replies,
        "mentions": t.mentions,
        "quotes": t.quotes,
        "reposts": t.reposts,
        "chats": t.chats,
        "answered": t.answered,
    }


def fold_handle(handle: str) -> str:
    """A handle as mentions store it, compared case-insensitively, without '@'."""
    return handle.strip().lstrip("@").lower()


def _names(handle: str) -> set[str]:
    """The ways a post may mention the account: its handle and, for a
    Mastodon ``user@server``, the bare user part as its own server writes it."""
    folded = fold_handle(handle)
    out = {folded}
    if "@" in folded:
        out.add(folded.split("@", 1)[0])
    return out


def measure(
    repo: AudienceRepo,
    network: str,
    account_id: str,
    account_handle: str,
    since: datetime,
    until: datetime,
) -> Engagement:
    mine = repo.post_refs_by(network, account_id)
    names = _names(account_handle)
    rooms = repo.room_tags()
    out = Engagement()
    replies_of: dict[str, set[int]] = {}  # replied-to post → the account's posts replying
    answer = 0
    for post in repo.posts_between(network, since, until):
        if post.author_id == account_id:
            answer += 1
            if post.reply_to:
                replies_of.setdefault(post.reply_to, set()).add(answer)
            for m in post.mentions:
                out.answers_by_handle.setdefault(fold_handle(m), set()).add(answer)
            continue
        t = out.by_author.get(post.author_id)
        if t is None:
            t = Touches()
        replied = post.reply_to is not None and post.reply_to in mine
        if replied:
            t.replies += 1
        if post.quote_of is not None and post.quote_of in mine:
            t.quotes += 1
        if post.repost_of is not None and post.repost_of in mine:
            t.reposts += 1
        elif not replied and any(fold_handle(m) in names for m in post.mentions):
            # A reply carries the replied-to handle on X: counted once, as the reply.
            t.mentions += 1
        if rooms and any(h.lower() in rooms for h in post.hashtags):
            t.chats += 1
        if t.interactions or t.chats:
            out.by_author[post.author_id] = t
    for ref, author in repo.authors_of(network, set(replies_of)).items():
        if author != account_id:
            out.answers_by_author.setdefault(author, set()).update(replies_of[ref])
    return out
