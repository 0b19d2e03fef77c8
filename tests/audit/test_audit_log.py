"""The audit log repository on SQLite and PostgreSQL (the ``store`` fixture
runs each test on both)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hubbub.store.audit import (
    ACTIONS,
    MAX_ACTOR,
    MAX_TARGET,
    AuditLog,
    record_failed_signin,
)
from hubbub.store.scope import scope


def test_record_and_read_back(store) -> None:
    log = AuditLog(scope(store, "default"))
    t0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    first = log.record("cli:ana", "user_created", target="bob", detail={"role": "agent"}, at=t0)
    second = log.record("bob", "signin", address="192.0.2.7", at=t0 + timedelta(hours=1))
    assert second > first
    newest = log.page()
    assert [e.id for e in newest] == [second, first]
    entry = newest[1]
    assert (entry.actor, entry.action, entry.target) == ("cli:ana", "user_created", "bob")
    assert entry.detail == {"role": "agent"}
    assert entry.at == t0
    assert newest[0].address == "192.0.2.7"
    assert newest[0].as_json()["at"] == "2026-11-01T13:00:00Z"


def test_since_action_and_paging(store) -> None:
    log = AuditLog(scope(store, "default"))
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    ids = [
        log.record("ana", "signin" if i % 2 else "export", at=t0 + timedelta(days=i))
        for i in range(7)
    ]
    assert [e.id for e in log.page(since=t0 + timedelta(days=5))] == [ids[6], ids[5]]
    assert [e.id for e in log.page(action="signin")] == [ids[5], ids[3], ids[1]]
    page1 = log.page(limit=3)
    page2 = log.page(limit=3, before=page1[-1].id)
    page3 = log.page(limit=3, before=page2[-1].id)
    assert [e.id for e in page1 + page2 + page3] == list(reversed(ids))
    assert [e.id for e in log.iter_since(t0 + timedelta(days=2), batch=2)] == ids[2:]
    assert [e.id for e in log.iter_since(action="export", batch=1)] == ids[0::2]


def test_workspaces_see_only_their_own(store) -> None:
    a = AuditLog(scope(store, "a"))
    b = AuditLog(scope(store, "b"))
    a.record("ana", "signin")
    b.record("bea", "export")
    assert [e.actor for e in a.page()] == ["ana"]
    assert [e.actor for e in b.iter_since()] == ["bea"]


def test_hostile_text_is_cleaned_and_cut(store) -> None:
    log = AuditLog(scope(store, "default"))
    log.record(
        "x\x00\x1b[31m" + "a" * 500,
        "signin_failed",
        target="t\u202e" + "b" * 500,
        detail={"q": "<script>\x00" + "c" * 500},
        address="\x07" * 100,
    )
    (e,) = log.page()
    assert len(e.actor) == MAX_ACTOR and e.actor.startswith("x\ufffd\ufffd[31m")
    assert e.actor.endswith("…")
    assert e.target is not None and len(e.target) == MAX_TARGET
    assert "\u202e" not in e.target
    assert isinstance(e.detail["q"], str) and e.detail["q"].startswith("<script>\ufffd")
    assert e.address is not None and len(e.address) == 64


def test_closed_actions_and_no_secrets(store) -> None:
    log = AuditLog(scope(store, "default"))
    with pytest.raises(ValueError, match="unknown audit action"):
        log.record("ana", "sign_in")
    with pytest.raises(ValueError, match="secret"):
        log.record("ana", "password_changed", detail={"new_password": "hunter22"})
    with pytest.raises(ValueError, match="aware"):
        log.record("ana", "signin", at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="keys"):
        log.record("ana", "export", detail={f"k{i}": i for i in range(50)})
    assert log.page() == []
    assert {"signin", "signin_failed", "role_changed", "export"} <= ACTIONS


def test_failed_signin_goes_to_named_workspace_or_default(store) -> None:
    scope(store, "acme")
    record_failed_signin(store, "acme", "mallory", address="198.51.100.1")
    record_failed_signin(store, "nowhere", "eve" * 100)
    record_failed_signin(store, "bad\x00name", "eve")
    record_failed_signin(store, None, "carol")
    (acme,) = AuditLog(scope(store, "acme")).page()
    assert (acme.actor, acme.action, acme.detail) == ("mallory", "signin_failed", {})
    default = AuditLog(scope(store, "default")).page()
    assert [e.detail.get("workspace") for e in default] == [None, "bad\ufffdname", "nowhere"]
    assert len(default[2].actor) == MAX_ACTOR
    # A sign-in form never creates a workspace.
    assert "nowhere" not in store.workspaces()


def test_failed_signin_falls_back_to_the_servers_workspace_not_default(store) -> None:
    # A server run with --workspace acme: a probe naming an unknown workspace
    # lands with acme's owners, and creates neither that workspace nor "default".
    scope(store, "acme")
    record_failed_signin(store, "nosuchws", "eve", fallback="acme")
    (event,) = AuditLog(scope(store, "acme")).page()
    assert (event.actor, event.detail) == ("eve", {"workspace": "nosuchws"})
    assert store.workspaces() == ["acme"]
