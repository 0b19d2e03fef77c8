"""``x:stream[?url=BASE&account=NAME]`` and ``x:search:QUERY[?url=BASE&account=NAME&poll=S]``.

The account is the workspace's only X account unless ``account=`` names one;
with none, the spec is refused (nothing dials out without an account).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hubbub.networks.env import SourceEnv
from hubbub.networks.x import XClient, XLimits
from hubbub.sources.base import Source
from hubbub.sources.network_specs import NetworkSpec
from hubbub.sources.x_search import XSearchSource
from hubbub.sources.x_stream import XStreamSource

if TYPE_CHECKING:
    from hubbub.store import Store
    from hubbub.store.network_accounts import AccountInfo


def _client(spec: NetworkSpec, env: SourceEnv) -> XClient:
    name = spec.option("account")
    credentials = env.account("x", name)
    if credentials is None:
        raise ValueError(
            f"source {spec.text!r}: no X account"
            + (f" named {name!r}" if name else "")
            + " in this workspace (hubbub account add x --name NAME)"
        )
    url = spec.option("url")
    if url is not None and not url.startswith(("http://", "https://")):
        raise ValueError(f"source {spec.text!r}: url= must be an http(s) base URL")
    return XClient(
        credentials.secret, base_url=url, clock=env.clock, limits=XLimits.from_env(env.limits)
    )


def x_source(spec: NetworkSpec, env: SourceEnv) -> Source:
    kind, _, rest = spec.body.partition(":")
    if kind == "stream" and not rest:
        spec.reject_unknown(("url", "account"))
        client = _client(spec, env)
        return XStreamSource(client, env, lease="x-stream:" + client.token_id)
    if kind == "search" and rest.strip():
        spec.reject_unknown(("url", "account", "poll"))
        raw = spec.option("poll", "60")
        try:
            poll = float(raw or "")
        except ValueError:
            poll = math.nan
        if not math.isfinite(poll) or poll <= 0:
            raise ValueError(
                f"poll={raw!r} in source {spec.text!r} must be a number of seconds > 0"
            )
        return XSearchSource(_client(spec, env), env, rest, poll=poll)
    raise ValueError(
        f"unknown X source {spec.text!r}: expected x:stream[?url=BASE] or x:search:QUERY[?url=BASE]"
    )


def auto_specs(store: Store, workspace: str, accounts: Sequence[AccountInfo]) -> list[str]:
    """One stream for the workspace (X allows one connection per app)."""
    if not accounts:
        return []
    if len(accounts) == 1:
        return ["x:stream"]
    return [f"x:stream?account={accounts[0].name}"]
