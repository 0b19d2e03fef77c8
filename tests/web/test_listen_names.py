"""Saved-query names and groups: one check for the web and the CLI (the
reviewer's finding: ``hubbub listen add`` took names and groups with ESC or
newlines that the web refused). The listen layer checks; both ask it, and
both refuse the same names with the same reason."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from hubbub.cli import main
from hubbub.listen.saved import NAME_MAX, SavedQueryNameError, check_name
from tests.web.conftest import Server
from tests.web.test_listen_api import signed_in

REFUSED = [
    ("esc\x1b]0;PWN\x07name", "brand", "name"),
    ("line\nbreak", "brand", "name"),
    ("rtl\u202eeman", "brand", "name"),
    ("a/b", "brand", "name"),
    ("a\\b", "brand", "name"),
    ("x" * (NAME_MAX + 1), "brand", "name"),
    ("fine", "grp\x1b[2J", "group"),
    ("fine", "two\nlines", "group"),
    ("fine", "   ", "group"),
    ("..", "brand", "name"),  # /api/listen/queries/.. resolves to /api/listen/
    (".", "brand", "name"),
]


def _reason(name: str, group: str) -> str:
    try:
        check_name(name)
        check_name(group, "group")
    except SavedQueryNameError as exc:
        return str(exc)
    raise AssertionError("not refused")


@pytest.fixture
def host(server: Server):
    client, token = signed_in(server)
    yield client, token
    client.close()


@pytest.mark.parametrize(("name", "group", "what"), REFUSED)
def test_web_and_cli_refuse_the_same_names(
    tmp_path: Path, host: tuple[httpx.Client, str], name: str, group: str, what: str
) -> None:
    reason = _reason(name, group)
    assert f"'s {what} " in reason
    client, token = host
    r = client.post(
        "/api/listen/queries",
        json={"name": name, "query": "acme", "group": group},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 422, r.text
    if len(name) <= NAME_MAX and group.strip():  # else the form's own limits answer first
        assert r.json()["detail"] == reason
    db = str(tmp_path / "h.db")
    done = CliRunner().invoke(main, ["listen", "add", name, "acme", "--group", group, "--db", db])
    assert done.exit_code == 2
    assert reason in done.stderr
    listed = CliRunner().invoke(main, ["listen", "list", "--db", db, "--format", "jsonl"])
    assert listed.stdout == ""  # nothing was saved


def test_good_names_are_kept_as_typed(tmp_path: Path) -> None:
    assert check_name("  Zażółć gęślą jaźń 🚀  ") == "Zażółć gęślą jaźń 🚀"
    db = str(tmp_path / "h.db")
    done = CliRunner().invoke(
        main, ["listen", "add", "Marka ąę", "acme", "--group", "konkurencja", "--db", db]
    )
    assert done.exit_code == 0, done.output
    assert "saved Marka ąę (konkurencja)" in done.stdout
