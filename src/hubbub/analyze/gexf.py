"""The conversation network of a query as GEXF (Gephi's format; networkx reads it too).

A directed graph: one node per account, including accounts that are only
mentioned, replied to, reposted or quoted and have no post of their own in
the selection; one edge per ordered pair author → account, weighted by how
many times the author mentioned, replied to, reposted or quoted that account,
with the count of each kind as attributes. An author's interactions with
themselves (threads, self-mentions) are left out: they say nothing about the
conversation between accounts.

Accounts are named per network (``x:alice`` and ``bluesky:alice`` are two
nodes), by the handle folded to lower case. Whom a reply, repost or quote
points at is the author of the referenced post when the store has that post;
a repost's text ``RT @name:`` names it otherwise.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

from hubbub.post import Post
from hubbub.query.ast import Node
from hubbub.query.tokens import fold
from hubbub.store import Store
from hubbub.store.scope import scope
from hubbub.store.scoped_posts import WorkspacePosts

KINDS = ("mention", "reply", "repost", "quote")
_RT_PREFIX = re.compile(r"RT @(\w{1,15}):")
# Characters XML 1.0 forbids (C0 controls but tab/newline/return, surrogates,
# U+FFFE/U+FFFF): removed, or Gephi and networkx refuse the whole file.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

Account = tuple[str, str]  # (network, folded handle)


@dataclass
class Graph:
    labels: dict[Account, str] = field(default_factory=dict)  # handle as first seen
    posts: Counter[Account] = field(default_factory=Counter)  # posts in the selection
    edges: dict[tuple[Account, Account], Counter[str]] = field(default_factory=dict)

    def account(self, network: str, handle: str) -> Account | None:
        handle = handle.lstrip("@")
        if not handle:
            return None
        key = (network, fold(handle))
        self.labels.setdefault(key, handle)
        return key

    def add(self, source: Account, target: Account | None, kind: str) -> None:
        if target is not None and target != source:
            self.edges.setdefault((source, target), Counter())[kind] += 1


def _referenced_authors(store: Store, workspace: str, posts: list[Post]) -> dict[Account, str]:
    """Handle of the author of every post the selection replies to, reposts or quotes."""
    wanted: dict[str, set[str]] = {}
    for post in posts:
        for ref in (post.reply_to, post.repost_of, post.quote_of):
            if ref:
                wanted.setdefault(post.network, set()).add(ref)
    keys = [(network, ref) for network, refs in wanted.items() for ref in refs]
    return WorkspacePosts(scope(store, workspace)).author_handles(keys)


def build_graph(posts: Iterable[Post], authors_of: dict[Account, str]) -> Graph:
    """The graph of ``posts``; ``authors_of[(network, post_id)]`` is a referenced post's author."""
    graph = Graph()
    for post in posts:
        source = graph.account(post.network, post.author.handle)
        if source is None:
            continue
        graph.posts[source] += 1
        for mention in dict.fromkeys(post.mentions):
            graph.add(source, graph.account(post.network, mention), "mention")
        for kind, ref in (
            ("reply", post.reply_to),
            ("repost", post.repost_of),
            ("quote", post.quote_of),
        ):
            if not ref:
                continue
            handle = authors_of.get((post.network, ref))
            if handle is None and kind == "repost":
                match = _RT_PREFIX.match(post.text or "")
                handle = match.group(1) if match else None
            if handle:
                graph.add(source, graph.account(post.network, handle), kind)
    return graph


def _clean(value: str) -> str:
    return _XML_FORBIDDEN.sub("", value)


def _attr(value: str) -> str:
    text = _clean(value)
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        text = text.replace(char, entity)
    # Attribute values normalise raw whitespace to spaces: keep newlines and tabs as written.
    return text.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")


def write_gexf(graph: Graph, out: IO[str], description: str = "") -> None:
    """GEXF 1.3: nodes with their network and post count, weighted directed edges."""
    ids = {key: f"n{i}" for i, key in enumerate(sorted(graph.labels))}
    w = out.write
    w('<?xml version="1.0" encoding="UTF-8"?>\n')
    w('<gexf xmlns="http://gexf.net/1.3" version="1.3">\n')
    w(f"  <meta><creator>Hubbub</creator><description>{_attr(description)}</description></meta>\n")
    w('  <graph defaultedgetype="directed" mode="static">\n')
    w('    <attributes class="node">\n')
    w('      <attribute id="network" title="network" type="string"/>\n')
    w('      <attribute id="posts" title="posts" type="integer"/>\n')
    w("    </attributes>\n")
    w('    <attributes class="edge">\n')
    w('      <attribute id="kinds" title="kinds" type="string"/>\n')
    for kind in KINDS:
        w(f'      <attribute id="{kind}" title="{kind}" type="integer"/>\n')
    w("    </attributes>\n")
    w("    <nodes>\n")
    for key in sorted(graph.labels):
        w(f'      <node id="{ids[key]}" label="{_attr(graph.labels[key])}"><attvalues>')
        w(f'<attvalue for="network" value="{_attr(key[0])}"/>')
        w(f'<attvalue for="posts" value="{graph.posts.get(key, 0)}"/></attvalues></node>\n')
    w("    </nodes>\n")
    w("    <edges>\n")
    for i, ((source, target), kinds) in enumerate(sorted(graph.edges.items())):
        weight = sum(kinds.values())
        names = ",".join(k for k in KINDS if kinds.get(k))
        w(
            f'      <edge id="e{i}" source="{ids[source]}" target="{ids[target]}" '
            f'weight="{weight}"><attvalues><attvalue for="kinds" value="{names}"/>'
        )
        for kind in KINDS:
            w(f'<attvalue for="{kind}" value="{kinds.get(kind, 0)}"/>')
        w("</attvalues></edge>\n")
    w("    </edges>\n")
    w("  </graph>\n")
    w("</gexf>\n")


def export_gexf(
    store: Store, query: Node | None, out: IO[str], workspace: str = "default", label: str = ""
) -> Graph:
    """Write the conversation network of the posts matching ``query`` (all posts when None)."""
    posts = [p for p in store.iter_posts(query, workspace=workspace) if not p.deleted]
    graph = build_graph(posts, _referenced_authors(store, workspace, posts))
    write_gexf(graph, out, description=f"Hubbub conversation network: {label}" if label else "")
    return graph
