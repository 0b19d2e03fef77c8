"""A new workspace's name is a URL-path-safe slug; old names keep working.

A workspace name is part of page addresses (``/w/NAME/rooms/TAG``). Names
such as ``a/b``, ``../x``, ``a?b``, ``w#1`` or ``acme `` were accepted when a
command created the workspace, and their public rooms could never be
reached. The rule (hubbub.store.workspace_names) is applied where the store
creates a workspace, so every command and the web share it; databases that
hold such names from before still read and write them. SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from hubbub.cli import main
from hubbub.store import open_store
from hubbub.store.api import WorkspaceNameError
from hubbub.store.schema import workspaces
from hubbub.store.workspace_names import check_new_workspace_name

PASSWORD = "correct horse battery"  # noqa: S105 - a test account


def hubbub(*args: str, password: bool = False) -> Result:
    return CliRunner().invoke(main, list(args), input=PASSWORD + "\n" if password else None)


def _create_user_in(db: str, workspace: str, name: str = "bob") -> Result:
    return hubbub(
        "user", "create", name, "--password-stdin", "--db", db, "--workspace", workspace,
        password=True,
    )  # fmt: skip


def _names(db: str) -> set[str]:
    with open_store(db) as store:
        return set(store.workspaces())


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("a/b", "'/' at position 2"),
        ("../x", "'/' at position 3"),
        ("a?b", "'?' at position 2"),
        ("w#1", "'#' at position 2"),
        ("acme ", "' ' at position 5"),
        (".", "starts with '.'"),
        ("..", "starts with '.'"),
        ("-rf", "starts with '-'"),
        ("a%2Fb", "'%' at position 2"),
        ("café", "'é' at position 4"),
        ("a\u202eb", "'\\u202e' at position 2"),
    ],
)
def test_a_name_no_url_can_hold_does_not_make_a_workspace(
    db_url: str, name: str, says: str
) -> None:
    done = _create_user_in(db_url, name)
    assert done.exit_code == 2, done.output
    line = done.output.strip().splitlines()[-1]
    assert "ASCII letters, digits, '-', '_' and '.'" in line and says in line
    assert name not in _names(db_url)
    # Listening (another command that names a workspace into being) is refused too.
    listened = hubbub("listen", "add", "q", "x", "--db", db_url, "--workspace", name)
    assert listened.exit_code == 2
    assert name not in _names(db_url)


@pytest.mark.parametrize("name", ["acme", "Acme-2.0_x", "1st", "w" * 100])
def test_slugs_make_workspaces(db_url: str, name: str) -> None:
    done = _create_user_in(db_url, name)
    assert done.exit_code == 0, done.output
    assert name in _names(db_url)


def test_a_name_differing_only_in_case_is_refused(db_url: str) -> None:
    assert _create_user_in(db_url, "acme").exit_code == 0
    done = _create_user_in(db_url, "ACME")
    assert done.exit_code == 2
    assert "workspace 'acme' exists and names differ only in case" in done.output
    assert _names(db_url) == {"acme"}


def test_workspaces_named_before_the_rule_keep_working(db_url: str) -> None:
    # A database made before the rule: its odd names were stored then.
    old = ["a/b", "acme ", "café"]
    with open_store(db_url) as store, store.engine.begin() as conn:
        for name in old:
            conn.execute(workspaces.insert().values(name=name, created_at=datetime.now(UTC)))
    for name in old:
        made = _create_user_in(db_url, name)
        assert made.exit_code == 0, made.output
        assert hubbub("user", "list", "--db", db_url, "--workspace", name).exit_code == 0
        searched = hubbub("search", "x", "--db", db_url, "--workspace", name)
        assert searched.exit_code == 0, searched.output
        added = hubbub("listen", "add", "q", "x", "--db", db_url, "--workspace", name)
        assert added.exit_code == 0, added.output
    assert _names(db_url) == set(old)


def test_the_rule_is_the_stores() -> None:
    # Library callers get the same refusal as the command line.
    with pytest.raises(WorkspaceNameError, match="'/' at position 2"):
        check_new_workspace_name("a/b")
    assert check_new_workspace_name("a.b-c_d") == "a.b-c_d"


def test_the_store_refuses_before_writing(db_url: str) -> None:
    with open_store(db_url) as store:
        with pytest.raises(WorkspaceNameError):
            store.workspace_id("x/y")
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(workspaces)).scalar() == 0
