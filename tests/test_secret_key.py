"""Where the session key comes from (issue 7): the environment or a key file,
never the current folder; with PostgreSQL and neither, ``serve`` refuses to
start in one line; key files are readable by their owner only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from hubbub.settings import SecretKeyError, Settings
from tests.conftest import PG_ADMIN_URL

CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("HUBBUB_")}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sqlite_keeps_its_key_beside_the_database_readable_by_its_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = Settings.from_env(CLEAN_ENV, db=str(data / "hubbub.db"))
    key = settings.resolved_secret()
    assert (data / "hubbub.db.secret").read_text().strip() == key
    assert mode(data / "hubbub.db.secret") == 0o600
    assert list(elsewhere.iterdir()) == []
    # A second start, from another folder, signs with the same key.
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env(CLEAN_ENV, db=str(data / "hubbub.db")).resolved_secret() == key


def test_a_key_file_readable_by_others_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "session.key"
    path.write_text("a key someone wrote by hand\n")
    path.chmod(0o644)
    settings = Settings.from_env(CLEAN_ENV, db=str(tmp_path / "h.db"), secret_file=str(path))
    assert settings.resolved_secret() == "a key someone wrote by hand"
    assert mode(path) == 0o600


def test_postgresql_takes_the_key_from_the_environment_or_a_key_file(tmp_path: Path) -> None:
    env = dict(CLEAN_ENV, HUBBUB_DB=PG_ADMIN_URL, HUBBUB_SECRET="from the environment")  # noqa: S106
    assert Settings.from_env(env).resolved_secret() == "from the environment"
    key_file = tmp_path / "keys" / "hubbub.key"
    key_file.parent.mkdir()
    env = dict(CLEAN_ENV, HUBBUB_DB=PG_ADMIN_URL, HUBBUB_SECRET_FILE=str(key_file))
    key = Settings.from_env(env).resolved_secret()
    assert key_file.read_text().strip() == key and mode(key_file) == 0o600
    assert Settings.from_env(env).resolved_secret() == key
    with pytest.raises(SecretKeyError, match="HUBBUB_SECRET"):
        Settings.from_env(dict(CLEAN_ENV, HUBBUB_DB=PG_ADMIN_URL)).resolved_secret()


def test_serve_on_postgresql_without_a_key_refuses_to_start(tmp_path: Path) -> None:
    try:
        result = subprocess.run(
            [sys.executable, "-m", "hubbub.cli", "serve", "--db", PG_ADMIN_URL, "--port", "0"],
            cwd=tmp_path,
            env=CLEAN_ENV,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("serve started without a session key")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "HUBBUB_SECRET" in lines[0]
    assert list(tmp_path.iterdir()) == []  # no hubbub.secret in the current folder


def test_serve_names_an_unusable_key_file_in_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "no such folder" / "hubbub.key"
    env = dict(CLEAN_ENV, HUBBUB_SECRET_FILE=str(missing))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hubbub.cli",
            "serve",
            "--db",
            str(tmp_path / "h.db"),
            "--port",
            "0",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert str(missing) in result.stderr


def test_processes_starting_at_once_agree_on_one_key(tmp_path: Path) -> None:
    db = tmp_path / "hubbub.db"
    code = (
        "import sys; from hubbub.settings import Settings; "
        "print(Settings(db=sys.argv[1]).resolved_secret())"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(db)], env=CLEAN_ENV, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    keys = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert len(keys) == 1
    assert (tmp_path / "hubbub.db.secret").read_text().strip() in keys
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hubbub.db.secret"]
