"""Shared by the follower tests: the three loopback servers' accounts, added
to a store as ``hubbub account add`` adds them."""

from __future__ import annotations

from hubbub.networks.secrets import load_box
from hubbub.store import Store
from hubbub.store.network_accounts import add_account
from tests.loopback.followers_server import BSKY_HANDLE, BSKY_PASSWORD, TOKEN

SECRETS = {
    "x": TOKEN,
    "bluesky": f"{BSKY_HANDLE}\n{BSKY_PASSWORD}",
    "mastodon": TOKEN,
}


def add_accounts(store: Store, urls: dict[str, str], workspace: str = "default") -> None:
    box = load_box(str(store.engine.url.render_as_string(hide_password=False)))
    for network, url in urls.items():
        add_account(
            store,
            box,
            workspace,
            network,
            f"brand-{network}",
            SECRETS[network],
            url if network != "x" else None,
        )
