"""A profile with no post or follower counts (a Bluesky typeahead result, a
bare profile view) gets no score, not the safest one: suspicion null and
suspicious null ("unknown") in JSON, an empty cell and ``unknown`` in CSV,
"not scored" on pages; and the audit counts those followers apart
(``unscored``) instead of counting them as genuine.

On the real typeahead payload (shared data), through the command line and
through a stored follower snapshot on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import orjson

from hubbub.audience.audit import build_audit, follower_rows
from hubbub.audience.bot_model import score
from hubbub.audience.csv_export import write_follower_csv
from hubbub.audience.fetch import member_from
from hubbub.audience.profile import profile_from_object
from hubbub.audience.render import render_html
from hubbub.store import open_store
from hubbub.store.audience_repo import AudienceRepo
from hubbub.store.scope import scope
from tests.audience import audience_data as data
from tests.conftest import require_shared_data


def _typeahead() -> Path:
    return require_shared_data() / "payloads/bluesky_xrpc/app.bsky.actor.searchActorsTypeahead.json"


def _actors() -> list[dict[str, object]]:
    actors = orjson.loads(_typeahead().read_bytes())["actors"]
    assert len(actors) == 10
    return list(actors)


def _score(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "hubbub.cli", "audience", "score", *args],
        capture_output=True,
        check=False,
        timeout=120,
    )


def test_a_profile_without_counts_has_no_score() -> None:
    bare = profile_from_object(_actors()[0], data.NOW)
    assert bare is not None
    result = score(bare)
    assert (result.suspicion, result.suspicious) == (None, None)
    assert result.reasons == ("not enough public data to score (no post or follower counts)",)
    # The network's own bot label needs no counts: suspicious, still no score.
    labelled = dict(_actors()[0], labels=[{"val": "bot", "src": "did:plc:x"}])
    bot = profile_from_object(labelled, data.NOW)
    assert bot is not None and bot.declared_bot, "the payload's label shape is read"
    result = score(bot)
    assert result.suspicion is None and result.suspicious is True


def test_the_command_prints_null_and_unknown_and_says_how_many() -> None:
    proc = _score(str(_typeahead()))
    assert proc.returncode == 0, proc.stderr
    rows = [orjson.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == 10
    for row in rows:  # the same keys as a scored row, null where unknown
        assert set(row) == {"network", "id", "handle", "suspicion", "suspicious", "reasons"}
        assert row["suspicion"] is None and row["suspicious"] is None
    assert b"10 of 10 accounts could not be scored" in proc.stderr

    proc = _score("--format", "csv", str(_typeahead()))
    assert proc.returncode == 0, proc.stderr
    table = list(csv.DictReader(io.StringIO(proc.stdout.decode())))
    assert len(table) == 10
    assert {(r["suspicion"], r["suspicious"]) for r in table} == {("", "unknown")}


def test_the_audit_counts_unscored_followers_apart(db_url: str) -> None:
    with open_store(db_url) as store:
        data.load(store)  # eight scored X followers, f7 and f8 suspicious
        repo = AudienceRepo(scope(store, "default"))
        snap = repo.open_snapshot("brand-x", "x", "followers", data.ACCOUNT_ID, data.ACCOUNT)
        scored = [data.member(h, h in data.SUSPICIOUS) for h in data.EXPECTED]
        bare = [member_from(a, data.NOW) for a in _actors()]
        assert all(m is not None and m.suspicion is None for m in bare)
        repo.save_page(snap.id, [*scored, *[m for m in bare if m is not None]], None)
        repo.finish(snap.id, "done")
        audit = build_audit(repo, "brand-x", timedelta(days=90), now=data.NOW)
        out = io.StringIO()
        write_follower_csv(out, follower_rows(repo, "brand-x", timedelta(days=90), now=data.NOW))
        # Read back from the store: not scored, not 0.0 / false.
        members = {m.handle: m for m in repo.iter_members(snap.id)}
    assert members["bjpols.bsky.social"].suspicion is None
    assert members["bjpols.bsky.social"].suspicious is None
    assert members["f8"].suspicion == 0.9 and members["f8"].suspicious is True

    assert audit.totals["followers"] == 18
    assert audit.totals["suspicious"] == 2
    assert audit.totals["unscored"] == 10
    shown = audit.as_json()
    assert shown["shares"]["unscored"] == round(10 / 18, 4)  # type: ignore[index]
    assert any("10 of 18 followers could not be scored" in n for n in shown["notes"])  # type: ignore[attr-defined]

    table = {r["handle"]: r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    assert (
        table["bjpols.bsky.social"]["suspicion"],
        table["bjpols.bsky.social"]["suspicious"],
    ) == (
        "",
        "unknown",
    )
    assert (table["f8"]["suspicion"], table["f8"]["suspicious"]) == ("0.9000", "true")
    assert (table["f1"]["suspicion"], table["f1"]["suspicious"]) == ("0.1000", "false")

    page = render_html(audit)
    assert 'data-total="unscored">10<' in page
    assert "Not scored (no post or follower counts)" in page


def test_a_snapshot_without_unscored_followers_says_nothing_of_them(sqlite_url: str) -> None:
    with open_store(sqlite_url) as store:
        data.load(store)
        audit = build_audit(
            AudienceRepo(scope(store, "default")), "brand-x", timedelta(days=90), now=data.NOW
        )
    assert audit.totals["unscored"] == 0
    assert len(audit.as_json()["notes"]) == 1  # type: ignore[arg-type]
    assert 'data-total="unscored"' not in render_html(audit)
