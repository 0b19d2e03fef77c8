"""Saved-query names and groups: one check for the web and the CLI (the
reviewer's finding: ``hubbub listen add`` took names and groups with ESC or
newlines that the web refused). The listen layer checks; both ask it, and
both refuse the same names with the same reason."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
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
    # Stripped first, then counted: spaces alone are empty, padding does not
    # hide a name that is too long.
    ("", "brand", "name"),
    (" " * 40, "brand", "name"),
    (" " * 50 + "x" * (NAME_MAX + 1) + " " * 50, "brand", "name"),
    ("fine", "", "group"),
    ("fine", "\t" + "g" * (NAME_MAX + 1), "group"),
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


PADDED = [
    ("   x   ", "brand", "x", "brand"),
    # Past the limit only with its padding: kept, stripped, as the CLI keeps it.
    (" " * 30 + "n" * NAME_MAX + " " * 30, "brand", "n" * NAME_MAX, "brand"),
    ("fine", "  " + "g" * NAME_MAX + "\t", "fine", "g" * NAME_MAX),
]


@pytest.mark.parametrize(("name", "group", "kept", "kept_group"), PADDED)
def test_padding_is_stripped_before_the_length_is_checked(
    tmp_path: Path,
    host: tuple[httpx.Client, str],
    name: str,
    group: str,
    kept: str,
    kept_group: str,
) -> None:
    client, token = host
    r = client.post(
        "/api/listen/queries",
        json={"name": name, "query": "acme", "group": group},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 201, r.text
    assert (r.json()["name"], r.json()["group"]) == (kept, kept_group)
    listed = client.get("/api/listen/queries").json()
    assert (kept, kept_group) in [(q["name"], q["group"]) for q in listed]
    assert client.delete(f"/api/listen/queries/{kept}", headers={"X-CSRF-Token": token}).is_success
    db = str(tmp_path / "h.db")
    done = CliRunner().invoke(main, ["listen", "add", name, "acme", "--group", group, "--db", db])
    assert done.exit_code == 0, done.output
    listed_cli = CliRunner().invoke(main, ["listen", "list", "--db", db, "--format", "jsonl"])
    assert orjson.loads(listed_cli.stdout)["name"] == kept


def test_a_padded_name_finds_the_query_saved_from_it(
    tmp_path: Path, host: tuple[httpx.Client, str]
) -> None:
    """Saved from " pad " the query is named "pad"; asked for as " pad "
    (a URL, a shell argument) it is the same query: shown, reported on and
    deleted, not 404. Groups alike."""
    client, token = host
    r = client.post(
        "/api/listen/queries",
        json={"name": " pad ", "query": "acme", "group": "  padgrp "},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 201, r.text
    for kind, asked, kept in (("saved", " pad ", "pad"), ("group", "\tpadgrp  ", "padgrp")):
        sc = client.get("/api/listen/scorecard", params={kind: asked})
        assert sc.status_code == 200, sc.text
        assert sc.json()["selection"]["value"] == kept
    report = client.get("/api/listen/report", params={"saved": " pad ", "format": "json"})
    assert report.status_code == 200, report.text
    assert client.get("/api/listen/scorecard", params={"saved": "   "}).status_code == 400
    gone = client.delete("/api/listen/queries/%20pad%20", headers={"X-CSRF-Token": token})
    assert gone.status_code == 200, gone.text
    assert "pad" not in [q["name"] for q in client.get("/api/listen/queries").json()]
    again = client.delete("/api/listen/queries/%20pad%20", headers={"X-CSRF-Token": token})
    assert again.status_code == 404

    db = str(tmp_path / "h.db")
    done = CliRunner().invoke(main, ["listen", "add", " pad ", "acme", "--db", db])
    assert done.exit_code == 0, done.output
    removed = CliRunner().invoke(main, ["listen", "remove", " pad ", "--db", db])
    assert removed.exit_code == 0, removed.output
    assert removed.stdout == "removed pad\n"
    listed = CliRunner().invoke(main, ["listen", "list", "--db", db, "--format", "jsonl"])
    assert listed.stdout == ""
