"""``hubbub audience audit|retention|expire|forget`` on a fixed audience."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from click.testing import CliRunner

from hubbub.cli import main
from hubbub.store import open_store
from hubbub.store.audience_repo import AudienceRepo
from hubbub.store.scope import scope
from tests.audience import audience_data as data


def _run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def _db(tmp_path: Path) -> str:
    db = str(tmp_path / "h.db")
    with open_store(db) as store:
        data.load(store)
    return db


def test_audit_json_csv_html(tmp_path: Path) -> None:
    db = _db(tmp_path)
    code, out, err = _run("audience", "audit", "brand-x", "--db", db)
    assert code == 0, err
    value = orjson.loads(out)
    assert value["totals"]["followers"] == 8
    assert value["totals"]["suspicious"] == 2
    assert value["accuracy"]["f1_suspicious_cv"] is not None
    code, out, err = _run("audience", "audit", "brand-x", "--format", "csv", "--db", db)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["handle"] for r in rows] == list(data.EXPECTED)
    assert {r["handle"]: r["class"] for r in rows} == {h: e[0] for h, e in data.EXPECTED.items()}
    code, out, err = _run("audience", "audit", "brand-x", "--format", "html", "--db", db)
    assert code == 0, err
    assert "Suspicious followers" in out and "@f7" in out
    code, _out, err = _run("audience", "audit", "nobody", "--db", db)
    assert code == 1 and "no finished follower snapshot" in err
    code, _out, err = _run("audience", "audit", "brand-x", "--window", "5y", "--db", db)
    assert code == 2


def test_hostile_text_is_escaped_and_csv_safe(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    with open_store(db) as store:
        repo = AudienceRepo(scope(store, "default"))
        snap = repo.open_snapshot("acct", "x", "followers", "1", "me")
        bad = replace(data.member("f1", True), handle="=cmd|x", name="<script>x</script>")
        repo.save_page(snap.id, [bad], None)
        repo.finish(snap.id, "done")
    code, out, _ = _run("audience", "audit", "acct", "--format", "csv", "--db", db)
    assert code == 0
    assert "'=cmd|x" in out
    code, out, _ = _run("audience", "audit", "acct", "--format", "html", "--db", db)
    assert "<script>x" not in out


def test_retention_expire_forget(tmp_path: Path) -> None:
    db = _db(tmp_path)
    code, out, _ = _run("audience", "retention", "--db", db)
    assert code == 0 and "90 days" in out
    code, out, _ = _run("audience", "retention", "--days", "30", "--x-cap", "5000", "--db", db)
    assert code == 0 and "30 days" in out and "5000" in out
    with open_store(db) as store:
        repo = AudienceRepo(scope(store, "default"))
        (snap,) = repo.snapshots()
        assert snap.expires_at - snap.started_at == timedelta(days=30)  # shortened in place
        assert repo.expire(datetime.now(UTC)) == 0
        assert repo.expire(datetime.now(UTC) + timedelta(days=31)) == 1
        assert repo.snapshots() == []
        data.snapshot(store, "default", ["f1", "f2"])
    code, out, _ = _run("audience", "forget", "brand-x", "--db", db)
    assert code == 0 and "1 snapshot" in out
    with open_store(db) as store:
        repo = AudienceRepo(scope(store, "default"))
        assert repo.snapshots() == []
        assert repo.member_ids(1) == set() and repo.member_ids(2) == set()
    code, _out, _ = _run("audience", "retention", "--x-cap", "lots", "--db", db)
    assert code == 2
