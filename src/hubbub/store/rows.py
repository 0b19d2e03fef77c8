"""Post/Author ↔ database rows."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping

from hubbub.post import Author, Post
from hubbub.query.evaluate import handle_forms, lang_forms
from hubbub.query.tokens import fold, index_text


def post_to_row(
    post: Post, now: datetime, fetched_at: datetime | None, search_text: str | None = None
) -> dict[str, Any]:
    """``search_text``: ``index_text(post.text)`` if the caller has it already."""
    deleted = post.deleted
    if search_text is None and not deleted:
        search_text = index_text(post.text)
    return {
        "network": post.network,
        "post_id": post.id,
        "url": post.url,
        "author_id": post.author.id,
        "author_handle": post.author.handle,
        "author_name": post.author.display_name,
        "text": "" if deleted else post.text,
        "search_text": "" if deleted else search_text,
        "created_at": post.created_at,
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
        "edited_at": post.edited_at,
        "withheld": post.withheld,
        "deleted": deleted,
        "deleted_at": now if deleted else None,
        "seen_at": post.seen_at,
        "embedded": post.embedded,
        "matching_rules": list(post.matching_rules),
        "aliases": list(post.aliases),
        "stored_at": now,
        "updated_at": now,
        "fetched_at": fetched_at,
    }


def row_to_post(row: Mapping[str, Any] | RowMapping) -> Post:
    """A stored post from its row: a SQLAlchemy ``RowMapping`` (keyed by column
    name) or the plain dict ingest builds with ``post_to_row``."""
    author = Author(
        network=row["network"],
        id=row["author_id"],
        handle=row["author_handle"],
        display_name=row["author_name"],
    )
    return Post(
        network=row["network"],
        id=row["post_id"],
        author=author,
        text=row["text"],
        created_at=row["created_at"],
        url=row["url"],
        langs=tuple(row["langs"] or ()),
        reply_to=row["reply_to"],
        quote_of=row["quote_of"],
        repost_of=row["repost_of"],
        conversation_id=row["conversation_id"],
        hashtags=tuple(row["hashtags"] or ()),
        mentions=tuple(row["mentions"] or ()),
        links=tuple(row["links"] or ()),
        media_count=row["media_count"],
        metrics=dict(row["metrics"] or {}),
        place=row["place"],
        sensitive=bool(row["sensitive"]),
        content_warning=row["content_warning"],
        source=row["source"],
        edit_ids=tuple(row["edit_ids"] or ()),
        version_id=row["version_id"],
        edited_at=row["edited_at"],
        withheld=row["withheld"],
        deleted=bool(row["deleted"]),
        seen_at=row["seen_at"],
        aliases=tuple(row["aliases"] or ()),
        embedded=bool(row["embedded"]),
        matching_rules=tuple(row["matching_rules"] or ()),
    )


def author_to_row(author: Author, now: datetime) -> dict[str, Any]:
    return {
        "network": author.network,
        "author_id": author.id,
        "handle": author.handle,
        "display_name": author.display_name,
        "followers": author.followers,
        "following": author.following,
        "posts_count": author.posts_count,
        "created_at": author.created_at,
        "verified": author.verified,
        "avatar_url": author.avatar_url,
        "description": author.description,
        "url": author.url,
        "updated_at": now,
    }


def term_rows(row: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """The exact-match facets stored in ``post_terms`` for a post row."""
    if row["deleted"]:
        return
    seen: set[tuple[str, str]] = set()
    candidates: list[tuple[str, str]] = []
    for tag in row["hashtags"]:
        candidates.append(("h", fold(tag.lstrip("#"))))
    for mention in row["mentions"]:
        candidates.extend(("m", form) for form in handle_forms(mention))
    for lang in row["langs"]:
        candidates.extend(("l", form) for form in lang_forms(lang))
    candidates.extend(("f", form) for form in handle_forms(row["author_handle"]))
    for item in candidates:
        if item[1] and item not in seen:
            seen.add(item)
            yield item
