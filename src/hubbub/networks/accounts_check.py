"""``hubbub account check``: one verifying call per network.

Each network registers ``module:function``, an
``async (Credentials, base_url | None) -> str`` that returns who the
credentials belong to (``@handle``) or raises ``CheckFailed`` with a
secret-free reason. Imported only when used. Both are redacted here again,
with the account's exact secret masked wherever it appears.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable

from hubbub.networks.env import Credentials
from hubbub.sources.base import redact

CHECKS: dict[str, str] = {
    "x": "hubbub.networks.x:check_account",
    "bluesky": "hubbub.networks.bluesky:check_account",
    "mastodon": "hubbub.networks.mastodon:check_account",
}

Check = Callable[[Credentials, str | None], Awaitable[str]]


class CheckFailed(Exception):
    """The network refused the credentials, or could not be reached."""


async def check_account(credentials: Credentials, base_url: str | None = None) -> str:
    target = CHECKS.get(credentials.network)
    if target is None:
        raise CheckFailed(f"no check for network {credentials.network!r}")
    module_name, _, function = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise CheckFailed(f"checking {credentials.network} accounts is not available yet") from None
    check: Check = getattr(module, function)
    # Each network scrubs its own errors; this is the last word, with the exact
    # secret in hand: what is stored and printed (the reason, who the server
    # says we are) never shows it, whatever the server echoed.
    known = credentials.secret_values()
    try:
        who = await check(credentials, base_url)
    except CheckFailed as exc:
        raise CheckFailed(redact(str(exc), known=known)) from None
    return redact(who, 200, known=known)
