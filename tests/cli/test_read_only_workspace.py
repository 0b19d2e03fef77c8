"""Commands that only read refuse a mistyped ``--workspace`` (exit 2, naming
it) instead of creating an empty workspace and answering "nothing", as
``hubbub audit`` does; on both databases, the workspaces table unchanged."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from hubbub.cli import main
from hubbub.networks.secrets import ENV_KEY, new_key_text
from hubbub.store import open_store

READ_ONLY = [
    ("search", "#tag"),
    ("export",),
    ("export", "#tag", "--format", "csv"),
    ("report", "#tag"),
    ("recap", "tag"),
    ("listen", "list"),
    ("inbox", "list"),
    ("inbox", "show", "1"),
    ("inbox", "report"),
    ("inbox", "rule", "list"),
    ("inbox", "saved", "list"),
    ("audience", "audit", "someone"),
    ("account", "list"),
    ("sources", "status"),
    ("outbox", "list"),
    ("user", "sessions", "ana"),
    # "Show or set" commands, when they only show:
    ("inbox", "agent"),
    ("inbox", "hours"),
    ("audience", "retention"),
]


def _workspaces(db_url: str) -> list[str]:
    with open_store(db_url) as store, store.engine.connect() as conn:
        return sorted(conn.execute(sa.text("SELECT name FROM workspaces")).scalars())


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_a_read_only_command_refuses_a_missing_workspace(
    db_url: str, args: tuple[str, ...]
) -> None:
    with open_store(db_url) as store:
        store.workspace_id("default")  # the database exists, with its default workspace
    before = _workspaces(db_url)
    result = CliRunner().invoke(
        main, [*args, "--workspace", "typo-ws", "--db", db_url], env={ENV_KEY: new_key_text()}
    )
    assert result.exit_code == 2, result.output
    assert "no workspace named 'typo-ws'" in result.output
    assert "Traceback" not in result.output
    assert _workspaces(db_url) == before == ["default"]


def test_a_write_that_creates_a_workspace_says_so(db_url: str) -> None:
    """A mistyped --workspace on a write became a new, empty workspace without a
    word (the read commands refuse one that does not exist)."""

    def listen_add(name: str, *workspace: str) -> str:
        result = CliRunner().invoke(
            main, ["listen", "add", name, "acme", *workspace, "--db", db_url]
        )
        assert result.exit_code == 0, result.output
        return result.stderr

    assert "created workspace 'acmee' (it did not exist)" in listen_add("a", "--workspace", "acmee")
    assert "created workspace" not in listen_add("b", "--workspace", "acmee")
    assert "created workspace" not in listen_add("c")  # the default is always there
    assert _workspaces(db_url) == ["acmee", "default"]
