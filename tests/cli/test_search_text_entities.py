"""``hubbub search '#tag'`` and ``'@name'`` find X posts that were fetched
without ``entities``: the real tweepy recordings (default tweet fields), imported
by the real CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import orjson

from tests.cli.test_data_commands import hubbub
from tests.conftest import PAYLOADS, require_shared_data

API = PAYLOADS / "x_api_responses"


def _found(db_url: str, query: str) -> list[str]:
    done = hubbub("search", query, "--db", db_url, "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    return sorted(orjson.loads(line)["id"] for line in done.stdout.splitlines())


def test_hashtag_and_mention_searches_find_posts_without_entities(db_url: str) -> None:
    require_shared_data()
    files = [API / "v2_test_client_get_tweet.json", API / "v2_test_client_get_quote_tweets.json"]
    done = hubbub("import", "--db", db_url, *map(str, files))
    assert done.returncode == 0, done.stderr

    assert _found(db_url, "#TwitterAPI") == ["1293593516040269825"]
    assert _found(db_url, "#twitter") == ["1447395402676793345"]  # tags match in any case
    retweets = _found(db_url, "@TwitterAPI")
    assert len(retweets) == 7 and retweets == _found(db_url, '"RT @TwitterAPI"')
    assert _found(db_url, "#Twi") == []  # the retweets' "#Twi…" was cut, not a tag
    assert "1293593516040269825" in _found(db_url, "has:links")
