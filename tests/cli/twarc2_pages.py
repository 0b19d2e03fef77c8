"""Generate twarc2 page files (one 100-post search page per line) for the
concurrency and memory tests, from the shared real payloads.

The tweets are real ones with new ids: each generated post has its own id,
conversation and one-element edit chain, and no references to other tweets
(so a page stores exactly its own posts and nothing embedded). Authors come
along in ``includes.users`` as twarc2 writes them. Nothing generated is ever
committed: the files live in the test's temporary folder.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from tests.conftest import PAYLOADS, require_shared_data

POSTS_PER_PAGE = 100
FIRST_ID = 1_900_000_000_000_000_000
_TEMPLATE_FILES = (
    "brexit.jsonl",
    "noflat.jsonl",
    "withheld.jsonl",
    "2sets.jsonl",
    "media_policy_violation_on.jsonl",
    "entities_test.jsonl",
)


def _templates() -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    require_shared_data()
    tweets: list[dict[str, Any]] = []
    users: dict[str, dict[str, Any]] = {}
    for name in _TEMPLATE_FILES:
        for line in (PAYLOADS / "x_v2_twarc2" / name).read_bytes().splitlines():
            if not line.strip():
                continue
            page = orjson.loads(line)
            for user in page.get("includes", {}).get("users", []):
                users.setdefault(user["id"], user)
            for tweet in page.get("data", []):
                tweet = {
                    k: v
                    for k, v in tweet.items()
                    if k not in ("referenced_tweets", "in_reply_to_user_id", "attachments")
                }
                tweets.append(tweet)
    return tweets, users


class PageWriter:
    """Writes pages of generated posts. Post ``n`` always has the same id and
    content, and a page is named by its first post: two files with a page
    starting at the same post share identical bytes (one raw payload); pages
    starting elsewhere hold some of the same posts in different payloads."""

    def __init__(self) -> None:
        self.tweets, self.users = _templates()

    @staticmethod
    def post_id(n: int) -> str:
        return str(FIRST_ID + n)

    def page(self, first: int) -> bytes:
        """The page of posts ``first`` … ``first + 99``."""
        data = []
        authors: dict[str, dict[str, Any]] = {}
        for n in range(first, first + POSTS_PER_PAGE):
            tweet = copy.deepcopy(self.tweets[n % len(self.tweets)])
            post_id = self.post_id(n)
            tweet.update(id=post_id, conversation_id=post_id, edit_history_tweet_ids=[post_id])
            data.append(tweet)
            author = self.users.get(tweet.get("author_id", ""))
            if author is not None:
                authors[author["id"]] = author
        page = {
            "data": data,
            "includes": {"users": list(authors.values())},
            "meta": {
                "newest_id": data[-1]["id"],
                "oldest_id": data[0]["id"],
                "result_count": len(data),
            },
            "__twarc": {"url": "https://api.twitter.com/2/tweets/search/recent", "version": "2"},
        }
        return orjson.dumps(page)

    def write(self, path: Path, starts: Iterable[int]) -> list[str]:
        """Write the pages starting at each post of ``starts`` to ``path``;
        return the post ids they hold."""
        ids: list[str] = []
        with path.open("wb") as out:
            for first in starts:
                out.write(self.page(first) + b"\n")
                ids.extend(self.post_id(n) for n in range(first, first + POSTS_PER_PAGE))
        return ids

    def write_to_size(self, path: Path, size: int) -> int:
        """Write pages until the file holds at least ``size`` bytes; return
        how many posts it holds."""
        written = 0
        pages = 0
        with path.open("wb") as out:
            while written < size:
                line = self.page(pages * POSTS_PER_PAGE) + b"\n"
                out.write(line)
                written += len(line)
                pages += 1
        return pages * POSTS_PER_PAGE
