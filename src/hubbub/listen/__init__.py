"""Listening: saved queries per workspace, one compiled matcher over all of
them, the pipeline stage that stores matches and classifications."""

from hubbub.listen.matcher import Matcher
from hubbub.listen.saved import (
    DEFAULT_GROUP,
    GROUPS,
    SavedQuery,
    SavedQueryError,
    SavedQueryInUse,
    add_query,
    catch_up,
    get_query,
    list_queries,
    remove_query,
    rules_of_query,
)

__all__ = [
    "DEFAULT_GROUP",
    "GROUPS",
    "Matcher",
    "SavedQuery",
    "SavedQueryError",
    "SavedQueryInUse",
    "add_query",
    "catch_up",
    "get_query",
    "list_queries",
    "remove_query",
    "rules_of_query",
]
