"""More hashtags than Mastodon follows without named sources: the first 20
every time ``auto_specs`` runs (the runtime reads them again every 30 s),
and the warning once per count rather than on every read."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hubbub.listen.saved import add_query
from hubbub.sources.mastodon import AUTO_TAG_LIMIT, auto_specs
from hubbub.store import Store, open_store
from hubbub.store.network_accounts import AccountInfo


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'hubbub.db'}")
    yield s
    s.close()


def test_over_the_limit_is_cut_every_time_and_warned_once_per_count(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    workspace = f"tags{id(store)}"  # the warning memory is per workspace name
    for n in range(AUTO_TAG_LIMIT + 3):
        add_query(store, f"q{n}", f"#tag{n:02d}", workspace=workspace)
    account = AccountInfo(
        "toot", "mastodon", "http://127.0.0.1:8081", datetime.now(UTC), None, None
    )
    caplog.set_level(logging.WARNING, logger="hubbub.sources.mastodon")
    first = auto_specs(store, workspace, [account])
    again = auto_specs(store, workspace, [account])
    assert first == again and len(first) == AUTO_TAG_LIMIT
    assert first[0] == "mastodon:tag:tag00@http://127.0.0.1:8081?account=toot"
    warned = [r.getMessage() for r in caplog.records if "following the first" in r.getMessage()]
    assert warned == [
        f"mastodon: following the first 20 of {AUTO_TAG_LIMIT + 3} hashtags; name sources for the rest"
    ]

    add_query(store, "one_more", "#tag99", workspace=workspace)
    assert len(auto_specs(store, workspace, [account])) == AUTO_TAG_LIMIT
    warned = [r.getMessage() for r in caplog.records if "following the first" in r.getMessage()]
    assert len(warned) == 2 and f"of {AUTO_TAG_LIMIT + 4} hashtags" in warned[1]
