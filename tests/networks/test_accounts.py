"""``hubbub account …``: secrets on stdin, encrypted at rest with a key
outside the database, never shown."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from hubbub.cli import main
from hubbub.networks.secrets import ENV_KEY, ENV_KEY_FILE, AccountsKeyError, load_box, new_key_text
from hubbub.store import open_store
from hubbub.store.network_accounts import AccountError, get_credentials

CANARY = "hubbub-canary-7f3a9c1e5d"


def _run(args: list[str], stdin: str = "", env: dict[str, str] | None = None):
    return CliRunner().invoke(main, args, input=stdin, env=env or {})


def test_add_list_remove_sqlite(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    r = _run(["account", "add", "x", "--name", "brand", "--db", db], CANARY + "\n")
    assert r.exit_code == 0, r.output
    assert CANARY not in r.output
    key_file = tmp_path / "h.db.accounts-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    r = _run(
        ["account", "add", "bluesky", "--name", "sky", "--db", db], f"me.bsky.social\n{CANARY}-b\n"
    )
    assert r.exit_code == 0, r.output
    r = _run(
        ["account", "add", "mastodon", "--name", "toot", "--server", "mastodon.social", "--db", db],
        CANARY + "-m\n",
    )
    assert r.exit_code == 0, r.output
    listed = _run(["account", "list", "--db", db])
    assert listed.exit_code == 0
    assert "brand\tx" in listed.output and "https://mastodon.social" in listed.output
    assert CANARY not in listed.output
    raw = (
        Path(db).read_bytes() + Path(db + "-wal").read_bytes()
        if Path(db + "-wal").exists()
        else Path(db).read_bytes()
    )
    assert CANARY.encode() not in raw
    with open_store(db) as store:
        box = load_box(str(store.engine.url))
        creds = get_credentials(store, box, "default", network="x")
        assert creds.secret == CANARY and CANARY not in repr(creds)
        sky = get_credentials(store, box, "default", name="sky")
        assert sky.secret == f"me.bsky.social\n{CANARY}-b"
    assert _run(["account", "remove", "brand", "--db", db]).exit_code == 0
    assert "brand" not in _run(["account", "list", "--db", db]).output
    r = _run(["account", "remove", "brand", "--db", db])
    assert r.exit_code != 0 and "no account named brand" in r.output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["bluesky", "--name", "s"], "only-one-line\n", "expected 2"),
        (["mastodon", "--name", "m"], "tok\n", "needs --server"),
        (["mastodon", "--name", "m", "--server", "ftp://x"], "tok\n", "http(s)"),
        (["mastodon", "--name", "m", "--server", "http://m.example"], "tok\n", "unencrypted"),
        (["mastodon", "--name", "m", "--server", "http://10.0.0.5"], "tok\n", "unencrypted"),
        (["x", "--name", "bad name"], "tok\n", "account name"),
        (["x", "--name", "n"], "", "expected 1"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path: Path, args, stdin, message) -> None:
    r = _run(["account", "add", *args, "--db", str(tmp_path / "h.db")], stdin)
    assert r.exit_code != 0
    assert message in r.output
    assert "Traceback" not in r.output


def test_duplicate_name_refused(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    assert _run(["account", "add", "x", "--name", "a", "--db", db], "t\n").exit_code == 0
    r = _run(["account", "add", "x", "--name", "a", "--db", db], "t\n")
    assert r.exit_code != 0 and "exists already" in r.output


def test_postgres_needs_a_configured_key(postgres_url: str, tmp_path: Path) -> None:
    r = _run(["account", "add", "x", "--name", "a", "--db", postgres_url], "tok\n")
    assert r.exit_code != 0 and ENV_KEY in r.output
    env = {ENV_KEY: new_key_text()}
    r = _run(["account", "add", "x", "--name", "a", "--db", postgres_url], CANARY + "\n", env)
    assert r.exit_code == 0, r.output
    with open_store(postgres_url) as store:
        box = load_box(postgres_url, env)
        assert get_credentials(store, box, "default", name="a").secret == CANARY
        # Another key: a clear refusal, not garbage.
        other = load_box(postgres_url, {ENV_KEY: new_key_text()})
        with pytest.raises(AccountsKeyError):
            get_credentials(store, other, "default", name="a")
        with pytest.raises(AccountError):
            get_credentials(store, box, "default", network="bluesky")
    key_file = tmp_path / "k"
    env = {ENV_KEY_FILE: str(key_file)}
    assert load_box(postgres_url, env).key_id == load_box(postgres_url, env).key_id
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_ciphertext_is_bound_to_its_account(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from hubbub.store.connect_schema import network_accounts as a

    db = str(tmp_path / "h.db")
    _run(["account", "add", "x", "--name", "one", "--db", db], CANARY + "\n")
    _run(["account", "add", "x", "--name", "two", "--db", db], "other\n")
    with open_store(db) as store:
        with store.engine.begin() as conn:
            blob = conn.execute(sa.select(a.c.secret).where(a.c.name == "one")).scalar_one()
            conn.execute(a.update().where(a.c.name == "two").values(secret=blob))
        box = load_box(str(store.engine.url))
        with pytest.raises(AccountsKeyError):
            get_credentials(store, box, "default", name="two")
