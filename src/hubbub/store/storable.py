"""Text every database here can store: no NUL.

PostgreSQL refuses a NUL character in text (and JSON) columns, and one post
carrying one (a ``\\u0000`` escape in an imported file or a live Jetstream
message) failed the write of its whole batch, the good posts with it. So the
store, the one door every post passes through, replaces NUL with U+FFFD in
each item before it builds rows, whichever source the item came from. SQLite
would store it, but the two backends must hold the same posts.

The check costs a ``in`` per string field; only an item holding a NUL is copied.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, TypeVar

_NUL = "\x00"
_PLAIN = frozenset({type(None), int, float, bool, datetime})
T = TypeVar("T")


def storable(value: T) -> T:
    """``value`` (a Post, Deletion, Author or what they hold) with NUL replaced
    by U+FFFD; the same object when it holds none."""
    return _replace(value) if _has_nul(value) else value


def _has_nul(value: Any) -> bool:
    kind = type(value)
    if kind is str:
        return _NUL in value
    if kind in _PLAIN:  # most fields: None, numbers, flags, times
        return False
    if kind is tuple or kind is list:
        return any(_has_nul(v) for v in value)
    if kind is dict:
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    names = _field_names(value)
    return names is not None and any(_has_nul(getattr(value, name)) for name in names)


def _replace(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace(_NUL, "\ufffd")
    if isinstance(value, tuple | list):
        return type(value)(_replace(v) for v in value)
    if isinstance(value, dict):
        return {_replace(k): _replace(v) for k, v in value.items()}
    names = _field_names(value)
    if names is None:
        return value
    return dataclasses.replace(value, **{name: _replace(getattr(value, name)) for name in names})


_FIELDS: dict[type, tuple[str, ...] | None] = {}


def _field_names(value: Any) -> tuple[str, ...] | None:
    """The field names of a dataclass instance (cached per class: this runs for
    every post stored), None for anything else."""
    cls = type(value)
    if cls not in _FIELDS:
        is_instance = dataclasses.is_dataclass(value) and not isinstance(value, type)
        _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(value)) if is_instance else None
    return _FIELDS[cls]
