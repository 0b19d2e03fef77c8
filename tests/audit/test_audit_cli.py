"""``hubbub audit`` and the audit hooks of the other commands, on SQLite and
PostgreSQL: each command that changes users, accounts or saved queries, or
carries data out, leaves one event; refused commands leave none."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from click.testing import CliRunner, Result

from hubbub.cli import main
from hubbub.networks.secrets import ENV_KEY, new_key_text
from hubbub.store import open_store
from hubbub.store.audit import AuditLog
from hubbub.store.scope import scope

PASSWORD = "correct horse battery"  # noqa: S105 - a test account
ACTOR = f"cli:{getpass.getuser()}"


@pytest.fixture
def cli(db_url: str):
    key = new_key_text()

    def run(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(main, [*args, "--db", db_url], input=stdin, env={ENV_KEY: key})

    return run


def events(cli, *extra: str) -> list[dict]:  # noqa: ANN001
    result = cli("audit", "--format", "jsonl", *extra)
    assert result.exit_code == 0, result.output
    return [orjson.loads(line) for line in result.output.splitlines()]


def brief(found: list[dict]) -> list[tuple[str, str | None]]:
    return [(e["action"], e["target"]) for e in found]


def test_user_commands_are_audited(cli) -> None:  # noqa: ANN001
    assert cli("user", "create", "ana", "--password-stdin", stdin=PASSWORD).exit_code == 0
    made = cli("user", "create", "bob", "--role", "viewer", "--password-stdin", stdin=PASSWORD)
    assert made.exit_code == 0, made.output
    assert cli("user", "password", "bob", "--password-stdin", stdin=PASSWORD + "!").exit_code == 0
    role = cli("user", "role", "bob", "agent")
    assert role.exit_code == 0 and "viewer → agent" in role.output
    assert cli("user", "role", "bob", "agent").exit_code == 0  # no change: no event
    # Refused: no such user, the only owner demoted or deleted, no confirmation.
    assert cli("user", "role", "nobody", "owner").exit_code == 1
    last = cli("user", "role", "ana", "viewer")
    assert last.exit_code == 1 and "only owner" in last.output
    assert cli("user", "delete", "ana", "--yes").exit_code == 1
    assert cli("user", "delete", "bob", stdin="n\n").exit_code == 1
    assert cli("user", "delete", "bob", "--yes").exit_code == 0
    found = events(cli)
    assert brief(found) == [
        ("user_created", "ana"),
        ("user_created", "bob"),
        ("password_changed", "bob"),
        ("role_changed", "bob"),
        ("user_deleted", "bob"),
    ]
    assert {e["actor"] for e in found} == {ACTOR}
    assert found[1]["detail"] == {"role": "viewer"}
    assert found[3]["detail"] == {"from": "viewer", "to": "agent"}
    assert found[4]["detail"] == {"role": "agent"}
    # No password in any event, in any form.
    assert PASSWORD not in cli("audit", "--format", "jsonl").output
    # The deleted user is gone; a role can go to a new owner, then the old one can leave.
    assert cli("user", "role", "bob", "owner").exit_code == 1
    assert cli("user", "create", "cy", "--password-stdin", stdin=PASSWORD).exit_code == 0
    assert cli("user", "role", "ana", "viewer").exit_code == 0


def test_accounts_saved_queries_and_exports_are_audited(cli) -> None:  # noqa: ANN001
    added = cli(
        "account", "add", "mastodon", "--name", "main", "--server", "m.example", stdin="t\n"
    )
    assert added.exit_code == 0, added.output
    assert cli("account", "remove", "main").exit_code == 0
    assert cli("account", "remove", "main").exit_code == 1  # nothing to remove: no event
    assert cli("listen", "add", "brand", "#hubbub").exit_code == 0
    assert cli("export", "--format", "csv", "#hubbub").exit_code == 0
    assert cli("report", "--saved", "brand").exit_code == 0
    assert cli("listen", "remove", "brand").exit_code == 0
    assert cli("listen", "remove", "brand").exit_code == 2
    found = events(cli)
    assert brief(found) == [
        ("account_connected", "main"),
        ("account_removed", "main"),
        ("saved_query_created", "brand"),
        ("export", "stdout"),
        ("export", "stdout"),
        ("saved_query_deleted", "brand"),
    ]
    assert found[0]["detail"] == {"network": "mastodon", "server": "https://m.example"}
    assert found[3]["detail"] == {"format": "csv", "query": "#hubbub", "posts": 0}
    assert found[4]["detail"] == {"command": "report", "format": "json", "saved": "brand"}
    assert [e["action"] for e in events(cli, "--action", "export")] == ["export", "export"]


def test_since_filters_and_bad_since_is_a_clear_usage_error(cli, db_url: str) -> None:  # noqa: ANN001
    with open_store(db_url) as store:
        log = AuditLog(scope(store, "default"))
        log.record("ana", "signin", at=datetime(2026, 11, 1, 8, 0, tzinfo=UTC))
        log.record("ana", "signout", at=datetime(2026, 11, 2, 8, 0, tzinfo=UTC))
        log.record("bob", "signin", at=datetime.now(UTC) - timedelta(minutes=5))
    assert [e["actor"] for e in events(cli, "--since", "2026-11-02")] == ["ana", "bob"]
    assert [e["action"] for e in events(cli, "--since", "2026-11-01T09:00Z")][0] == "signout"
    assert [e["actor"] for e in events(cli, "--since", "1h")] == ["bob"]
    for bad in ("yesterday", "7y", "2026-13-01", "999999w"):
        result = cli("audit", "--since", bad)
        assert result.exit_code == 2, (bad, result.output)
        assert "--since" in result.output and "Traceback" not in result.output
    assert "expected a date (2026-11-30)" in cli("audit", "--since", "yesterday").output
    missing = cli("audit", "--workspace", "nowhere")
    assert missing.exit_code == 2 and "no workspace named 'nowhere'" in missing.output


def test_table_shows_events_and_keeps_hostile_text_inert(cli, db_url: str) -> None:  # noqa: ANN001
    with open_store(db_url) as store:
        AuditLog(scope(store, "default")).record(
            "[bold]eve[/bold]",
            "signin_failed",
            detail={"workspace": "\x1b]0;pwned\x07acme"},
            address="203.0.113.9",
            at=datetime(2026, 11, 30, 7, 5, 9, tzinfo=UTC),
        )
    result = CliRunner().invoke(
        main, ["audit", "--db", db_url], env={"COLUMNS": "200"}, terminal_width=200
    )
    assert result.exit_code == 0, result.output
    assert "2026-11-30 07:05:09" in result.output
    assert "[bold]eve[/bold]" in result.output  # printed as text, not read as Rich markup
    assert "signin_failed" in result.output and "203.0.113.9" in result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "1 events" in result.output


def test_recap_is_audited_as_an_export(cli, db_url: str, tmp_path) -> None:  # noqa: ANN001
    from hubbub.post import Author, Post
    from hubbub.store import Ingest

    at = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
    post = Post(
        "x",
        "1001",
        Author("x", "id-ann", "ann"),
        "Q1: why? #pizzachat",
        at,
        hashtags=("pizzachat",),
    )
    with open_store(db_url) as store:
        store.ingest([Ingest(post)])
    assert cli("recap", "pizzachat").exit_code == 0
    out = tmp_path / "recap.md"
    assert cli("recap", "pizzachat", "--out", str(out)).exit_code == 0
    assert cli("recap", "nochat").exit_code == 1  # nothing to recap: no event
    found = events(cli)
    assert brief(found) == [("export", "stdout"), ("export", str(out))]
    assert found[1]["detail"] == {
        "command": "recap",
        "format": "md",
        "tag": "pizzachat",
        "day": "2026-03-02",
    }
