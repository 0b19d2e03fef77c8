"""What a workspace may be called: one rule for every entry point.

There are two rules, because names already stored must keep working:

- :func:`check_workspace_name` is what any name must be to be *looked up*
  (``--workspace`` on every command, the sign-in form): 1 to 100 printable
  characters. Databases made before the stricter rule below may hold names
  such as ``a/b`` or ``acme `` and their commands keep reading them.
- :func:`check_new_workspace_name` is what a name must be to *create* a
  workspace, whoever creates it (the command line, the runtime, a library
  call: the store applies it where it inserts the row). A workspace name is a
  segment of page addresses (``/w/NAME/rooms/TAG``), so it is a slug: ASCII
  letters, digits, ``-``, ``_`` and ``.``, starting with a letter or digit.
  A slash would split the path, ``?`` and ``#`` would end it, ``.`` and
  ``..`` are resolved away by browsers, spaces vanish from a URL someone
  copies, and non-ASCII letters let two names look alike. Names that differ
  only in case are refused too (:func:`folded`), for the same reason.
"""

from __future__ import annotations

import re
import unicodedata

from hubbub.store.engine import StoreError

MAX_WORKSPACE_NAME = 100
_SLUG_CHARACTER = re.compile(r"[A-Za-z0-9._-]", re.ASCII)
_NEW_NAME_RULE = (
    "a new workspace's name is ASCII letters, digits, '-', '_' and '.', "
    "starting with a letter or digit (it is part of page addresses: /w/NAME/…)"
)


class WorkspaceNameError(StoreError, ValueError):
    """A workspace name that cannot be stored, or cannot name a new workspace."""


def check_workspace_name(name: str) -> str:
    """``name`` if it can name an existing workspace; the rule every lookup applies."""
    if not name or len(name) > MAX_WORKSPACE_NAME:
        raise WorkspaceNameError(
            f"a workspace name is 1 to {MAX_WORKSPACE_NAME} characters (got {len(name)})"
        )
    # Bytes that are not UTF-8 (surrogates, from a shell) no database can
    # store; control characters (NUL: PostgreSQL) and blank names name nothing.
    if not name.strip() or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name):
        raise WorkspaceNameError(
            "a workspace name is printable text, not blank, without control characters"
        )
    return name


def check_new_workspace_name(name: str) -> str:
    """``name`` if a new workspace may be called that (see the module doc);
    otherwise :class:`WorkspaceNameError` naming the first character that
    is not allowed and its position (1-based)."""
    check_workspace_name(name)
    for position, ch in enumerate(name, start=1):
        if not _SLUG_CHARACTER.fullmatch(ch):
            raise WorkspaceNameError(
                f"{_NEW_NAME_RULE}: {name!r} has {ch!r} at position {position}"
            )
    if not name[0].isalnum():
        raise WorkspaceNameError(f"{_NEW_NAME_RULE}: {name!r} starts with {name[0]!r}")
    return name


def folded(name: str) -> str:
    """The form two workspace names are compared in for look-alikes: a new
    name is ASCII, so lower case is all the folding it needs."""
    return name.lower()


def looks_alike_error(name: str, existing: str) -> WorkspaceNameError:
    return WorkspaceNameError(
        f"cannot create workspace {name!r}: workspace {existing!r} exists and names "
        "differ only in case (use that one, or another name)"
    )
