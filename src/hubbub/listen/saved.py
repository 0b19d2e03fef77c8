"""Saved listening queries per workspace, and their stored matches.

A saved query has a name (unique in its workspace), query text in the search
language, a group (any string; the well-known ones are :data:`GROUPS`) and an
``active`` flag. Adding a query back-fills its matches over the posts already
stored, with the store's SQL search (which agrees with the in-memory matcher:
tests compare them on real data). Posts that reach the store later without
passing the pipeline's listening stage (``hubbub import``) are caught up by
:func:`catch_up`, which every reader of matches calls first: each query keeps
the highest post key it has been back-filled to in ``source_cursors``, so a
catch-up only searches newer posts.
"""

from __future__ import annotations

from hubbub.query import ast
from hubbub.query.parser import QuerySyntaxError, parse
from hubbub.store import Store
from hubbub.store.listening import QueryFeedsRules, SavedQueries, SavedQuery
from hubbub.store.scope import scope

#: The groups the dashboard and share of voice know by name; any other string works too.
GROUPS = ("brand", "competitors", "locale", "industry")
DEFAULT_GROUP = "brand"


#: The longest name or group a saved query may have (the web form's limit too).
NAME_MAX = 100


class SavedQueryError(ValueError):
    """A saved-query operation that cannot be done (duplicate or unknown name, bad group)."""


class SavedQueryNameError(SavedQueryError):
    """A name or group the listen layer refuses, whoever asked (CLI, web)."""


def check_name(value: str, what: str = "name") -> str:
    """``value`` stripped, if it can name a saved query or a group: 1 to
    :data:`NAME_MAX` printable characters, no slashes. Raises
    :class:`SavedQueryNameError` otherwise.

    Names are shown in terminals, pages and URLs (``/api/listen/queries/NAME``):
    a control or bidi character would rewrite a terminal or hide what a name
    says, a slash would make a path. ``str.isprintable`` refuses every control,
    format (bidi), separator other than the space, and unassigned character."""
    name = value.strip()
    if not name:
        raise SavedQueryNameError(f"a saved query's {what} cannot be empty")
    if len(name) > NAME_MAX:
        raise SavedQueryNameError(f"a saved query's {what} is at most {NAME_MAX} characters")
    if any(ch in name for ch in "/\\") or not name.isprintable():
        raise SavedQueryNameError(
            f"a saved query's {what} cannot contain slashes or control characters"
        )
    if name in (".", ".."):
        # A URL path segment of "." or ".." is resolved away by browsers and
        # clients (/api/listen/queries/.. is /api/listen/): it could be made
        # but never opened or deleted from the page.
        raise SavedQueryNameError(f"a saved query's {what} cannot be '.' or '..'")
    return name


def validate_query(query: str) -> ast.Node:
    """Parse ``query`` or raise :class:`QuerySyntaxError` (with its position)."""
    return parse(query)


def saved_queries(store: Store, workspace: str) -> SavedQueries:
    """The saved queries of ``workspace`` (created on first use, as the CLI does)."""
    return SavedQueries(scope(store, workspace))


def add_query(
    store: Store,
    name: str,
    query: str,
    *,
    group: str = DEFAULT_GROUP,
    workspace: str = "default",
    backfill: bool = True,
) -> SavedQuery:
    """Save a query (name, group and query validated first) and back-fill its matches."""
    name = check_name(name)
    group = check_name(group, "group")
    validate_query(query)  # QuerySyntaxError carries the position
    repo = saved_queries(store, workspace)
    if not repo.create(name, query, group):
        raise SavedQueryError(f"a saved query named {name!r} already exists")
    saved = repo.get(name)
    assert saved is not None
    if backfill:
        repo.backfill(saved)
    return repo.get(name, with_matches=True) or saved


def get_query(
    store: Store, name: str, *, workspace: str = "default", with_matches: bool = False
) -> SavedQuery | None:
    """The saved query ``name`` (stripped, as ``add_query`` stored it), or None."""
    return saved_queries(store, workspace).get(name.strip(), with_matches=with_matches)


def list_queries(
    store: Store,
    *,
    workspace: str = "default",
    group: str | None = None,
    active_only: bool = False,
    with_matches: bool = False,
) -> list[SavedQuery]:
    """Saved queries of a workspace in the order they were added (``group``
    stripped, as ``add_query`` stored it)."""
    return saved_queries(store, workspace).list(
        group=group.strip() if group is not None else None,
        active_only=active_only,
        with_matches=with_matches,
    )


class SavedQueryInUse(SavedQueryError):
    """Removing this saved query would silently remove the inbox rules built on it."""

    def __init__(self, name: str, rule_ids: tuple[int, ...]) -> None:
        self.name = name
        self.rule_ids = rule_ids
        listed = ", ".join(str(i) for i in rule_ids)
        rules = f"inbox rule {listed}" if len(rule_ids) == 1 else f"inbox rules {listed}"
        remove = "; ".join(f"hubbub inbox rule remove {i}" for i in rule_ids)
        super().__init__(
            f"saved query {name!r} feeds {rules}, which would go with it: remove "
            f"{'it' if len(rule_ids) == 1 else 'them'} first ({remove}), or remove both "
            "with --force"
        )


def rules_of_query(store: Store, name: str, *, workspace: str = "default") -> tuple[int, ...]:
    """Ids of the inbox rules built on saved query ``name`` (none: ``()``)."""
    return saved_queries(store, workspace).rules_of(name.strip())


def remove_query(
    store: Store, name: str, *, workspace: str = "default", force: bool = False
) -> bool:
    """Delete a saved query and its stored matches; False if there was none.
    A query that inbox rules are built on is kept (SavedQueryInUse, naming
    them) unless ``force``: then the rules go too (the cases they made stay).
    ``name`` is stripped as ``add_query`` strips it: a query saved from " x "
    is named "x", and asked for as " x " (a URL, a shell) it is still found."""
    try:
        return saved_queries(store, workspace).remove(name.strip(), with_rules=force)
    except QueryFeedsRules as exc:
        raise SavedQueryInUse(exc.name, exc.rule_ids) from None


def backfill_query(store: Store, saved: SavedQuery, *, workspace: str = "default") -> int:
    """Store matches of ``saved`` among posts newer than its cursor (all
    posts the first time), with the store's SQL search. Returns how many
    matches were searched for (already stored ones included)."""
    return saved_queries(store, workspace).backfill(saved)


def catch_up(store: Store, *, workspace: str = "default") -> None:
    """Back-fill every active query over posts stored since its last back-fill."""
    repo = saved_queries(store, workspace)
    for saved in repo.list(active_only=True):
        repo.backfill(saved)


__all__ = [
    "DEFAULT_GROUP",
    "GROUPS",
    "NAME_MAX",
    "QuerySyntaxError",
    "SavedQuery",
    "SavedQueryError",
    "SavedQueryNameError",
    "add_query",
    "backfill_query",
    "catch_up",
    "check_name",
    "get_query",
    "list_queries",
    "remove_query",
    "saved_queries",
    "validate_query",
]
