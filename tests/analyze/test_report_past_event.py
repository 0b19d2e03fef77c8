"""A report on an imported past event covers all its posts, whatever else the workspace holds."""

from __future__ import annotations

from datetime import timedelta

from hubbub.analyze import Selection, build_report
from hubbub.store import Store
from hubbub.transfer.importer import import_paths
from tests.conftest import require_shared_data


def test_report_on_an_imported_past_event_covers_all_its_posts(store: Store) -> None:
    payloads = require_shared_data() / "payloads"
    # A Brexit search collected in September 2021, and a Mastodon tag timeline
    # from 2026 that makes the workspace's newest post years younger than the event.
    import_paths(
        store,
        [
            str(payloads / "x_v2_twarc2" / "brexit.jsonl"),
            str(payloads / "mastodon" / "localhost_api_v1_timelines_tag_hoot.json"),
        ],
    )
    matching = store.search("#brexit", limit=None)
    assert len(matching) > 20
    newest = max(p.created_at for p in matching)
    assert max(p.created_at for p in store.iter_posts()) - newest > timedelta(days=300)
    report = build_report(store, Selection("query", "#brexit"))
    assert report["period"]["window"] == "all"
    assert report["mentions"] == len(matching)
    assert report["reposts"] == sum(1 for p in matching if p.repost_of)
    # The 24-hour figures end just after the event's newest post, not the workspace's.
    assert report["strength"]["window"]["until"].startswith(newest.strftime("%Y-%m-%dT%H:%M:%S"))
    assert report["strength"]["mentions"] > 0
