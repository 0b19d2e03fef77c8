"""x:search against the loopback server (faults on search, long queries),
how saved queries become X rules, and ``hubbub account check`` for X."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hubbub.cli import main
from hubbub.query.parser import parse
from hubbub.sources.x_rules import WantedRule, rule_tag, search_queries, to_x_rule, wanted_rules
from tests.conftest import require_shared_data
from tests.loopback.x_server import Fault, XServer, load_recorded_tweets, serve_in_thread
from tests.networks.x_harness import start_run


@pytest.fixture(scope="module")
def recorded():
    return load_recorded_tweets(require_shared_data() / "payloads")


@pytest.mark.parametrize(
    ("query", "rule", "exact"),
    [
        ("#chat", "#chat", True),
        ('acme "great service" -spam', 'acme "great service" -spam', True),
        ("acme OR #acme", "acme OR #acme", True),
        ("from:acme is:repost lang:pl has:links", "from:acme is:retweet lang:pl has:links", True),
        ("acme since:2026-01-01", "acme", False),  # X rules have no dates: wider
        ("acme network:x", "acme", True),
        ("acme network:bluesky", None, True),  # nothing on X can match
        ("-acme", None, True),  # X refuses a rule of negations only
        ("acme -(since:2026-01-01)", "acme", False),  # "not (a date)": wider, filtered locally
    ],
)
def test_saved_queries_become_x_rules(query: str, rule: str | None, exact: bool) -> None:
    value, is_exact = to_x_rule(parse(query))
    assert value == rule
    if rule is not None:
        assert is_exact is exact


def test_rules_deduplicated_and_too_long_reported() -> None:
    long_query = " OR ".join(f"word{i}" for i in range(200))  # > 1,024 characters
    wanted, problems = wanted_rules(
        (("a", "#chat"), ("b", long_query), ("c", "bad (")), ("chat", "other"), 1024
    )
    assert sorted(r.value for r in wanted) == ["#chat", "#other"]
    assert all(r.tag == rule_tag(r.value) and r.tag.startswith("hubbub:") for r in wanted)
    assert len(problems) == 2 and any("1024" in p for p in problems)


def test_long_rules_are_searched_by_parts() -> None:
    words = [f"longword{i:03d}" for i in range(80)]
    node = parse(" OR ".join(words))
    value, exact = to_x_rule(node)
    queries, wide = search_queries(WantedRule(value or "", "t", node, exact, "q"), 512)
    assert len(queries) > 1 and all(len(q) <= 512 for q in queries)
    assert sorted(" OR ".join(queries).split(" OR ")) == sorted(words)  # every part searched
    assert not wide
    node = parse(" ".join(words))  # an AND: the longest parts that fit, then filtered
    value, exact = to_x_rule(node)
    queries, wide = search_queries(WantedRule(value or "", "t", node, exact, "q"), 512)
    assert len(queries) == 1 and len(queries[0]) <= 512 and wide


@pytest.mark.parametrize(
    "faults",
    [[], [Fault("5xx", on="search")], [Fault("429", on="search", seconds=30)]],
    ids=["clean", "5xx", "429"],
)
async def test_x_search_polls_and_survives_faults(tmp_path: Path, recorded, faults) -> None:
    server = XServer(recorded)
    server.publish_generated(250)
    server.publish_generated(30, tag="other")
    server.faults += faults
    run = await start_run(tmp_path, server, spec="x:search:#hubchat?url={url}&poll=5", hashtags=())
    try:
        assert await run.wait(lambda: run.all_stored("#hubchat"))
        server.publish_generated(120)  # found by the next poll, from the cursor
        assert await run.wait(lambda: run.all_stored("#hubchat"))
        run.check("#hubchat")
        sleeps = run.clock.sleeps
        if faults and faults[0].kind == "5xx":
            assert 5.0 in sleeps
        if faults and faults[0].kind == "429":
            assert any(27 <= s <= 33 for s in sleeps)  # x-rate-limit-reset, ±10%
    finally:
        await run.stop()


def test_account_check_x(tmp_path: Path, recorded) -> None:
    server = XServer(recorded)
    db = str(tmp_path / "h.db")
    runner = CliRunner()
    with serve_in_thread(server) as url:
        assert (
            runner.invoke(
                main, ["account", "add", "x", "--name", "ok", "--db", db], input=server.token + "\n"
            ).exit_code
            == 0
        )
        assert (
            runner.invoke(
                main, ["account", "add", "x", "--name", "bad", "--db", db], input="nope\n"
            ).exit_code
            == 0
        )
        good = runner.invoke(main, ["account", "check", "ok", "--url", url, "--db", db])
        assert good.exit_code == 0 and "app-only token" in good.output
        bad = runner.invoke(main, ["account", "check", "bad", "--url", url, "--db", db])
        assert bad.exit_code != 0 and "401" in bad.output and "nope" not in bad.output
    listed = runner.invoke(main, ["account", "list", "--db", db]).output
    assert "ok: app-only token" in listed and "failed: " in listed
