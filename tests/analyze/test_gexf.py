"""GEXF export: a fixed set of posts gives the expected nodes and edges, read back by networkx."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import networkx as nx
from click.testing import CliRunner

from hubbub.analyze.gexf import export_gexf
from hubbub.cli import main
from hubbub.post import Author, Post
from hubbub.query import parse
from hubbub.store import Ingest, Store

WHEN = datetime(2024, 5, 1, 12, tzinfo=UTC)


def _post(pid: str, handle: str, text: str, **kw) -> Post:
    return Post("x", pid, Author("x", "id-" + handle.lower(), handle), text, WHEN, **kw)


POSTS = [
    # alice mentions acme twice (two posts) and bob once
    _post("1", "Alice", "@acme my order is late #acme", mentions=("acme",), hashtags=("acme",)),
    _post(
        "2", "alice", "@Acme @bob still late #acme", mentions=("Acme", "bob"), hashtags=("acme",)
    ),
    # acme replies to alice (and mentions her, as X replies do)
    _post(
        "3", "acme", "@alice sorry! #acme", mentions=("alice",), reply_to="1", hashtags=("acme",)
    ),
    # carol reposts acme's reply: "RT @acme:" – the original is stored, so its author counts
    _post("4", "carol", "RT @acme: @alice sorry! #acme", repost_of="3", hashtags=("acme",)),
    # dave quotes alice's post 1 (his text holds a control character)
    _post("5", "dave", "so true \x0b #acme", quote_of="1", hashtags=("acme",)),
    # eve reposts a post the store does not have: the RT prefix names whom (never posts itself)
    _post("6", "eve", "RT @ghost: gone #acme", repost_of="999", hashtags=("acme",)),
    # self-mention: no edge
    _post("7", "bob", "me, @bob, on #acme", mentions=("bob",), hashtags=("acme",)),
    # not matching the query: no node for frank
    _post("8", "frank", "@alice hi", mentions=("alice",)),
]


def _graph(store: Store) -> nx.DiGraph:
    store.ingest([Ingest(p) for p in POSTS])
    buffer = io.StringIO()
    # A label with a character XML forbids: removed, or networkx would refuse the file.
    export_gexf(store, parse("#acme"), buffer, label="#acme \x00")
    return nx.read_gexf(io.BytesIO(buffer.getvalue().encode()), version="1.3")


def test_nodes_and_edges_of_a_fixed_set_of_posts(store: Store) -> None:
    g = _graph(store)
    labels = {g.nodes[n]["label"]: n for n in g.nodes}
    # Accounts: authors, and accounts only mentioned/replied to/reposted (ghost); not frank.
    assert set(labels) == {"Alice", "acme", "bob", "carol", "dave", "eve", "ghost"}

    def edge(a: str, b: str) -> dict:
        return g.edges[labels[a], labels[b]]

    assert edge("Alice", "acme")["weight"] == 2 and edge("Alice", "acme")["mention"] == 2
    assert edge("Alice", "bob")["weight"] == 1
    assert edge("acme", "Alice")["kinds"] == "mention,reply"
    assert edge("acme", "Alice")["weight"] == 2
    assert edge("carol", "acme")["kinds"] == "repost"
    assert edge("dave", "Alice")["kinds"] == "quote"
    assert edge("eve", "ghost")["repost"] == 1
    assert g.number_of_edges() == 6  # exactly the six above
    assert not g.has_edge(labels["bob"], labels["bob"])
    assert g.nodes[labels["ghost"]]["posts"] == 0
    assert g.nodes[labels["Alice"]]["posts"] == 2


def test_cli_writes_gexf_to_a_file_and_stdout(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    from hubbub.store import open_store

    with open_store(db) as store:
        store.ingest([Ingest(p) for p in POSTS])
    out = tmp_path / "acme.gexf"
    runner = CliRunner()
    result = runner.invoke(
        main, ["export", "#acme", "--db", db, "--format", "gexf", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    g = nx.read_gexf(out, version="1.3")
    assert g.number_of_nodes() == 7 and g.number_of_edges() == 6
    result = runner.invoke(main, ["export", "#acme", "--db", db, "--format", "gexf"])
    assert result.exit_code == 0
    assert nx.read_gexf(io.BytesIO(result.stdout_bytes), version="1.3").number_of_edges() == 6
    # Every format writes to --out what it writes to standard output (only gexf could).
    for fmt in (["--format", "jsonl"], ["--format", "csv"], ["--raw"]):
        to_file = tmp_path / "posts.out"
        result = runner.invoke(main, ["export", "--db", db, *fmt, "--out", str(to_file)])
        assert result.exit_code == 0 and result.stdout_bytes == b"", result.output
        shown = runner.invoke(main, ["export", "--db", db, *fmt])
        assert to_file.read_bytes() == shown.stdout_bytes, fmt
        assert shown.stdout_bytes or fmt == ["--raw"]  # these posts were stored without payloads
