"""Hubbub's own post rows (``hubbub export`` / ``hubbub search --format jsonl``).

Export writes every field of a Post so that importing an export into another
database (SQLite ↔ PostgreSQL) gives the same posts. Rows carry
``"schema": "hubbub.post/1"`` so auto-detection never confuses them with a
network's payloads.
"""

from __future__ import annotations

from typing import Any

from hubbub.formats import Context, FormatError
from hubbub.post import Author, Item, Post, parse_time, rfc3339

SCHEMA = "hubbub.post/1"


def post_to_json(post: Post) -> dict[str, Any]:
    """A JSON-ready dict; the first keys are the stable contract of
    ``search``/``export`` (network, id, url, author, text, created_at)."""
    return {
        "network": post.network,
        "id": post.id,
        "url": post.url,
        "author": post.author.handle,
        "author_name": post.author.display_name,
        "author_id": post.author.id,
        "text": post.text,
        "created_at": rfc3339(post.created_at, exact=True),
        "langs": list(post.langs),
        "reply_to": post.reply_to,
        "quote_of": post.quote_of,
        "repost_of": post.repost_of,
        "conversation_id": post.conversation_id,
        "hashtags": list(post.hashtags),
        "mentions": list(post.mentions),
        "links": list(post.links),
        "media_count": post.media_count,
        "metrics": dict(post.metrics),
        "place": post.place,
        "sensitive": post.sensitive,
        "content_warning": post.content_warning,
        "source": post.source,
        "edit_ids": list(post.edit_ids),
        "version_id": post.version_id,
        "edited_at": rfc3339(post.edited_at, exact=True),
        "withheld": post.withheld,
        "seen_at": rfc3339(post.seen_at, exact=True),
        "aliases": list(post.aliases),
        "embedded": post.embedded,
        "matching_rules": list(post.matching_rules),
        "schema": SCHEMA,
    }


def detect(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("schema") == SCHEMA


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FormatError(f"{name} must be a list of strings")
    return tuple(value)


def parse(obj: Any, ctx: Context) -> list[Item]:
    for key in ("network", "id", "author", "text", "created_at"):
        if not isinstance(obj.get(key), str):
            raise FormatError(f"hubbub post row without a string {key!r}")
    created = parse_time(obj["created_at"])
    if created is None:
        raise FormatError(f"bad created_at {obj['created_at']!r}")
    metrics = obj.get("metrics") or {}
    if not isinstance(metrics, dict):
        raise FormatError("metrics must be an object")
    author = Author(
        network=obj["network"],
        id=str(obj.get("author_id") or obj["author"]),
        handle=obj["author"],
        display_name=obj.get("author_name"),
    )
    post = Post(
        network=obj["network"],
        id=obj["id"],
        author=author,
        text=obj["text"],
        created_at=created,
        url=obj.get("url"),
        langs=_strings(obj.get("langs"), "langs"),
        reply_to=obj.get("reply_to"),
        quote_of=obj.get("quote_of"),
        repost_of=obj.get("repost_of"),
        conversation_id=obj.get("conversation_id"),
        hashtags=_strings(obj.get("hashtags"), "hashtags"),
        mentions=_strings(obj.get("mentions"), "mentions"),
        links=_strings(obj.get("links"), "links"),
        media_count=int(obj.get("media_count") or 0),
        metrics={str(k): int(v) for k, v in metrics.items() if isinstance(v, int)},
        place=obj.get("place"),
        sensitive=bool(obj.get("sensitive")),
        content_warning=obj.get("content_warning"),
        source=obj.get("source"),
        edit_ids=_strings(obj.get("edit_ids"), "edit_ids"),
        version_id=obj.get("version_id"),
        edited_at=parse_time(obj.get("edited_at")),
        withheld=obj.get("withheld"),
        seen_at=parse_time(obj.get("seen_at")),
        aliases=_strings(obj.get("aliases"), "aliases"),
        embedded=bool(obj.get("embedded")),
        matching_rules=_strings(obj.get("matching_rules"), "matching_rules"),
    )
    return [post]
