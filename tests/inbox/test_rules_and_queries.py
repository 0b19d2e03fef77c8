"""Inbox rules and the saved queries they are built on.

- ``hubbub listen remove`` (and the web route that removes a saved query)
  refuses to remove a query that inbox rules are built on, naming the rules
  and how to remove them; ``--force`` (``?force=true``) removes both and says
  so. It removed the rules silently (their foreign key cascades).
- ``hubbub inbox rule add`` counts the rule's own open cases, not every open
  case of the workspace (it printed 446 for a rule that made 433).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from hubbub.cli import main
from hubbub.inbox.service import Inbox
from hubbub.listen import add_query, get_query
from hubbub.networks.secrets import load_box, new_key_text
from hubbub.store import open_store
from hubbub.store.network_accounts import add_account, record_check
from hubbub.store.scope import scope
from tests.inbox.helpers import OPERATOR, ingest, post
from tests.web.conftest import Server, start_server, stop_server
from tests.web.test_listen_api import signed_in


def _cli(db_url: str, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--db", db_url])


@pytest.fixture
def world(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Two open cases from mentions of the account, a lead that only the
    saved query 'q9' finds."""
    monkeypatch.setenv("HUBBUB_ACCOUNTS_KEY", new_key_text())
    with open_store(db_url) as store:
        add_account(
            store, load_box(db_url), "default", "x", "acme", "t", server="http://127.0.0.1:9"
        )
        record_check(store, "default", "acme", "ok: @acme")
        ingest(
            store,
            post("x", "1", "ann", "@acme my order arrived broken, why?", mentions=("acme",)),
            post("x", "2", "bob", "@acme where is my refund? terrible", mentions=("acme",)),
            post("x", "3", "cat", "I want to buy 20 licenses of freshq for my team"),
        )
        add_query(store, "other", "licenses", workspace="default")
        add_query(store, "q9", "freshq", workspace="default")
        Inbox(scope(store, "default")).refresh(OPERATOR)
    yield db_url


def test_rule_add_counts_its_own_open_cases(world: str) -> None:
    before = _cli(world, "inbox", "list", "--format", "jsonl")
    assert before.exit_code == 0, before.output
    mention_cases = len(before.output.splitlines())
    assert mention_cases >= 1  # the workspace already has open cases of its own
    done = _cli(world, "inbox", "rule", "add", "--saved", "q9", "--intent", "lead")
    assert done.exit_code == 0, done.output
    with open_store(world) as store:
        cases = Inbox(scope(store, "default")).list_cases(OPERATOR, status=None, limit=500)
    made = [c for c in cases if c.origin == "rule"]
    assert made and len(cases) > len(made)
    assert done.output.strip().endswith(f"({len(made)} open case)"), done.output  # one of three


def test_listen_remove_refuses_a_query_with_rules_and_force_says_what_went(world: str) -> None:
    assert _cli(world, "inbox", "rule", "add", "--saved", "q9", "--intent", "lead").exit_code == 0
    rule_id = _rule_ids(world)["q9"]
    refused = _cli(world, "listen", "remove", "q9")
    assert refused.exit_code == 1
    assert f"inbox rule {rule_id}" in refused.output
    assert f"hubbub inbox rule remove {rule_id}" in refused.output
    assert "--force" in refused.output and "Traceback" not in refused.output
    with open_store(world) as store:
        assert get_query(store, "q9", workspace="default") is not None
    assert "q9" in _rule_ids(world)
    # A query no rule uses goes as before.
    plain = _cli(world, "listen", "remove", "other")
    assert plain.exit_code == 0 and plain.output.strip() == "removed other"
    forced = _cli(world, "listen", "remove", "q9", "--force")
    assert forced.exit_code == 0, forced.output
    assert forced.output.strip() == f"removed q9 and inbox rule(s) {rule_id}"
    assert _rule_ids(world) == {}
    # The rule's cases stay.
    listed = _cli(world, "inbox", "list", "--status", "all", "--format", "jsonl")
    assert '"origin":"rule"' in listed.output


def test_removing_the_rule_first_then_the_query_works(world: str) -> None:
    assert _cli(world, "inbox", "rule", "add", "--saved", "q9", "--intent", "lead").exit_code == 0
    assert _cli(world, "inbox", "rule", "remove", str(_rule_ids(world)["q9"])).exit_code == 0
    done = _cli(world, "listen", "remove", "q9")
    assert done.exit_code == 0 and done.output.strip() == "removed q9"


def _rule_ids(db_url: str) -> dict[str, int]:
    with open_store(db_url) as store:
        return {r.saved_query: r.id for r in Inbox(scope(store, "default")).rules(OPERATOR)}


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("web"))
    yield srv
    stop_server(srv)


def test_the_web_route_refuses_too_and_force_removes_both(server: Server) -> None:
    with open_store(str(server.db)) as store:
        add_query(store, "q9", "freshq", workspace="default")
        rule = Inbox(scope(store, "default")).add_rule(OPERATOR, "q9", ["lead"])
    client, token = signed_in(server)
    try:
        headers = {"X-CSRF-Token": token}
        refused = client.delete("/api/listen/queries/q9", headers=headers)
        assert refused.status_code == 409
        detail = refused.json()["detail"]
        assert f"rule {rule.id}" in detail and "hubbub inbox rule remove" in detail
        assert any(q["name"] == "q9" for q in client.get("/api/listen/queries").json())
        forced = client.delete("/api/listen/queries/q9?force=true", headers=headers)
        assert forced.status_code == 200, forced.text
    finally:
        client.close()
    with open_store(str(server.db)) as store:
        assert Inbox(scope(store, "default")).rules(OPERATOR) == []


def test_padded_names_find_what_was_saved_stripped(world: str) -> None:
    """Names are stored stripped (``listen add " q9 "`` saves "q9"), so every
    command that takes one strips it too: a padded name from a shell script or
    a copied cell had given "unknown saved query" / "no saved queries in group"."""
    added = _cli(world, "inbox", "rule", "add", "--saved", "  q9 ", "--intent", "lead")
    assert added.exit_code == 0, added.output
    assert added.output.startswith(f"rule {_rule_ids(world)['q9']}: q9 →"), added.output
    removed = _cli(world, "inbox", "rule", "remove", " q9  ")
    assert removed.exit_code == 0, removed.output
    assert removed.output.strip() == "removed rule q9"
    assert _rule_ids(world) == {}
    assert _cli(world, "inbox", "rule", "add", "--saved", "q9", "--intent", "lead").exit_code == 0
    by_id = _cli(world, "inbox", "rule", "remove", f" {_rule_ids(world)['q9']} ")
    assert by_id.exit_code == 0 and _rule_ids(world) == {}, by_id.output
    odd = _cli(world, "inbox", "rule", "remove", "²")  # a digit to isdigit(), not to int()
    assert odd.exit_code == 1 and "no rule ²" in odd.output and "Traceback" not in odd.output
    with open_store(world) as store:
        group = get_query(store, "q9", workspace="default").group  # type: ignore[union-attr]
    for option, value in (("--group", f"  {group} "), ("--saved", " q9 ")):
        report = _cli(world, "report", option, value)
        assert report.exit_code == 0, report.output
        assert value.strip() in report.output and value not in report.output
