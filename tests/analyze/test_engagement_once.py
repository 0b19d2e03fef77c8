"""Report engagement counts each post once: a repost carries its original's
figures (X puts the original's public_metrics on every retweet), so it adds
nothing of its own; the original is counted once, by its own row when it is
among the mentions, else by the figures its reposts carry. Real twarc2 data
(the #brexit capture: 67 retweets, one original retweeted 17 times) imported
by the real CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from hubbub.analyze import Selection, build_report, render_csv, render_html
from hubbub.analyze.engagement import engagement_totals, own_engagement
from hubbub.store import open_store
from tests.cli.test_data_commands import hubbub
from tests.conftest import PAYLOADS, require_shared_data

BREXIT = PAYLOADS / "x_v2_twarc2" / "brexit.jsonl"
RETWEETED_17_TIMES = "1440713161355583489"


def _brexit_tweets() -> dict[str, dict[str, Any]]:
    """Every tweet of the capture (data and includes) by id, read here from
    the file itself rather than from the store."""
    tweets: dict[str, dict[str, Any]] = {}
    for line in BREXIT.read_bytes().splitlines():
        page = orjson.loads(line)
        for tweet in page.get("includes", {}).get("tweets", []) + page["data"]:
            tweets.setdefault(tweet["id"], tweet)
    return tweets


def _is_retweet(tweet: dict[str, Any]) -> bool:
    return any(ref["type"] == "retweeted" for ref in tweet.get("referenced_tweets", []))


def test_report_counts_a_retweeted_original_once(db_url: str) -> None:
    require_shared_data()
    done = hubbub("import", "--db", db_url, str(BREXIT))
    assert done.returncode == 0, done.stderr
    with open_store(db_url) as store:
        report = build_report(store, Selection("query", "#brexit"))
    extent = report["extent"]
    counted = extent["engagement_counting"]
    assert (counted["posts"], counted["reposts_not_counted"]) == (68, 67)
    assert counted["originals_from_reposts"] == 0  # every original is stored too
    assert "counted once" in counted["rule"]

    # The expectation from the file: the public_metrics of each tweet that
    # is not a retweet and mentions #brexit, summed once.
    tweets = _brexit_tweets()
    originals = [
        t
        for t in tweets.values()
        if not _is_retweet(t)
        and any(h["tag"].lower() == "brexit" for h in t.get("entities", {}).get("hashtags", []))
    ]
    assert RETWEETED_17_TIMES in {t["id"] for t in originals}
    expected_reposts = sum(t["public_metrics"]["retweet_count"] for t in originals)
    assert extent["engagement"]["reposts"] == expected_reposts == 3056
    # Old code: 8153, the 17 retweets of one original each adding its 22.
    assert tweets[RETWEETED_17_TIMES]["public_metrics"]["retweet_count"] == 22
    e = extent["engagement"]
    assert e["total"] == e["likes"] + e["reposts"] + e["replies"] + e["quotes"] == 11913

    # The HTML report and the CSV say how it was counted.
    assert "each post once: 67 reposts add nothing of their own" in render_html(report)
    total_row = next(
        line
        for line in render_csv(report).splitlines()
        if line.startswith("extent.engagement,total")
    )
    assert total_row.startswith("extent.engagement,total,11913,") and "counted once" in total_row

    # The "most engaged" examples rank a retweet by its own engagement (none),
    # not by its original's: no retweet outranks an original of its intent.
    for examples in report["why"]["examples"].values():
        ids = [x["id"] for x in examples]
        retweet_at = [i for i, x in enumerate(ids) if _is_retweet(tweets[x])]
        original_at = [i for i, x in enumerate(ids) if not _is_retweet(tweets[x])]
        assert not retweet_at or not original_at or min(retweet_at) > max(original_at)


def _mention(post_id: str, repost_of: str | None, metrics: dict[str, Any]) -> dict[str, Any]:
    return {
        "network": "x",
        "post_id": post_id,
        "repost_of": repost_of,
        "metrics": metrics,
        "created_at": datetime(2024, 5, 1, tzinfo=UTC),
    }


def test_original_known_only_from_its_reposts_is_counted_once() -> None:
    # Three retweets of an original outside the data, fetched at different
    # times: the original counts once, with the largest figures seen.
    mentions = [
        _mention("r1", "o", {"likes": 0, "reposts": 20}),
        _mention("r2", "o", {"likes": 0, "reposts": 22}),
        _mention("r3", "o", {"likes": 0, "reposts": 21, "replies": "junk"}),
        _mention("p", None, {"likes": 4, "replies": 1}),
    ]
    assert engagement_totals(mentions) == {
        "likes": 4,
        "reposts": 22,
        "replies": 1,
        "quotes": 0,
        "total": 27,
    }
    assert [own_engagement(m) for m in mentions] == [0, 0, 0, 5]
    # With the original among the mentions, its own row is what counts.
    with_original = [*mentions, _mention("o", None, {"reposts": 23, "likes": 100})]
    assert engagement_totals(with_original)["reposts"] == 23
    assert engagement_totals(with_original)["likes"] == 104
