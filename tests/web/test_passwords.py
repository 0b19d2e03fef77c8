"""One maximum password length, the same at creation and at sign-in (issue
7, case 13: a password over 1,000 characters could be set but never used)."""

from __future__ import annotations

import re

import httpx
import pytest
from click.testing import CliRunner

from hubbub.cli import main
from hubbub.store.audit import AuditLog
from hubbub.store.scope import existing_scope
from hubbub.web.accounts import AccountError, create_user
from tests.web.conftest import Server, http_client

LONGEST = "correct horse battery staple " * 35 + "x" * 9  # 1,024 characters
TOO_LONG = LONGEST + "!"


def sign_in(client: httpx.Client, name: str, password: str) -> httpx.Response:
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/login").text)
    assert token
    return client.post(
        "/login", data={"name": name, "password": password, "csrf": token.group(1), "next": "/"}
    )


def test_a_1024_character_password_can_be_set_and_used(server: Server) -> None:
    assert len(LONGEST) == 1024
    create_user(server.app.state.store, "default", "longpass", LONGEST)  # type: ignore[attr-defined]
    with http_client(server) as client:
        # Not cut short: the same text less its last character is wrong.
        assert sign_in(client, "longpass", LONGEST[:-1]).status_code == 401
        assert sign_in(client, "longpass", LONGEST).status_code == 303


def test_a_1025_character_password_is_refused_at_creation_with_a_clear_message(
    server: Server, tmp_path
) -> None:  # noqa: ANN001
    with pytest.raises(AccountError, match=r"at most 1,024 characters \(this one has 1,025\)"):
        create_user(server.app.state.store, "default", "toolong", TOO_LONG)  # type: ignore[attr-defined]
    result = CliRunner().invoke(
        main,
        ["user", "create", "toolong", "--db", str(tmp_path / "cli.db"), "--password-stdin"],
        input=TOO_LONG + "\n",
    )
    assert result.exit_code == 1
    assert "at most 1,024 characters" in result.output
    assert "Traceback" not in result.output
    ok = CliRunner().invoke(
        main,
        ["user", "create", "longest", "--db", str(tmp_path / "cli.db"), "--password-stdin"],
        input=LONGEST + "\n",
    )
    assert ok.exit_code == 0, ok.output


def _failed_signins(server: Server, name: str) -> int:
    log = AuditLog(existing_scope(server.app.state.store, "default"))  # type: ignore[attr-defined]
    return sum(1 for e in log.iter_since(None, action="signin_failed") if e.actor == name)


def test_signing_in_with_a_1025_character_password_is_a_failed_sign_in_that_says_why(
    server: Server,
) -> None:
    create_user(server.app.state.store, "default", "cutoff", LONGEST)  # type: ignore[attr-defined]
    with http_client(server) as client:
        wrong = sign_in(client, "cutoff", "a wrong password")
        r = sign_in(client, "cutoff", TOO_LONG)
    # Answered as a wrong password is (same status, same words first), plus why.
    assert r.status_code == wrong.status_code == 401
    assert "Wrong name or password." in r.text and "at most 1,024 characters" in r.text
    # And audited like every other failed sign-in.
    assert _failed_signins(server, "cutoff") == 2
