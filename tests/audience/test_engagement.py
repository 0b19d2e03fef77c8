"""Engagement classes equal an independent (hand) count on a fixed set of
stored posts; the audit's totals, change and lists follow from them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hubbub.audience.audit import build_audit, follower_rows, parse_window
from hubbub.store import open_store
from hubbub.store.audience_repo import AudienceRepo
from hubbub.store.scope import scope
from tests.audience import audience_data as data


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


def test_classes_equal_the_hand_count(db_url: str) -> None:
    with open_store(db_url) as store:
        data.load(store)
        repo = AudienceRepo(scope(store, "default"))
        rows = list(follower_rows(repo, "brand-x", timedelta(days=90), now=data.NOW))
    got = {
        r.member.handle: (r.klass, r.replies, r.mentions, r.quotes, r.reposts, r.chats, r.answered)
        for r in rows
    }
    assert got == data.EXPECTED


def test_audit_totals_change_and_lists(db_url: str) -> None:
    with open_store(db_url) as store:
        data.load(store, handles=["f1", "f2", "f3", "f6", "f7"])
        # A later snapshot: f6 and f7 left, f4, f5 and f8 came.
        data.snapshot(store, "default", ["f1", "f2", "f3", "f4", "f5", "f8"])
        repo = AudienceRepo(scope(store, "default"))
        audit = build_audit(repo, "brand-x", timedelta(days=90), now=data.NOW)
    assert audit.totals == {
        "followers": 6,
        "engaged": 3,
        "active": 2,
        "passive": 1,
        "suspicious": 1,
        "declared_bots": 0,
        "unscored": 0,
    }
    assert (audit.gained, audit.lost) == (3, 2)
    assert [r.member.handle for r in audit.suspicious] == ["f8"]
    assert {r.member.handle for r in audit.top_engaged} == {"f1", "f2", "f3", "f4", "f5"}
    assert audit.as_json()["accuracy"]["f1_suspicious_cv"] is not None  # type: ignore[index]


def test_other_workspace_sees_nothing(sqlite_url: str) -> None:
    from hubbub.audience.audit import AuditError

    with open_store(sqlite_url) as store:
        data.load(store)
        other = AudienceRepo(scope(store, "other"))
        with pytest.raises(AuditError):
            build_audit(other, "brand-x", timedelta(days=90))
        assert other.snapshots() == []


def test_window_parsing() -> None:
    assert parse_window("90d") == timedelta(days=90)
    assert parse_window("12w") == timedelta(days=84)
    for bad in ("0d", "90", "d", "99999d", "-1d", "1y"):
        with pytest.raises(ValueError):
            parse_window(bad)
