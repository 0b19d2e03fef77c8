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

A repost never brings back what the room hides: when the room would not
show its original (a host removed it, muted or blocked its author, it is
held for approval or rejected, or deleted), the repost is left out of the
room too (``RoomRepo.page_names``, ``RoomHub``): it would add only the
hidden words. Every repost's original is looked up for that, a whole X
retweet's too ("RT @bob: …" repeats bob's words).

Texts are sent cut at ``TEXT_LIMIT`` characters (ending in "…", with
``truncated``): one long original reposted hundreds of times must not make
a page of posts hundreds of megabytes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from hubbub.post import Post, rfc3339
from hubbub.repost_text import needs_original
from hubbub.store.scope import Scope
from hubbub.store.scoped_posts import WorkspacePosts

Key = tuple[str, str]  # (network, post id)
CUT = "…"  # how X ends a retweet's text it cut short
# The most a room sends of one text: above the longest post the networks
# allow by default (X 4,000 for subscribers, Mastodon 500, Bluesky 300); a
# Mastodon server set to allow more is cut here.
TEXT_LIMIT = 5_000


def capped(text: str) -> tuple[str, bool]:
    """``text`` cut at ``TEXT_LIMIT`` characters (ending in "…"), and whether it was."""
    if len(text) <= TEXT_LIMIT:
        return text, False
    return text[: TEXT_LIMIT - 1] + CUT, True


def shows_original(post: Post) -> bool:
    """A repost with nothing of its own to show (no text), or only the start
    of its original (a retweet's text cut short with "…")."""
    return needs_original(post) or (bool(post.repost_of) and post.text.strip().endswith(CUT))


def original_key(post: Post) -> Key | None:
    """The (network, id) of the original ``post`` is shown by, if it is."""
    return (post.network, post.repost_of) if shows_original(post) and post.repost_of else None


def repost_key(post: Post) -> Key | None:
    """The (network, id) of the original of any repost, shown by it or not:
    the room leaves a repost out when it hides the original."""
    return (post.network, post.repost_of) if post.repost_of else None


def room_originals(scope: Scope, posts: Iterable[Post]) -> dict[Key, Post]:
    """The stored originals of the reposts among ``posts``, deleted ones
    too (the room hides a repost of those; ``store.originals.stored_originals``,
    for search, keeps only live ones): one query per network (and chunk of ids)."""
    keys = {key for post in posts if (key := repost_key(post)) is not None}
    if not keys:
        return {}
    return dict(WorkspacePosts(scope).posts(keys))


def shown_text(post: Post, originals: Mapping[Key, Post] | None) -> str:
    """The words a room shows for ``post``: its stored original's when it is
    shown by one (``repost_json``), else its own. The projector's spam flag
    reads these: a repost with no text of its own was never flagged, however
    spammy the original it shows."""
    key = original_key(post)
    original = originals.get(key) if originals and key is not None else None
    return original.text if original is not None and not original.deleted else post.text


def without_hidden(posts: Iterable[Post], hidden: Collection[Key]) -> list[Post]:
    """``posts`` less the reposts of an original in ``hidden`` (those the
    room would not show): a repost of a hidden post adds only its words."""
    return [p for p in posts if repost_key(p) not in hidden]


def repost_json(
    post: Post, originals: Mapping[Key, Post] | None, label: Callable[[Post], str]
) -> dict[str, Any] | None:
    """The ``repost`` key of a room post's JSON (see the module doc);
    ``label`` names an author as the page does. ``originals`` holds only
    originals the room shows (a caller leaves out reposts of the others)."""
    key = original_key(post)
    if key is None:
        return None
    original = originals.get(key) if originals else None
    shown: dict[str, Any] | None = None
    if original is not None and not original.deleted:
        url = original.url
        text, truncated = capped(original.text)
        shown = {
            "network": original.network,
            "id": original.id,
            "author_id": original.author.id,
            "author_name": original.author.display_name,
            "author_label": label(original),
            "text": text,
            "truncated": truncated,
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
    reposts of one popular post ask once. With it is kept whether the store
    hides it from this room (deleted, removed by a host, held or rejected:
    ``learn``'s ``hidden``); the room's muted and blocked people are checked
    with every post, as they change. ``forget`` drops what was kept when a
    removal or an approval changes that. An original not found is not kept
    (it may be stored by the next batch). Bounded: past ``limit`` the least
    recently used is forgotten. An original edited after it was kept shows
    its new text on the next page load, not in the live stream."""

    def __init__(self, scope: Scope | None, limit: int = 2000) -> None:
        self._scope = scope  # None: a hub tested on its own, nothing to ask
        self._limit = max(1, limit)
        self._kept: OrderedDict[Key, Post] = OrderedDict()
        self._hidden: set[Key] = set()  # kept originals the store hides here
        self._lock = threading.Lock()  # learn() runs in a worker thread
        # Bumped by ``forget``: what a lookup under an older generation found
        # may predate the removal or approval that made the room forget.
        self.generation = 0

    def __len__(self) -> int:
        return len(self._kept)

    def missing(self, post: Post) -> bool:
        """Whether ``post`` is a repost whose original is not kept yet."""
        key = repost_key(post)
        return self._scope is not None and key is not None and key not in self._kept

    def learn(
        self,
        posts: Iterable[Post],
        hidden: Callable[[list[Post]], Collection[Key]] = lambda _found: (),
    ) -> bool:
        """Look up the originals of ``posts`` not kept yet (one query) and,
        with ``hidden``, which of them the room's store hides. Returns whether
        the answer stands: False when ``forget`` ran meanwhile (the answer may
        be older than the change it was told of), and then nothing is kept,
        so those originals stay missing and must be asked again."""
        if self._scope is None:
            return True
        generation = self.generation
        found = room_originals(self._scope, [p for p in posts if self.missing(p)])
        hides = set(hidden(list(found.values()))) if found else set()
        with self._lock:
            if generation != self.generation:
                return False
            for key, original in found.items():
                self._kept[key] = original
                self._kept.move_to_end(key)
                if key in hides or original.deleted:
                    self._hidden.add(key)
                else:
                    self._hidden.discard(key)
            while len(self._kept) > self._limit:
                key, _post = self._kept.popitem(last=False)
                self._hidden.discard(key)
        return True

    def forget(self) -> None:
        """Ask again: a removal or an approval changed what the room hides."""
        with self._lock:
            self.generation += 1
            self._kept.clear()
            self._hidden.clear()

    def hidden(self, post: Post) -> bool:
        """Whether ``post`` is a repost of a kept original the store hides here."""
        key = repost_key(post)
        with self._lock:
            return key is not None and key in self._hidden

    def of(self, post: Post) -> dict[Key, Post]:
        """``post``'s kept original as the ``originals`` of ``post_json`` (no I/O)."""
        key = repost_key(post)
        with self._lock:
            original = self._kept.get(key) if key is not None else None
            if original is None or key is None:
                return {}
            self._kept.move_to_end(key)
            return {key: original}


__all__ = [
    "TEXT_LIMIT",
    "LiveOriginals",
    "capped",
    "original_key",
    "repost_json",
    "repost_key",
    "room_originals",
    "shown_text",
    "shows_original",
    "without_hidden",
]
