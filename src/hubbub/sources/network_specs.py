"""Specs of network sources (``x:…``, ``bluesky:…``, ``mastodon:…``) and the
factory each network registers.

Network sources need a ``SourceEnv`` (clock, health, credentials, follows),
so they are built here rather than in ``spec.py``. Each network's factory is
named as ``module:function`` and imported only when a spec of that kind is
used: ``function(spec: NetworkSpec, env: SourceEnv) -> Source``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from hubbub.networks.env import SourceEnv
from hubbub.sources.base import Source

FACTORIES: dict[str, str] = {
    "x": "hubbub.sources.x_specs:x_source",
    "bluesky": "hubbub.sources.bluesky:source_from_spec",
    "mastodon": "hubbub.sources.mastodon:source_from_spec",
}


def is_network_spec(spec: str) -> bool:
    return spec.partition(":")[0] in FACTORIES


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    """``kind:body?key=value&…``, split. ``options`` keeps repeated keys' last value."""

    text: str
    kind: str
    body: str
    options: dict[str, str] = field(default_factory=dict)

    def option(self, key: str, default: str | None = None) -> str | None:
        return self.options.get(key, default)

    def reject_unknown(self, allowed: tuple[str, ...]) -> None:
        for key in self.options:
            if key not in allowed:
                raise ValueError(
                    f"unknown option {key!r} in source {self.text!r} (allowed: {', '.join(allowed)})"
                )


def parse_network_spec(spec: str) -> NetworkSpec:
    kind, colon, rest = spec.partition(":")
    if not colon or kind not in FACTORIES:
        raise ValueError(f"unknown network source {spec!r}")
    body, _, query = rest.partition("?")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ValueError(f"bad options in source {spec!r}: expected key=value&key=value") from None
    return NetworkSpec(spec, kind, body, dict(pairs))


def network_source_from_spec(spec: str, env: SourceEnv) -> Source:
    """The source a network spec names; ValueError says what is wrong."""
    parsed = parse_network_spec(spec)
    module_name, _, function = FACTORIES[parsed.kind].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise ValueError(f"source {spec!r}: {parsed.kind} sources are not available") from None
    factory: Callable[[NetworkSpec, SourceEnv], Source] = getattr(module, function)
    return factory(parsed, env)
