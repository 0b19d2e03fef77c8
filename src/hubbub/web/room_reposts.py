"""How a room shows a repost whose own text says nothing: by its original.

A Bluesky repost and a Mastodon reblog carry no text, and an X retweet's
``RT @bob: …`` is cut at 140 characters; the room showed the first two as
blank entries. Search and the listening preview show them by the original
(``hubbub.repost_text``); a room does too. Its JSON keeps ``text`` as stored
and adds ``repost``: null for every other post, else who reposted (the
label the page shows), what (``of``: the original's id) and ``original``: the
stored original's author, text and content warning, or null when the store
does not have it (or it was deleted), which the page says in words instead
of showing a blank entry.

An X retweet whose text is whole (it ends without "…") is shown as it is:
"RT @bob: …" already says what it is.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hubbub.post import Post, rfc3339
from hubbub.store.scope import Scope
from hubbub.store.scoped_posts import WorkspacePosts

Key = tuple[str, str]  # (network, post id)
CUT = "…"  # how X ends a retweet's text it cut short


def shows_original(post: Post) -> bool:
    """A repost with nothing of its own to show (no text), or only the start
    of its original (a retweet's text cut short with "…")."""
    if not post.repost_of:
        return False
    own = post.text.strip()
    return not own or own.endswith(CUT)


def original_key(post: Post) -> Key | None:
    """The (network, id) of the original ``post`` is shown by, if it is."""
    return (post.network, post.repost_of) if shows_original(post) and post.repost_of else None


def stored_originals(scope: Scope, posts: Iterable[Post]) -> dict[Key, Post]:
    """The stored, not deleted originals of the reposts among ``posts`` that
    are shown by their original: one query per network (and chunk of ids)."""
    keys = {key for post in posts if (key := original_key(post)) is not None}
    if not keys:
        return {}
    found = WorkspacePosts(scope).posts(keys)
    return {key: post for key, post in found.items() if not post.deleted}


def repost_json(
    post: Post, originals: Mapping[Key, Post] | None, label: Callable[[Post], str]
) -> dict[str, Any] | None:
    """The ``repost`` key of a room post's JSON (see the module doc);
    ``label`` names an author as the page does."""
    key = original_key(post)
    if key is None:
        return None
    original = originals.get(key) if originals else None
    shown: dict[str, Any] | None = None
    if original is not None:
        url = original.url
        shown = {
            "network": original.network,
            "id": original.id,
            "author_id": original.author.id,
            "author_name": original.author.display_name,
            "author_label": label(original),
            "text": original.text,
            "created_at": rfc3339(original.created_at),
            "url": url if url and url.startswith(("https://", "http://")) else None,
            # The original's warning folds the repost too: it shows the same words.
            "sensitive": original.sensitive,
            "content_warning": original.content_warning,
        }
    return {"by": label(post), "of": post.repost_of, "original": shown}


class LiveOriginals:
    """The originals a live room's reposts are shown by, asked for once each.

    The live stream must not query the store per post on the event loop: a
    repost's original is looked up off the loop (``learn``) and kept, so the
    reposts of one popular post ask once. An original not found is not kept
    (it may be stored by the next batch). Bounded: past ``limit`` the least
    recently used is forgotten. An original edited after it was kept shows
    its new text on the next page load, not in the live stream."""

    def __init__(self, scope: Scope | None, limit: int = 2000) -> None:
        self._scope = scope  # None: a hub tested on its own, nothing to ask
        self._limit = max(1, limit)
        self._kept: OrderedDict[Key, Post] = OrderedDict()
        self._lock = threading.Lock()  # learn() runs in a worker thread

    def __len__(self) -> int:
        return len(self._kept)

    def missing(self, post: Post) -> bool:
        """Whether ``post`` is shown by an original that is not kept yet."""
        key = original_key(post)
        return self._scope is not None and key is not None and key not in self._kept

    def learn(self, posts: Iterable[Post]) -> None:
        """Look up the originals of ``posts`` not kept yet (one query)."""
        if self._scope is None:
            return
        found = stored_originals(self._scope, [p for p in posts if self.missing(p)])
        with self._lock:
            for key, original in found.items():
                self._kept[key] = original
                self._kept.move_to_end(key)
            while len(self._kept) > self._limit:
                self._kept.popitem(last=False)

    def of(self, post: Post) -> dict[Key, Post]:
        """``post``'s original as the ``originals`` of ``post_json`` (no I/O)."""
        key = original_key(post)
        with self._lock:
            original = self._kept.get(key) if key is not None else None
            if original is None or key is None:
                return {}
            self._kept.move_to_end(key)
            return {key: original}


__all__ = [
    "LiveOriginals",
    "original_key",
    "repost_json",
    "shows_original",
    "stored_originals",
]
