"""How a person is named where people read: ``@handle``, or a short id.

A post names its author by the network's stable id and a handle; when the
network sent no handle (Jetstream gives only the DID) the stored handle is
the id itself, and a page full of ``@did:plc:tn3hni2jpphsgl6amfbb7ja6`` reads
as noise. ``AuthorLabels`` names each author by the handle the post carries,
else by one the store learnt elsewhere (``hubbub.store.known_handles``), else
by the id shortened.

A shortened DID must still tell people apart: ``did:plc:`` ids are 24
random base32 characters, so the first eight (40 bits) differ between any two
people a recap or report will ever show; where two ids on the same page do
share them, both are lengthened until they differ. The full id stays in the
data (JSON keeps ``author_id``), only the label is short. Other ids (an X
user id, ``did:web:`` and its domain) are short or readable already and are
shown whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from hubbub.store.known_handles import AuthorKey, known_handles, usable_handle
from hubbub.store.scope import scope

if TYPE_CHECKING:
    from hubbub.post import Post
    from hubbub.store import Store
    from hubbub.store.scope import Scope

PLC_PREFIX = "did:plc:"
SHORT_CHARS = 8  # of the DID's own part: 40 bits
ELLIPSIS = "…"

# atproto handle syntax (a domain name): a stored handle that is not one came
# from somewhere else and is not shown as a Bluesky @handle.
_BLUESKY_HANDLE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
)


def _fits(network: str, author_id: str, handle: str | None) -> bool:
    if not usable_handle(author_id, handle):
        return False
    if network == "bluesky":
        return _BLUESKY_HANDLE.match((handle or "").lower()) is not None
    return True


def carries_handle(network: str, author_id: str, handle: str | None) -> bool:
    """Whether ``handle`` (as a post or row stores it) names the author, so
    the store need not be asked."""
    return _fits(network, author_id, handle)


def short_ids(ids: Iterable[str]) -> dict[str, str]:
    """Each ``did:plc:`` id → its label: the first ``SHORT_CHARS`` characters
    of its own part and an ellipsis, more where two ids share those."""
    plc = sorted({i for i in ids if i.startswith(PLC_PREFIX)})
    length = {i: SHORT_CHARS for i in plc}
    for before, after in zip(plc, plc[1:], strict=False):
        shared = len(_common_prefix(before[len(PLC_PREFIX) :], after[len(PLC_PREFIX) :]))
        if shared >= SHORT_CHARS:
            length[before] = max(length[before], shared + 1)
            length[after] = max(length[after], shared + 1)
    out: dict[str, str] = {}
    for i in plc:
        own = i[len(PLC_PREFIX) :]
        out[i] = i if length[i] >= len(own) else PLC_PREFIX + own[: length[i]] + ELLIPSIS
    return out


def _common_prefix(a: str, b: str) -> str:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return a[:n]


class AuthorLabels:
    """The names of one page's authors. Built from every (network, author
    id, handle as stored) the page shows, so short ids can be kept distinct,
    and the handles the store knows for those stored without one."""

    def __init__(
        self,
        authors: Iterable[tuple[str, str, str]],
        known: Mapping[AuthorKey, str] | None = None,
    ) -> None:
        self._handles: dict[AuthorKey, str] = {}
        unnamed: list[str] = []
        for network, author_id, handle in authors:
            key = (network, author_id)
            if _fits(network, author_id, handle):
                self._handles[key] = handle
            elif known is not None and _fits(network, author_id, known.get(key)):
                self._handles[key] = known[key]
            else:
                unnamed.append(author_id)
        self._short = short_ids(unnamed)

    def handle(self, network: str, author_id: str) -> str | None:
        """The author's handle, ``None`` when nobody has told the store."""
        return self._handles.get((network, author_id))

    def label(self, network: str, author_id: str) -> str:
        """``@handle``, else the id (shortened when it is a ``did:plc:``)."""
        handle = self.handle(network, author_id)
        if handle is not None:
            return "@" + handle.lstrip("@")
        return self._short.get(author_id, author_id)

    def fields(self, network: str, author_id: str) -> dict[str, str | None]:
        """The two keys JSON adds beside the old ones: ``author_handle`` (None
        when unknown) and ``author_label``."""
        return {
            "author_handle": self.handle(network, author_id),
            "author_label": self.label(network, author_id),
        }

    @classmethod
    def of_authors(cls, scope: Scope, authors: Iterable[tuple[str, str, str]]) -> AuthorLabels:
        """Labels for (network, author id, handle as stored) triples, asking
        the store once, and only about those stored without a handle."""
        unique = set(authors)
        unnamed = [(n, i) for n, i, h in unique if not _fits(n, i, h)]
        known = known_handles(scope, unnamed) if unnamed else {}
        return cls(sorted(unique), known)

    @classmethod
    def of_posts(cls, store: Store, workspace: str, posts: Iterable[Post]) -> AuthorLabels:
        """Labels for the authors of ``posts``, asking the store only about
        those whose posts carry no handle."""
        authors = {(p.network, p.author.id, p.author.handle) for p in posts}
        unnamed = [(n, i) for n, i, h in authors if not _fits(n, i, h)]
        known = known_handles(scope(store, workspace), unnamed) if unnamed else {}
        return cls(sorted(authors), known)


__all__ = ["AuthorLabels", "carries_handle", "short_ids"]
