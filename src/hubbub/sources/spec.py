"""Source specs as users write them (``hubbub serve --source SPEC``):

- ``sim:TAG?rate=R&seed=S&speed=F&limit=N`` (rate posts/s default 2, seed 1,
  speed 1, no limit; ``start=`` an RFC 3339 time pins the timestamps)
- ``replay:FILE?speed=F&maxgap=S`` (speed 1, maxgap 5 seconds)
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from urllib.parse import parse_qsl

from hubbub.post import parse_time
from hubbub.sources.base import Source
from hubbub.sources.replay import ReplaySource
from hubbub.sources.sim import SimSource
from hubbub.tags import TagError, parse_tag

_TAG = re.compile(r"^#?(\w+)$")
_SIM_KEYS = ("rate", "seed", "speed", "limit", "start")
_REPLAY_KEYS = ("speed", "maxgap")


def _options(query: str, allowed: tuple[str, ...], spec: str) -> dict[str, str]:
    options: dict[str, str] = {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ValueError(f"bad options in source {spec!r}: expected key=value&key=value") from None
    for key, value in pairs:
        if key not in allowed:
            raise ValueError(
                f"unknown option {key!r} in source {spec!r} (allowed: {', '.join(allowed)})"
            )
        if key in options:
            raise ValueError(f"option {key!r} given twice in source {spec!r}")
        options[key] = value
    return options


def _number(
    options: dict[str, str], key: str, default: float, spec: str, *, positive: bool
) -> float:
    raw = options.get(key)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{key}={raw!r} in source {spec!r} is not a number") from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        need = "greater than 0" if positive else "0 or more"
        raise ValueError(f"{key}={raw!r} in source {spec!r} must be {need}")
    return value


def _integer(options: dict[str, str], key: str, spec: str) -> int | None:
    raw = options.get(key)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{key}={raw!r} in source {spec!r} is not a whole number") from None


def source_from_spec(spec: str) -> Source:
    """The source a spec names; ValueError says what is wrong with a bad one."""
    kind, colon, rest = spec.partition(":")
    if not colon or kind not in ("sim", "replay"):
        raise ValueError(
            f"unknown source {spec!r}: expected sim:TAG[?rate=R&seed=S&speed=F] "
            "or replay:FILE[?speed=F&maxgap=S]"
        )
    if kind == "sim":
        tag, _, query = rest.partition("?")
        match = _TAG.match(tag)
        if not match:
            raise ValueError(
                f"source {spec!r}: sim: needs a hashtag (letters, digits, _), e.g. sim:hubchat"
            )
        try:
            parse_tag(match.group(1))  # the room it feeds: one validation of a tag
        except TagError as exc:
            raise ValueError(f"source {spec!r}: {exc}") from None
        options = _options(query, _SIM_KEYS, spec)
        seed = _integer(options, "seed", spec)
        limit = _integer(options, "limit", spec)
        if limit is not None and limit < 0:
            raise ValueError(f"limit={limit} in source {spec!r} must be 0 or more")
        start = None
        if "start" in options:
            start = parse_time(options["start"])
            if start is None:
                raise ValueError(
                    f"start={options['start']!r} in source {spec!r} is not an RFC 3339 time"
                )
        return SimSource(
            match.group(1),
            rate=_number(options, "rate", 2.0, spec, positive=True),
            seed=1 if seed is None else seed,
            speed=_number(options, "speed", 1.0, spec, positive=True),
            limit=limit,
            start=start,
        )
    # A path may itself hold "?": only a trailing ?key=value part of known keys is options.
    path, query = rest, ""
    head, question, tail = rest.rpartition("?")
    if (
        question
        and tail
        and all(part.partition("=")[0] in _REPLAY_KEYS for part in tail.split("&"))
    ):
        path, query = head, tail
    if not path:
        raise ValueError(f"source {spec!r}: replay: needs a file, e.g. replay:chat.jsonl")
    options = _options(query, _REPLAY_KEYS, spec)
    speed = _number(options, "speed", 1.0, spec, positive=True)
    maxgap = _number(options, "maxgap", 5.0, spec, positive=False)
    if not Path(path).is_file():
        raise ValueError(f"source {spec!r}: no such file: {path}")
    return ReplaySource(path, speed=speed, maxgap=maxgap)
