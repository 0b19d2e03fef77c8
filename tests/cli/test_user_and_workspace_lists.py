"""``hubbub user list`` and ``hubbub workspace list``: an operator sees who
has an account (role, when made, last sign-in, live sessions) and which
workspaces the database holds, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from hubbub.cli import main
from hubbub.listen import add_query
from hubbub.networks.secrets import load_box, new_key_text
from hubbub.post import Author, Deletion, Post
from hubbub.store import Ingest, open_store
from hubbub.store.audit import AuditLog
from hubbub.store.network_accounts import add_account
from hubbub.store.schema import workspaces
from hubbub.store.scope import scope
from hubbub.store.user_admin import UserAdmin
from hubbub.web.accounts import create_user
from hubbub.web.user_sessions import SessionPolicy, start_session

PASSWORD = "correct horse battery"  # noqa: S105 - a test account
# A right-to-left override: legal in a user name, and able to reverse what a
# terminal shows after it.
RLO = "\u202e"


def hubbub(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def as_json(result: Result) -> list[dict[str, object]]:
    assert result.exit_code == 0, result.output
    found = orjson.loads(result.stdout)
    assert isinstance(found, list)
    return found


def _sign_in(db: str, workspace: str, user_id: int, now: datetime) -> None:
    with open_store(db) as store:
        start_session(store, workspace, user_id, now=now, policy=SessionPolicy())


def test_users_are_listed_with_role_sign_in_and_live_sessions(db_url: str) -> None:
    now = datetime.now(UTC)
    with open_store(db_url) as store:
        ann = create_user(store, "default", "ann", PASSWORD)
        bob = create_user(store, "default", "bob", PASSWORD, role="viewer")
        create_user(store, "default", "cy", PASSWORD, role="agent")
        create_user(store, "acme", "ann", PASSWORD, role="agent")
        # An earlier "cy" signed in, was deleted and made again: that sign-in
        # is not the new cy's.
        AuditLog(scope(store, "default")).record("cy", "signin", at=now - timedelta(days=400))
        # ann signed in a week ago by the audit log; her sessions are newer.
        AuditLog(scope(store, "default")).record("ann", "signin", at=now - timedelta(days=7))
    _sign_in(db_url, "default", ann.id, now)
    _sign_in(db_url, "default", ann.id, now)
    # bob's only session went idle two days ago: a sign-in, but not live.
    _sign_in(db_url, "default", bob.id, now - timedelta(days=2))

    listed = as_json(hubbub("user", "list", "--db", db_url, "--json"))
    assert [(u["name"], u["role"], u["live_sessions"]) for u in listed] == [
        ("ann", "owner", 2),
        ("bob", "viewer", 0),
        ("cy", "agent", 0),
    ]
    assert {u["workspace"] for u in listed} == {"default"}
    signed = {str(u["name"]): u["last_sign_in"] for u in listed}
    assert signed["cy"] is None
    assert str(signed["bob"]).startswith((now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    assert str(signed["ann"]).startswith(now.strftime("%Y-%m-%dT%H:%M"))
    assert all(str(u["created_at"]).endswith("Z") for u in listed)

    everyone = as_json(hubbub("user", "list", "--db", db_url, "--all-workspaces", "--json"))
    assert [(u["workspace"], u["name"], u["role"]) for u in everyone] == [
        ("acme", "ann", "agent"),
        ("default", "ann", "owner"),
        ("default", "bob", "viewer"),
        ("default", "cy", "agent"),
    ]
    acme = as_json(hubbub("user", "list", "--db", db_url, "--workspace", "acme", "--json"))
    assert [(u["name"], u["live_sessions"], u["last_sign_in"]) for u in acme] == [("ann", 0, None)]

    table = hubbub("user", "list", "--db", db_url)
    assert table.exit_code == 0, table.output
    rows = {line.split("│")[1].strip(): line for line in table.output.splitlines() if "│" in line}
    assert set(rows) == {"ann", "bob", "cy"}
    assert "owner" in rows["ann"] and now.strftime("%Y-%m-%d") in rows["ann"]
    assert rows["cy"].split("│")[4].strip() == "-"  # never signed in


def test_a_sign_in_of_a_deleted_user_of_the_same_name_is_not_shown(db_url: str) -> None:
    with open_store(db_url) as store:
        create_user(store, "default", "owner1", PASSWORD)
        first = create_user(store, "default", "dee", PASSWORD, role="agent")
    _sign_in(db_url, "default", first.id, datetime.now(UTC))
    with open_store(db_url) as store:
        AuditLog(scope(store, "default")).record("dee", "signin")
        assert UserAdmin(scope(store, "default")).delete("dee") == "agent"
        create_user(store, "default", "dee", PASSWORD, role="viewer")
    listed = as_json(hubbub("user", "list", "--db", db_url, "--json"))
    assert [(u["name"], u["role"], u["last_sign_in"]) for u in listed] == [
        ("dee", "viewer", None),
        ("owner1", "owner", None),
    ]


def test_hostile_names_reach_the_table_as_plain_text(db_url: str) -> None:
    with open_store(db_url) as store:
        # A new workspace cannot have such a name (hubbub.store.workspace_names):
        # it is one a database made before that rule may hold.
        with store.engine.begin() as conn:
            conn.execute(
                workspaces.insert().values(name=f"bidi{RLO}ws", created_at=datetime.now(UTC))
            )
        create_user(store, f"bidi{RLO}ws", f"eve{RLO}lin", PASSWORD)
    db = db_url
    for args in (
        ("user", "list", "--db", db, "--all-workspaces"),
        ("user", "list", "--db", db, "--workspace", f"bidi{RLO}ws"),
        ("workspace", "list", "--db", db),
    ):
        shown = hubbub(*args)
        assert shown.exit_code == 0, shown.output
        assert RLO not in shown.output
        assert "\x1b" not in shown.output
    listed = hubbub("user", "list", "--db", db, "--all-workspaces")
    assert "eve\ufffdlin" in listed.output and "bidi\ufffdws" in listed.output
    # JSON is data: the name as stored, for scripts to compare.
    data = as_json(hubbub("user", "list", "--db", db, "--all-workspaces", "--json"))
    assert data[0]["name"] == f"eve{RLO}lin"


def test_workspaces_are_listed_with_their_counts(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUBBUB_ACCOUNTS_KEY", new_key_text())
    author = Author("x", "id-1", "alice", "Alice")
    when = datetime(2024, 5, 1, 12, tzinfo=UTC)
    with open_store(db_url) as store:
        store.ingest(
            [Ingest(Post("x", str(n), author, f"post {n}", when)) for n in range(5)],
            workspace="acme",
        )
        store.ingest([Ingest(Deletion("x", "4"))], workspace="acme")  # search no longer finds it
        store.ingest([Ingest(Post("x", "1", author, "the same id", when))], workspace="beta")
        create_user(store, "acme", "ann", PASSWORD)
        create_user(store, "acme", "bob", PASSWORD, role="viewer")
        add_account(store, load_box(db_url), "acme", "x", "shop", "token-value")
        add_query(store, "brand", "post", workspace="acme")
        add_query(store, "other", "same", workspace="beta")
        add_query(store, "third", "id", workspace="beta")

    found = as_json(hubbub("workspace", "list", "--db", db_url, "--json"))
    counts = {w["name"]: (w["users"], w["posts"], w["accounts"], w["saved_queries"]) for w in found}
    # "default" is there only if something made it; every other count is exact.
    counts.pop("default", None)
    assert counts == {"acme": (2, 4, 1, 1), "beta": (0, 1, 0, 2)}
    assert all(str(w["created_at"]).endswith("Z") for w in found)

    table = hubbub("workspace", "list", "--db", db_url)
    assert table.exit_code == 0, table.output
    cells = {
        cols[0]: cols[2:]
        for line in table.output.splitlines()
        if "│" in line
        for cols in [[c.strip() for c in line.split("│")[1:-1]]]
    }
    # After the name and the created time: the time zone, then the counts.
    assert cells["acme"] == ["UTC", "2", "4", "1", "1"]
    assert cells["beta"] == ["UTC", "0", "1", "0", "2"]


def test_a_mistyped_workspace_or_a_missing_database_is_an_error(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    assert hubbub("user", "list", "--db", db).exit_code == 1  # no database yet
    assert hubbub("workspace", "list", "--db", db).exit_code == 1
    with open_store(db) as store:
        store.workspace_id("acme")
    wrong = hubbub("user", "list", "--db", db, "--workspace", "acmee")
    assert wrong.exit_code == 2 and "no workspace named 'acmee'" in wrong.output
    both = hubbub("user", "list", "--db", db, "--workspace", "acme", "--all-workspaces")
    assert both.exit_code == 2 and "not both" in both.output
    # The default workspace has no row until something is written to it:
    # it lists as empty, and listing it creates nothing.
    empty = hubbub("user", "list", "--db", db)
    assert empty.exit_code == 0 and "has no users" in empty.output
    assert as_json(hubbub("user", "list", "--db", db, "--json")) == []
    names = [w["name"] for w in as_json(hubbub("workspace", "list", "--db", db, "--json"))]
    assert names == ["acme"]
