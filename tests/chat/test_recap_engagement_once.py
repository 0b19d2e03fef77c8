"""The recap's reach counts engagement once per post, as the listening report
does (hubbub.analyze.engagement): a retweet carries its original's figures,
so summing every post counted an original once per retweet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from hubbub.post import Author, Post
from hubbub.store import Ingest, open_store
from tests.cli.test_data_commands import hubbub

TAG = "pizzachat"
AT = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)


def _post(n: int, metrics: dict[str, int], repost_of: str | None = None) -> Post:
    text = f"RT @host: pizza #{TAG}" if repost_of else f"post {n} #{TAG}"
    return Post(
        "x",
        str(1000 + n),
        Author("x", f"id-{n}", f"user{n}", display_name=f"User {n}"),
        text,
        AT + timedelta(minutes=n),
        hashtags=(TAG,),
        repost_of=repost_of,
        metrics=metrics,
    )


def test_recap_reach_counts_a_retweeted_original_once(tmp_path: Path) -> None:
    db = str(tmp_path / "recap.db")
    posts = [
        _post(1, {"likes": 5, "reposts": 22, "replies": 1}),
        # Three retweets of post 1, each carrying its figures.
        *(_post(n, {"likes": 0, "reposts": 22}, repost_of="1001") for n in (2, 3, 4)),
        # Two retweets of an original outside the chat, fetched at different times.
        _post(5, {"reposts": 7}, repost_of="999"),
        _post(6, {"reposts": 9}, repost_of="999"),
    ]
    with open_store(db) as store:
        store.ingest([Ingest(p) for p in posts])
    done = hubbub("recap", TAG, "--db", db)
    assert done.returncode == 0, done.stderr
    reach = orjson.loads(done.stdout)["reach"]
    assert reach["posts"] == 6
    # The old sum: reposts 22 * 4 + 7 + 9 = 104.
    assert reach["engagement"] == {"likes": 5, "reposts": 22 + 9, "replies": 1, "quotes": 0}
