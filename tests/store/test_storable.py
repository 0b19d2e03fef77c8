"""A NUL in any field of a post, from any source (a live Jetstream message
decodes "\\u0000" like an imported file does), is stored as U+FFFD. On
PostgreSQL it failed the write of the whole batch: the good posts beside it
were lost too."""

from __future__ import annotations

from datetime import UTC, datetime

from hubbub.post import Author, Post
from hubbub.query.parser import parse
from hubbub.store import Ingest, Store
from hubbub.store.storable import storable

AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_a_nul_anywhere_in_a_post_costs_neither_it_nor_its_batch(store: Store) -> None:
    bad = Post(
        "bluesky",
        "at://did:plc:a/app.bsky.feed.post/1",
        Author("bluesky", "did:plc:a", "a.bsky.social", display_name="An\x00na"),
        "hello\x00world #tag",
        AT,
        hashtags=("tag", "ta\x00g"),
        metrics={"li\x00kes": 2},
        langs=("en",),
    )
    good = Post(
        "bluesky",
        "at://did:plc:b/app.bsky.feed.post/2",
        Author("bluesky", "did:plc:b", "b"),
        "fine #tag",
        AT,
        hashtags=("tag",),
    )
    result = store.ingest([Ingest(bad), Ingest(good)], "default")
    assert result.counts.imported == 2
    stored = {p.id: p for p in store.iter_posts(parse("#tag"), workspace="default")}
    assert stored[bad.id].text == "hello\ufffdworld #tag"
    assert stored[bad.id].author.display_name == "An\ufffdna"
    assert stored[bad.id].hashtags == ("tag", "ta\ufffdg")
    assert stored[good.id].text == "fine #tag"


def test_an_item_without_nul_is_passed_on_as_it_is() -> None:
    post = Post("x", "1", Author("x", "1", "u"), "plain text", AT, metrics={"likes": 1})
    assert storable(post) is post
    cleaned = storable(Post("x", "1", Author("x", "1", "u\x00"), "plain", AT))
    assert cleaned.author.handle == "u\ufffd" and cleaned.text == "plain"
