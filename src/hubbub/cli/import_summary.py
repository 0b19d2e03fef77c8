"""The one line ``hubbub import`` prints after an import (without ``--json``).

"Skipped" is kept for what ``--help`` calls skipped: a post that could not be
read, named on standard error, which makes the exit status 1 (counted as
"bad posts"). Records that are valid but are not posts (a twarc2 counts file,
users, likes, follows…) are read and ignored: the line says how many and of
which kinds, apart from the posts, and they leave the exit status 0.
"""

from __future__ import annotations

from hubbub.terminal_text import plain
from hubbub.transfer.importer import ImportReport

# How a record kind reads in the summary ("169 tweet counts"); a kind not
# listed (a Bluesky collection such as app.bsky.feed.like) is shown as is.
_KIND_NAMES = {
    "count": "tweet counts",
    "user": "users",
    "list": "lists",
    "space": "spaces",
    "compliance": "compliance events",
    "error": "error responses",
    "account": "accounts",
    "actor": "actors",
    "media": "media attachments",
    "identity": "identity events",
    "notification": "notifications",
    "conversation": "conversations",
}
_KINDS_NAMED = 5  # the most frequent kinds are named; the rest are "N more"
_KIND_CHARS = 60  # a kind comes from the payload: hostile, possibly long


def summary_line(report: ImportReport) -> str:
    """``imported 2, duplicates 0, updated 0, deleted 0, rejected 0, bad posts 0``,
    then ``; 169 records that are not posts ignored (169 tweet counts)`` when
    there were any."""
    c = report.counts
    line = (
        f"imported {c.imported}, duplicates {c.duplicates}, updated {c.updated}, "
        f"deleted {c.deleted}, rejected {report.rejected}, bad posts {report.bad_posts}"
    )
    if c.skipped:
        line += f"; {not_posts_phrase(c.skipped, report.not_posts)}"
    return line


def not_posts_phrase(total: int, kinds: dict[str, int]) -> str:
    """``169 records that are not posts ignored (169 tweet counts)``."""
    noun = "record that is not a post" if total == 1 else "records that are not posts"
    ranked = sorted(kinds.items(), key=lambda kind: (-kind[1], kind[0]))
    named = [f"{count} {_kind_name(kind, count)}" for kind, count in ranked[:_KINDS_NAMED]]
    rest = sum(count for _kind, count in ranked[_KINDS_NAMED:])
    if rest:
        named.append(f"{rest} more")
    detail = f" ({', '.join(named)})" if named else ""
    return f"{total} {noun} ignored{detail}"


def _kind_name(kind: str, count: int) -> str:
    name = _KIND_NAMES.get(kind)
    if name is not None:
        return name[:-1] if count == 1 else name  # every listed name is a plain plural
    shown = plain(kind)
    return shown if len(shown) <= _KIND_CHARS else shown[: _KIND_CHARS - 1] + "…"
