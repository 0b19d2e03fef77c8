"""``hubbub user sessions|revoke|password``: an operator sees a user's
sessions and ends them; a session ended here no longer signs anyone in."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner, Result

from hubbub.cli import main
from hubbub.store import open_store
from hubbub.web.accounts import create_user
from hubbub.web.user_sessions import SessionPolicy, resolve_session, start_session

PASSWORD = "correct horse battery"  # noqa: S105 - a test account


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["user", *args], input=stdin)


def signed_in(db: str, name: str, agent: str) -> str:
    """A session as the web app starts it at sign-in; its cookie token."""
    with open_store(db) as store:
        user = create_user(store, "default", name, PASSWORD) if agent == "first" else None
        uid = user.id if user else _uid(store, name)
        token, _ = start_session(
            store,
            "default",
            uid,
            now=datetime.now(UTC),
            policy=SessionPolicy(),
            address="192.0.2.1",
            user_agent=f"browser {agent}\nwith a newline",
        )
    return token


def _uid(store, name: str) -> int:  # noqa: ANN001
    from hubbub.web.accounts import find_user

    found = find_user(store, "default", name)
    assert found is not None
    return found.id


def alive(db: str, token: str) -> bool:
    with open_store(db) as store:
        return (
            resolve_session(store, "default", token, now=datetime.now(UTC), policy=SessionPolicy())
            is not None
        )


def test_sessions_are_listed_and_ended_one_or_all(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    first = signed_in(db, "ann", "first")
    second = signed_in(db, "ann", "second")
    third = signed_in(db, "ann", "third")
    listed = run("sessions", "ann", "--db", db)
    assert listed.exit_code == 0, listed.output
    rows = [line.split("\t") for line in listed.output.splitlines()]
    assert len(rows) == 3
    assert {r[4] for r in rows} == {"192.0.2.1"}
    assert {r[5] for r in rows} == {
        f"browser {n} with a newline" for n in ("first", "second", "third")
    }
    second_id = next(r[0] for r in rows if "second" in r[5])
    ended = run("revoke", "ann", "--session", second_id, "--db", db)
    assert ended.exit_code == 0, ended.output
    assert (alive(db, first), alive(db, second), alive(db, third)) == (True, False, True)
    assert run("revoke", "ann", "--session", second_id, "--db", db).exit_code == 1
    too_big = run("revoke", "ann", "--session", str(2**64), "--db", db)
    assert too_big.exit_code == 2 and "Traceback" not in too_big.output
    everything = run("revoke", "ann", "--db", db)
    assert everything.exit_code == 0 and "2" in everything.output
    assert not alive(db, first) and not alive(db, third)
    assert "no live sessions" in run("sessions", "ann", "--db", db).output


def test_a_password_set_by_the_operator_ends_the_users_sessions(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    token = signed_in(db, "bob", "first")
    result = run("password", "bob", "--db", db, "--password-stdin", stdin="a new passphrase\n")
    assert result.exit_code == 0, result.output
    assert not alive(db, token)
    short = run("password", "bob", "--db", db, "--password-stdin", stdin="short\n")
    assert short.exit_code == 1 and "at least 8 characters" in short.output


def test_unknown_users_are_named_not_tracebacks(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    with open_store(db) as store:  # read-only commands need an existing workspace
        store.workspace_id("default")
    for args in (("sessions", "nobody"), ("revoke", "nobody")):
        result = run(*args, "--db", db)
        assert result.exit_code == 1
        assert "no user 'nobody'" in result.output
    result = run("password", "nobody", "--db", db, "--password-stdin", stdin="long enough pw\n")
    assert result.exit_code == 1 and "no user 'nobody'" in result.output
