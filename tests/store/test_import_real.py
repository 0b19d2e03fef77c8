"""Every real payload file imports with the right posts, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubbub.store import open_store
from hubbub.transfer.importer import import_paths
from tests.conftest import PAYLOADS, require_shared_data
from tests.store.expected_counts import live_post_ids

# Metadata about a capture (which relay, how many frames), not a payload.
NOT_PAYLOADS = {"manifest.corpus.json"}


def payload_files() -> list[Path]:
    if not PAYLOADS.is_dir():
        return []
    return sorted(
        p
        for p in PAYLOADS.rglob("*")
        if p.suffix in (".json", ".jsonl", ".sse") and p.name not in NOT_PAYLOADS
    )


@pytest.mark.parametrize("path", payload_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_each_file_imports_its_unique_posts(path: Path, sqlite_url: str) -> None:
    require_shared_data()
    with open_store(sqlite_url) as store:
        report = import_paths(store, [str(path)])
        stored = {post.id for post in store.iter_posts()}
    expected = live_post_ids(path)
    assert stored == expected
    if path.name == "streaming_output_with_error.jsonl":
        assert report.rejected == 1
        assert report.errors == [
            {"file": str(path), "line": 8, "reason": report.errors[0]["reason"]}
        ]
        assert "invalid JSON" in report.errors[0]["reason"]
    else:
        assert report.rejected == 0, report.errors


def test_payload_folder_is_not_empty() -> None:
    require_shared_data()
    assert len(payload_files()) >= 40


def test_everything_twice_adds_nothing(db_url: str) -> None:
    require_shared_data()
    files = [str(p) for p in payload_files()]
    with open_store(db_url) as store:
        first = import_paths(store, files)
        total = store.count()
        second = import_paths(store, files)
        assert store.count() == total
    assert first.counts.imported > 1500
    assert second.counts.imported == 0
    assert second.counts.updated == 0
    assert second.rejected == first.rejected == 1
    expected = set().union(*(live_post_ids(Path(f)) for f in files))
    assert total == len(expected)


def test_manifest_is_rejected_with_a_reason(sqlite_url: str) -> None:
    require_shared_data()
    manifest = PAYLOADS / "bluesky_jetstream" / "manifest.corpus.json"
    with open_store(sqlite_url) as store:
        report = import_paths(store, [str(manifest)])
    assert report.rejected == 1
    assert report.errors[0]["line"] == 1
    assert "not a recognised" in report.errors[0]["reason"]
