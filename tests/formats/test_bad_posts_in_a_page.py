"""One bad post costs only itself: the other posts of its page or list are
read, and the bad one is named (its id, the field, why) in ``ctx.problems``.
Pages are real recorded payloads from ../shared/data/payloads with one post
broken by hand."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from hubbub.formats import Context, FormatError, parse_record
from hubbub.post import Post

PAYLOADS = Path(__file__).resolve().parents[3] / "shared" / "data" / "payloads"

pytestmark = pytest.mark.skipif(
    not PAYLOADS.is_dir(), reason="shared payloads (../shared/data/payloads) are absent"
)


def _load(relative: str) -> Any:
    return orjson.loads((PAYLOADS / relative).read_bytes())


def _first_line(relative: str) -> Any:
    with open(PAYLOADS / relative, "rb") as handle:
        return orjson.loads(handle.readline())


def _posts(items: list[Any]) -> list[Post]:
    return [i for i in items if isinstance(i, Post) and not i.embedded]


def _twarc2_page() -> dict[str, Any]:
    page = _first_line("x_v2_twarc2/brexit.jsonl")
    assert len(page["data"]) >= 3
    return dict(page)


@pytest.mark.parametrize(
    ("break_it", "field", "named"),
    [
        (lambda t: t.pop("text"), "text", True),
        (lambda t: t.__setitem__("text", 5), "text", True),
        (lambda t: t.__setitem__("id", {"x": 1}), "id", False),
        (lambda t: t.pop("id"), "id", False),
    ],
    ids=["no text", "text a number", "id an object", "no id"],
)
def test_a_broken_tweet_is_skipped_and_named(break_it: Any, field: str, named: bool) -> None:
    page = _twarc2_page()
    data = copy.deepcopy(page["data"])
    bad_id = data[1]["id"]
    break_it(data[1])
    page["data"] = data
    ctx = Context(source="brexit.jsonl")
    used, items = parse_record(page, ctx)
    assert used == "x-v2"
    ids = {p.id for p in _posts(items)}
    assert ids == {t["id"] for t in page["data"] if t is not data[1]}
    (problem,) = ctx.problems
    assert problem.field == field
    assert problem.post == (bad_id if named else None)
    assert field in str(problem) and "X post" in str(problem)


def test_a_tweet_without_created_at_gets_its_snowflake_time() -> None:
    page = _twarc2_page()
    data = copy.deepcopy(page["data"])
    sent = data[0].pop("created_at")
    page["data"] = data
    ctx = Context()
    _used, items = parse_record(page, ctx)
    post = next(p for p in _posts(items) if p.id == data[0]["id"])
    expected = datetime.fromisoformat(sent.replace("Z", "+00:00"))
    # The snowflake keeps milliseconds; X's created_at shows them as .000.
    assert abs((post.created_at - expected).total_seconds()) < 1
    assert ctx.problems == []


def test_a_pre_snowflake_tweet_without_created_at_is_named_not_dated_now() -> None:
    page = {
        "data": [
            {"id": "1", "text": "good", "created_at": "2024-01-01T00:00:00.000Z"},
            {"id": "2", "text": "t"},
            {"id": "3", "text": "good", "created_at": "2024-01-01T00:00:00.000Z"},
        ],
        "includes": {"users": [{"id": "1", "username": "u"}]},
    }
    ctx = Context()
    _used, items = parse_record(page, ctx)
    assert [p.id for p in _posts(items)] == ["1", "3"]
    (problem,) = ctx.problems
    assert (problem.post, problem.field) == ("2", "created_at")


def test_a_page_with_nothing_readable_still_raises_with_its_bad_posts() -> None:
    page = {"data": [{"id": "2", "text": "t"}, {"id": "5"}], "meta": {"result_count": 2}}
    with pytest.raises(FormatError, match="X post 2 skipped .*created_at.*1 more") as caught:
        parse_record(page, Context())
    assert [p.field for p in caught.value.problems] == ["created_at", "text"]


def test_a_bare_list_of_tweets_keeps_the_good_ones() -> None:
    tweets = copy.deepcopy(_load("x_api_responses/v2_test_client_get_tweets.json")["data"])
    assert len(tweets) >= 2
    tweets[0]["text"] = None
    ctx = Context()
    _used, items = parse_record(tweets, ctx, "x-v2")
    assert {p.id for p in _posts(items)} == {t["id"] for t in tweets[1:]}
    assert [(p.post, p.field) for p in ctx.problems] == [(tweets[0]["id"], "text")]


def test_a_v1_timeline_keeps_the_statuses_it_can_read() -> None:
    timeline = copy.deepcopy(_load("x_api_responses/v1.1_testhometimeline.json"))
    assert len(timeline) >= 2
    timeline[0]["created_at"] = "never"
    timeline[0]["id_str"] = timeline[0]["id"] = "20"  # sequential: no time in the id
    ctx = Context()
    _used, items = parse_record(timeline, ctx)
    assert len(_posts(items)) >= len(timeline) - 1
    assert [(p.post, p.field) for p in ctx.problems] == [("20", "created_at")]


def test_a_mastodon_timeline_with_one_bad_created_at_keeps_the_rest() -> None:
    # A timeline of three copies of the docs' Status, the first one broken.
    status = _load("mastodon/status_entity_example.json")
    timeline = [copy.deepcopy(status) for _ in range(3)]
    for n, copied in enumerate(timeline):
        copied["uri"] = f"{status['uri']}-{n}"
        copied["id"] = f"{status['id']}{n}"
    timeline[0]["created_at"] = "yesterday"
    ctx = Context()
    used, items = parse_record(timeline, ctx)
    assert used == "mastodon"
    assert {p.id for p in _posts(items)} == {s["uri"] for s in timeline[1:]}
    (problem,) = ctx.problems
    assert (problem.post, problem.field) == (timeline[0]["uri"], "created_at")
    assert "'yesterday' is not a time" in str(problem)


def test_a_mastodon_status_missing_its_account_is_named() -> None:
    status = _load("mastodon/status_entity_example.json")
    broken = copy.deepcopy(status)
    del broken["account"]
    broken["uri"] = status["uri"] + "-broken"
    ctx = Context()
    _used, items = parse_record([status, broken], ctx)
    assert [p.id for p in _posts(items)] == [status["uri"]]
    assert [(p.post, p.field) for p in ctx.problems] == [(broken["uri"], "account")]


def test_bluesky_search_results_keep_the_posts_they_can_read() -> None:
    page = copy.deepcopy(_load("bluesky_xrpc/app.bsky.feed.searchPosts_q-redistricting.json"))
    views = page["posts"]
    assert len(views) >= 2
    bad_uri = views[0]["uri"]
    views[0]["author"] = {"handle": "no-did.example"}
    ctx = Context()
    _used, items = parse_record(page, ctx)
    assert bad_uri not in {p.id for p in _posts(items)}
    assert len(_posts(items)) == len(views) - 1
    (problem,) = ctx.problems
    assert problem.post == bad_uri and "DID" in str(problem)


def test_problems_are_those_of_the_last_parse() -> None:
    """A context reused for a whole stream does not pile up old problems."""
    ctx = Context()
    parse_record([{"id": "1600000000000000100", "text": "ok"}, {"id": "7", "text": 1}], ctx)
    assert len(ctx.problems) == 1
    parse_record({"id": "1600000000000000100", "text": "ok"}, ctx)
    assert ctx.problems == []


def test_lone_surrogates_in_posts_become_replacement_characters() -> None:
    from hubbub.formats.reader import records

    line = (
        b'{"data":{"id":"1600000000000000100","text":"bad \\ud800 here #surr",'
        b'"author_id":"9","created_at":"2024-01-01T00:00:00Z"},'
        b'"includes":{"users":[{"id":"9","username":"sur\\udfff","name":"\\ud83d"}]}}\n'
    )
    (record,) = list(records(line))
    assert record.error is None
    (post,) = parse_record(record.value, Context(fetched_at=datetime.now(UTC)))[1]
    assert isinstance(post, Post)
    assert post.text == "bad \ufffd here #surr"
    assert post.author.handle == "sur\ufffd" and post.author.display_name == "\ufffd"
    # A well-formed pair is still one character.
    (pair,) = list(records(b'{"t": "\\ud83d\\ude00 \\ud800"}'))
    assert pair.value == {"t": "\U0001f600 \ufffd"}
