"""Listening matcher throughput (posts/s) with 10, 100 and 1000 saved queries.

Baseline, in the same run: the naive loop a listener without a compiled
matcher would run, ``hubbub.query.evaluate.matches`` for every query on every
post. Both see the same posts (every post in ../shared/data/payloads, read
through a temporary SQLite store) and the same queries, and their results are
compared post by post, so the figure is for a correct matcher.

Queries are generated from the data's own vocabulary, in the shapes people
save: a brand word, a brand OR its hashtag OR its @account, a quoted phrase,
a word with exclusions, a word with ``lang:``/``network:``/``-is:repost``
filters, and a few filter-only queries (always evaluated: they have no term
to prefilter on). Seeded, so every run uses the same queries.

    .venv/bin/python bench/match.py [--queries 10,100,1000] [--baseline-seconds 5]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hubbub.listen.matcher import Matcher, PostView  # noqa: E402
from hubbub.post import Post  # noqa: E402
from hubbub.query import ast, matches  # noqa: E402
from hubbub.query.tokens import fold, tokenize  # noqa: E402
from hubbub.store import open_store  # noqa: E402
from hubbub.transfer.importer import import_paths  # noqa: E402


def load_posts() -> list[Post]:
    from tests.store.test_import_real import payload_files

    files = [str(p) for p in payload_files()]
    if not files:
        sys.exit("no payloads found in ../shared/data/payloads")
    with tempfile.TemporaryDirectory() as tmp, open_store(f"{tmp}/bench.db") as store:
        import_paths(store, files)
        return list(store.iter_posts())


def make_queries(posts: list[Post], n: int, seed: int = 7) -> list[ast.Node]:
    rng = random.Random(seed)
    words: Counter[str] = Counter()
    pairs: list[tuple[str, str]] = []
    tags: set[str] = set()
    handles: set[str] = set()
    for post in posts:
        tokens = [t for t in tokenize(post.text) if len(t) > 3 and not t.isdigit()]
        words.update(tokens)
        pairs.extend(zip(tokens, tokens[1:], strict=False))
        tags.update(fold(h) for h in post.hashtags if fold(h).replace("_", "").isalnum())
        handles.update(fold(m) for m in post.mentions if fold(m).replace("_", "").isalnum())
    # Brands are mostly rare words; some are common ones.
    vocab = [w for w, _ in words.most_common(3000)]
    tag_list, handle_list = sorted(tags), sorted(handles)
    filters: list[ast.Node] = [
        ast.Lang("en"),
        ast.Lang("es"),
        ast.Network("x"),
        ast.Network("bluesky"),
        ast.Not(ast.IsRepost()),
    ]
    out: list[ast.Node] = []
    while len(out) < n:
        word = ast.Term(rng.choice(vocab))
        shape = rng.random()
        if shape < 0.3:
            node: ast.Node = word
        elif shape < 0.5:
            parts: list[ast.Node] = [word]
            if tag_list:
                parts.append(ast.Hashtag(rng.choice(tag_list)))
            if handle_list:
                parts.append(ast.Mention(rng.choice(handle_list)))
            node = ast.or_(*parts)
        elif shape < 0.65 and pairs:
            node = ast.Phrase(rng.choice(pairs))
        elif shape < 0.8:
            node = ast.and_(
                word, ast.Not(ast.Term(rng.choice(vocab))), ast.Not(ast.Term(rng.choice(vocab)))
            )
        elif shape < 0.97:
            node = ast.and_(word, rng.choice(filters), rng.choice(filters))
        else:
            node = ast.and_(rng.choice(filters), ast.Not(ast.Term(rng.choice(vocab))))
        out.append(node)
    return out


def run(posts: list[Post], n: int, baseline_seconds: float) -> dict[str, float]:
    queries = make_queries(posts, n)
    named = [(str(i), q) for i, q in enumerate(queries)]
    began = time.perf_counter()
    matcher = Matcher(named)
    build = time.perf_counter() - began

    # Compiled matcher: all posts, repeated until at least a second has passed.
    done, began, results = 0, time.perf_counter(), []
    while True:
        results = [matcher.match(post) for post in posts]
        done += len(posts)
        if time.perf_counter() - began >= 1.0:
            break
    fast = done / (time.perf_counter() - began)

    # Naive loop: as many posts as fit in the time budget, checked against the matcher.
    checked, began = 0, time.perf_counter()
    for post, got in zip(posts, results, strict=True):
        expected = [name for name, node in named if matches(node, post)]
        assert expected == got, (post.network, post.id)
        checked += 1
        if time.perf_counter() - began >= baseline_seconds:
            break
    naive = checked / (time.perf_counter() - began)
    sample = posts[:500]
    candidates = sum(len(matcher.candidates(PostView(p))) for p in sample)
    return {
        "queries": n,
        "always": len(matcher.always),
        "build_ms": build * 1000,
        "matcher": fast,
        "naive": naive,
        "ratio": fast / naive,
        "candidates": candidates / len(sample),
        "matches_per_post": sum(map(len, results)) / len(posts),
        "checked": checked,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", default="10,100,1000")
    parser.add_argument("--baseline-seconds", type=float, default=5.0)
    args = parser.parse_args()
    posts = load_posts()
    print(f"{len(posts)} real posts")
    print(
        "| queries | always evaluated | build ms | candidates/post | matches/post | matcher posts/s | naive posts/s | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for n in (int(x) for x in args.queries.split(",")):
        r = run(posts, n, args.baseline_seconds)
        print(
            f"| {r['queries']} | {r['always']} | {r['build_ms']:.0f} | {r['candidates']:.1f} | "
            f"{r['matches_per_post']:.2f} | {r['matcher']:,.0f} | {r['naive']:,.0f} | {r['ratio']:.1f}× |",
            flush=True,
        )


if __name__ == "__main__":
    main()
