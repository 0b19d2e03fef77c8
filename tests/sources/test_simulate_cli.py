"""``hubbub simulate`` writes JSONL that ``hubbub import`` reads back in full."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from hubbub.cli import main
from hubbub.store import open_store


def test_simulate_makes_an_import_file(tmp_path: Path) -> None:
    runner = CliRunner()
    args = [
        "simulate",
        "hubchat",
        "--limit",
        "60",
        "--seed",
        "4",
        "--start",
        "2025-01-01T00:00:00Z",
    ]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert first.stdout_bytes == runner.invoke(main, args).stdout_bytes  # deterministic
    path = tmp_path / "chat.jsonl"
    path.write_bytes(first.stdout_bytes)
    assert len(path.read_bytes().splitlines()) == 60
    db = tmp_path / "h.db"
    result = runner.invoke(main, ["import", str(path), "--db", str(db)])
    assert result.exit_code == 0, result.output
    with open_store(str(db)) as store:
        assert store.count() == 60
        assert {p.network for p in store.search(limit=None)} == {"x", "bluesky", "mastodon"}


def test_simulate_rejects_a_bad_tag() -> None:
    result = CliRunner().invoke(main, ["simulate", "", "--limit", "1"])
    assert result.exit_code != 0
