"""Listening matcher throughput (posts/s) with 10, 100 and 1000 saved queries.

Baseline, in the same run: the naive loop a listener without a compiled
matcher would run, ``hubbub.query.evaluate.matches`` for every query on every
post. Both see the same posts (every post in ../shared/data/payloads, read
through a temporary SQLite store, reposts as matching sees them: with their
original's text, ``query.reposts.resolve_reposts``) and the same queries, and
the matcher's results are compared with the baseline's post by post, so the
figure is for a correct matcher.

Queries are generated from the data's own vocabulary, in the shapes people
save: a brand word, a brand OR its hashtag OR its @account, a quoted phrase,
a word with exclusions, a word with ``lang:``/``network:``/``-is:repost``
filters, and a few filter-only queries. Seeded, so every run uses the same
queries.

The matcher caches each word's tokens (a stream's words repeat). So that no
timed post is one the cache has already seen, each timed pass builds a new
matcher, runs it untimed over one half of the posts (as a stream would have
run it over earlier posts), then times the other half; passes alternate the
halves. Reported: the median and range of the passes, as wall-clock posts/s
and as posts per CPU second of this process (one core; on a loaded machine
the wall clock also counts time spent waiting for a core). "cold" is a pass
over all posts with a new, empty matcher. The load average is printed.

    .venv/bin/python bench/match.py            # quick (make bench): ~1 min
    .venv/bin/python bench/match.py --long     # 9 passes, every post checked
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hubbub.listen.matcher import Matcher  # noqa: E402
from hubbub.post import Post  # noqa: E402
from hubbub.query import ast, matches  # noqa: E402
from hubbub.query.reposts import resolve_reposts  # noqa: E402
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
        return resolve_reposts(store.iter_posts())


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


def run(posts: list[Post], n: int, passes: int, check_seconds: float | None) -> dict[str, float]:
    queries = make_queries(posts, n)
    named = [(str(i), q) for i, q in enumerate(queries)]
    began = time.perf_counter()
    Matcher(named)
    build = time.perf_counter() - began

    wall: list[float] = []
    cpu: list[float] = []
    half = len(posts) // 2
    halves = (posts[:half], posts[half:])
    for i in range(passes):
        matcher = Matcher(named)
        warm, timed = halves[i % 2], halves[1 - i % 2]
        for post in warm:
            matcher.match(post)
        w, c = time.perf_counter(), time.process_time()
        for post in timed:
            matcher.match(post)
        cpu.append(len(timed) / (time.process_time() - c))
        wall.append(len(timed) / (time.perf_counter() - w))
    matcher = Matcher(named)
    c = time.process_time()
    results = [matcher.match(post) for post in posts]
    cold = len(posts) / (time.process_time() - c)

    # Naive loop: every post, or as many as fit in check_seconds; each
    # result is checked against the matcher's.
    checked, began = 0, time.perf_counter()
    for post, got in zip(posts, results, strict=True):
        expected = [name for name, node in named if matches(node, post)]
        assert expected == got, (post.network, post.id)
        checked += 1
        if check_seconds is not None and time.perf_counter() - began >= check_seconds:
            break
    naive = checked / (time.perf_counter() - began)
    return {
        "queries": n,
        "evaluated": matcher.evaluated,
        "build_ms": build * 1000,
        "wall": statistics.median(wall),
        "wall_min": min(wall),
        "wall_max": max(wall),
        "cpu": statistics.median(cpu),
        "cold": cold,
        "naive": naive,
        "matches_per_post": sum(map(len, results)) / len(posts),
        "checked": checked,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", default="10,100,1000")
    parser.add_argument("--long", action="store_true", help="9 passes; check every post")
    parser.add_argument("--quick", action="store_true", help="the default: 5 passes, 5 s check")
    parser.add_argument("--passes", type=int, help="timed passes per query count")
    args = parser.parse_args()
    passes = args.passes or (9 if args.long else 5)
    check_seconds = None if args.long else 5.0
    posts = load_posts()
    print(
        f"{len(posts)} real posts ({sum(p.repost_of is not None for p in posts)} reposts), "
        f"{passes} passes, load average before: {os.getloadavg()[0]:.1f}"
    )
    print(
        "| queries | evaluated as closures | build ms | matches/post "
        "| matcher posts/s (median, range) | per CPU second | cold, per CPU s | naive posts/s "
        "| ratio | posts checked |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in (int(x) for x in args.queries.split(",")):
        r = run(posts, n, passes, check_seconds)
        print(
            f"| {r['queries']} | {r['evaluated']} | {r['build_ms']:.0f} | "
            f"{r['matches_per_post']:.2f} | {r['wall']:,.0f} ({r['wall_min']:,.0f}–{r['wall_max']:,.0f}) | "
            f"{r['cpu']:,.0f} | {r['cold']:,.0f} | {r['naive']:,.0f} | {r['wall'] / r['naive']:,.0f}× | {r['checked']} |",
            flush=True,
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
