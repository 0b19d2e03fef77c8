"""``hubbub inbox saved add`` refuses a field no case fills (a typo such as
``{nmae}``) when the reply is saved, naming it, instead of failing later
when an agent uses the reply on a case."""

from __future__ import annotations

from click.testing import CliRunner, Result

from hubbub.cli import main
from hubbub.store import open_store


def _cli(db_url: str, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--db", db_url])


def test_saved_add_refuses_an_unknown_field_and_keeps_nothing(db_url: str) -> None:
    with open_store(db_url) as store:
        store.workspace_id("default")
    bad = _cli(db_url, "inbox", "saved", "add", "thanks", "Thanks {nmae}, case {case}")
    assert bad.exit_code == 1, bad.output
    assert "unknown field {nmae}" in bad.output and "{name}" in bad.output
    assert "Traceback" not in bad.output
    assert "thanks" not in _cli(db_url, "inbox", "saved", "list").output
    good = _cli(
        db_url, "inbox", "saved", "add", "thanks", "Thanks {name} ({handle}) on {network}: {case}"
    )
    assert good.exit_code == 0, good.output
    assert "thanks" in _cli(db_url, "inbox", "saved", "list").output
