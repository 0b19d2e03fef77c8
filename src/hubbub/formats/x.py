"""X (Twitter) payloads → ``hubbub.post`` records.

Two wire formats:

- API v2 (``detect_v2``/``parse_v2``, this module): response pages
  ``{data, includes, meta, errors}`` as the API and twarc2 write them (twarc2
  adds ``__twarc``; filtered-stream lines add ``matching_rules``), single
  ``data`` objects, bare tweet objects and lists of them, twarc2 "flattened"
  tweets (``author`` and referenced tweets inlined), tweet counts, user
  lookups, batch-compliance rows and error-only responses.
- API v1.1 (``detect_v1``/``parse_v1``, implemented in ``x_v1``): statuses,
  timelines (lists), ``search/tweets`` bodies and streaming notices.

Identity (see ``hubbub.post``): a post is keyed by its tweet id, except an
edited tweet, which is keyed by the first id of its edit chain so that every
version lands on one post; ``version_id`` says which version a record is.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from hubbub.formats import BadPost, Context, FormatError, bad_post, finish, shown
from hubbub.formats.x_common import (
    NETWORK,
    created_at,
    dicts,
    expand_text,
    int_or_none,
    is_id,
    langs,
    links,
    mapping,
    metrics,
    post_url,
    profile_url,
    source_name,
    str_id,
    text_or_none,
    unique,
    withheld,
)
from hubbub.formats.x_entities import TextEntities, from_text
from hubbub.formats.x_v1 import detect_v1, parse_v1
from hubbub.post import Author, Deletion, Item, Post, Skipped, parse_time

__all__ = ["detect_v1", "detect_v2", "parse_v1", "parse_v2"]

_METRICS = {
    "like_count": "likes",
    "retweet_count": "reposts",
    "reply_count": "replies",
    "quote_count": "quotes",
    "impression_count": "impressions",
    "bookmark_count": "bookmarks",
}

# Keys that mark another network's objects: Mastodon statuses/accounts
# (uri, account, content, acct), Bluesky views and records (uri, cid, record,
# $type) and Jetstream events (did, time_us). A v2 tweet never has them.
_FOREIGN_KEYS = frozenset(
    {"uri", "cid", "account", "content", "acct", "did", "time_us", "record", "$type"}
)
# Keys only a v1.1 status has; v2 renamed or dropped all of them.
_V1_KEYS = frozenset(
    {"id_str", "user", "full_text", "extended_tweet", "retweeted_status", "quoted_status"}
)
_META_KEYS = frozenset(
    {"result_count", "next_token", "previous_token", "newest_id", "oldest_id", "total_tweet_count"}
)
_PROBLEM_PREFIXES = ("https://api.twitter.com/2/problems/", "https://api.x.com/2/problems/")
_COMPLIANCE_ROW_KEYS = frozenset({"id", "action", "created_at", "reason", "redacted_at"})
_RT_PREFIX = re.compile(r"RT @(\w{1,15}):")
_PAGE_KEYS = frozenset({"includes", "meta", "errors", "__twarc", "matching_rules"})
NETWORK_NAME = "X"  # as messages name the network


# --- detection ------------------------------------------------------------


def _is_tweet_row(obj: Any) -> bool:
    """A tweet inside a value already known to be v2: id and text usable;
    ``created_at`` is checked when the post is built (a bad one is that
    post's problem, not the page's)."""
    if not isinstance(obj, dict) or not is_id(obj.get("id")):
        return False
    return isinstance(obj.get("text"), str) and not obj.keys() & (_FOREIGN_KEYS | _V1_KEYS)


def _is_tweet(obj: Any) -> bool:
    """A tweet on its own (detection): also its created_at, if any, in v2's form."""
    if not _is_tweet_row(obj):
        return False
    # v2 times are ISO 8601; a "Wed Oct 10 …" created_at is a v1.1 status.
    created = obj.get("created_at")
    return created is None or (isinstance(created, str) and created[:4].isdigit())


def _is_v2_row(obj: Any) -> bool:
    """Could this be a row of a v2 ``data`` list, even a broken one? A dict
    with none of the keys that mark another network's or v1.1's objects."""
    return isinstance(obj, dict) and not obj.keys() & (_FOREIGN_KEYS | _V1_KEYS)


def _row_problem(row: Any) -> BadPost:
    """Why a row of a v2 page is neither a tweet nor another known object."""
    if not isinstance(row, dict):
        return BadPost(NETWORK_NAME, None, None, f"{shown(row)} where an object belongs")
    post = row.get("id") if is_id(row.get("id")) else None
    if post is None:
        if "id" not in row:
            return BadPost(NETWORK_NAME, None, "id", "no id")
        return BadPost(
            NETWORK_NAME, None, "id", f"id is {shown(row['id'])}, not a string of digits"
        )
    if "text" not in row:
        return BadPost(NETWORK_NAME, post, "text", "no text")
    if not isinstance(row["text"], str):
        return BadPost(NETWORK_NAME, post, "text", f"text is {shown(row['text'])}, not a string")
    return BadPost(NETWORK_NAME, post, None, "not a tweet, user, count, list or space")


def _is_user(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and is_id(obj.get("id"))
        and isinstance(obj.get("username"), str)
        and "text" not in obj
        and not obj.keys() & _FOREIGN_KEYS
    )


def _is_count(obj: Any) -> bool:
    return isinstance(obj, dict) and "tweet_count" in obj and ("start" in obj or "end" in obj)


def _is_list(obj: Any) -> bool:
    """A v2 List object (``GET /2/lists/:id``, owned/followed lists): id and name, no text."""
    return (
        isinstance(obj, dict)
        and is_id(obj.get("id"))
        and isinstance(obj.get("name"), str)
        and not obj.keys() & ({"text", "username"} | _FOREIGN_KEYS)
    )


def _is_space(obj: Any) -> bool:
    """A v2 Space object: id and state (live/scheduled/ended), no text."""
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("id"), str)
        and obj.get("state") in ("live", "scheduled", "ended")
        and not obj.keys() & ({"text", "username"} | _FOREIGN_KEYS)
    )


def _compliance_event(obj: Any) -> tuple[str, dict[str, Any]] | None:
    """A compliance-stream event ``{"delete": {"tweet": {…}, "event_at": …}}``."""
    if isinstance(obj, dict) and len(obj) == 1:
        ((kind, body),) = obj.items()
        if isinstance(body, dict) and "event_at" in body:
            return kind, body
    return None


def _is_compliance_row(obj: Any) -> bool:
    """A batch-compliance job result row: ``{id, action, created_at, reason}``."""
    return (
        isinstance(obj, dict)
        and is_id(obj.get("id"))
        and isinstance(obj.get("action"), str)
        and obj.keys() <= _COMPLIANCE_ROW_KEYS
    )


def _is_problem(obj: dict[str, Any]) -> bool:
    """A top-level v2 problem (RFC 7807) such as a stream disconnect."""
    kind = obj.get("type")
    return isinstance(kind, str) and kind.startswith(_PROBLEM_PREFIXES)


def _is_errors(value: Any) -> bool:
    # v1.1 errors carry a numeric "code"; v2 problems a title/detail/type.
    items = dicts(value)
    return bool(items) and all(
        "code" not in e and e.keys() & {"title", "detail", "type", "message"} for e in items
    )


def _row_kind(obj: Any) -> str | None:
    if _is_tweet(obj):
        return "tweet"
    if _is_user(obj):
        return "user"
    if _is_count(obj):
        return "count"
    # Recognised X objects that are not posts: skipped, so a page of them imports
    # cleanly instead of failing as an unknown payload.
    if _is_list(obj):
        return "list"
    if _is_space(obj):
        return "space"
    if _compliance_event(obj) is not None:
        return "compliance"
    return None


def detect_v2(obj: Any) -> bool:
    """Is ``obj`` an X API v2 value (page, tweet, list of tweets, row, error)?"""
    if isinstance(obj, list):
        # A list of tweets, some of them possibly broken (they are reported
        # one by one): at least one real tweet and nothing of another kind.
        return any(_is_tweet(item) for item in obj) and all(_is_v2_row(item) for item in obj)
    if not isinstance(obj, dict) or obj.keys() & _FOREIGN_KEYS:
        return False
    if _is_tweet(obj) or _is_compliance_row(obj) or _is_problem(obj):
        return True
    if "data" in obj:
        data = obj["data"]
        if isinstance(data, dict):
            return _row_kind(data) is not None
        if isinstance(data, list):
            if not data:
                return bool(obj.keys() & {"meta", "includes", "errors", "__twarc"})
            # A page with broken rows is still a page: one known row or the
            # page's own keys say so, and each broken row is reported alone.
            if not all(_is_v2_row(item) for item in data):
                return False
            known = any(_row_kind(item) is not None for item in data)
            return known or bool(obj.keys() & _PAGE_KEYS)
        return False
    if _is_errors(obj.get("errors")):
        return True
    # A search page with no results: only ``meta`` (result_count 0).
    return bool(mapping(obj.get("meta")).keys() & _META_KEYS)


# --- parsing --------------------------------------------------------------


def parse_v2(obj: Any, ctx: Context) -> list[Item]:
    """Posts (data tweets, then embedded ones from ``includes``), deletions and
    skipped records in one v2 value."""
    if not detect_v2(obj):
        raise FormatError("not an X API v2 payload")
    if isinstance(obj, list):
        return _Page({"data": obj}).items(ctx)
    if _is_tweet(obj):
        # A twarc2 flattened stream tweet keeps the page-level keys on itself.
        page = {k: obj[k] for k in ("matching_rules", "__twarc") if k in obj}
        return _Page({"data": obj, **page}).items(ctx)
    if _is_compliance_row(obj):
        return [Skipped("compliance")]
    if "data" not in obj and (_is_problem(obj) or _is_errors(obj.get("errors"))):
        # An error-only response is a valid record that says "no data".
        return [Skipped("error"), *_Page(obj).items(ctx)]
    return _Page(obj).items(ctx)


class _Page:
    """One v2 value with the lookup tables its tweets are resolved against."""

    def __init__(self, obj: dict[str, Any]) -> None:
        data = obj.get("data")
        if data is None:
            self.rows: list[Any] = []
        elif isinstance(data, dict):
            self.rows = [data]
        elif isinstance(data, list):
            self.rows = data
        else:
            raise FormatError("X v2 'data' is neither an object nor a list")
        includes = mapping(obj.get("includes"))
        data_tweets = [row for row in self.rows if _is_tweet_row(row)]
        self.embedded = [t for t in dicts(includes.get("tweets")) if _is_tweet(t)]
        # twarc2 "flattened" tweets inline their referenced tweets (which may
        # inline theirs: a retweet of a quote) and their authors.
        pending = data_tweets + self.embedded
        while pending:
            inlined = [
                r for t in pending for r in dicts(t.get("referenced_tweets")) if _is_tweet(r)
            ]
            self.embedded.extend(inlined)
            pending = inlined
        users = dicts(includes.get("users")) + [r for r in self.rows if _is_user(r)]
        users += [a for t in data_tweets + self.embedded if _is_user(a := t.get("author"))]
        self.users: dict[str, dict[str, Any]] = {}
        for user in users:
            if is_id(user.get("id")):
                self.users.setdefault(user["id"], user)
        self.places = {
            p["id"]: p["full_name"]
            for p in dicts(includes.get("places"))
            if isinstance(p.get("id"), str) and isinstance(p.get("full_name"), str)
        }
        self.tweets: dict[str, dict[str, Any]] = {}
        for tweet in data_tweets + self.embedded:
            self.tweets.setdefault(tweet["id"], tweet)
        self.handles = self._handles()
        self.rules = unique(_rule_name(r) for r in dicts(obj.get("matching_rules")))
        # A filtered-stream line: twarc2 records when it received it.
        twarc = mapping(obj.get("__twarc"))
        self.seen_at: datetime | None = None
        if "matching_rules" in obj:
            self.seen_at = parse_time(text_or_none(twarc.get("retrieved_at")))

    def _handles(self) -> dict[str, str]:
        """Usernames for user ids that have no user object in the page, from
        mentions (which carry the id when X expanded them) and from retweets,
        whose text starts with ``RT @original_author:``."""
        found: dict[str, str] = {}
        for tweet in self.tweets.values():
            for ents in _entity_sets(tweet):
                for mention in dicts(ents.get("mentions")):
                    uid, name = str_id(mention.get("id")), mention.get("username")
                    if uid and isinstance(name, str) and name:
                        found.setdefault(uid, name)
            match = _RT_PREFIX.match(tweet["text"])
            original = self.tweets.get(_ref_ids(tweet).get("retweeted") or "")
            if match and original is not None:
                author_id = str_id(original.get("author_id"))
                if author_id:
                    found.setdefault(author_id, match.group(1))
        return found

    def items(self, ctx: Context) -> list[Item]:
        """Every row's item; a row that cannot be read is skipped and named
        in ``ctx.problems`` (the page's other posts are kept)."""
        out: list[Item] = []
        problems: list[BadPost] = []
        seen: set[str] = set()
        for row in self.rows:
            kind = "tweet" if _is_tweet_row(row) else _row_kind(row)
            if kind == "tweet":
                if row["id"] not in seen:
                    seen.add(row["id"])
                    self._add_post(row, out, problems, embedded=False)
            elif kind in ("user", "count", "list", "space"):
                out.append(Skipped(kind))
            elif kind == "compliance":
                out.append(_compliance_item(row))
            else:
                problems.append(_row_problem(row))
        for tweet in self.embedded:
            if tweet["id"] not in seen:
                seen.add(tweet["id"])
                self._add_post(tweet, out, problems, embedded=True)
        return finish(out, problems, ctx)

    def _add_post(
        self, tweet: dict[str, Any], out: list[Item], problems: list[BadPost], *, embedded: bool
    ) -> None:
        try:
            out.append(self._post(tweet, embedded=embedded))
        except Exception as exc:  # noqa: BLE001 - one hostile tweet must not lose its page
            problems.append(bad_post(NETWORK_NAME, tweet["id"], exc))

    def identity(self, tweet_id: str) -> str:
        """The post id a tweet id maps to: its edit chain's head when the page
        holds that tweet and it was edited, else the id itself."""
        tweet = self.tweets.get(tweet_id)
        chain = _chain(tweet) if tweet is not None else ()
        return chain[0] if len(chain) > 1 else tweet_id

    def author(self, tweet: dict[str, Any]) -> Author:
        author_id = str_id(tweet.get("author_id"))
        if author_id is None and _is_user(tweet.get("author")):
            author_id = tweet["author"]["id"]
        user = self.users.get(author_id or "")
        if user is not None:
            return _author(user)
        handle = self.handles.get(author_id or "")
        # Unknown user: the id is still a stable, usable handle. With no
        # author_id at all (v2 default fields) the author is unknown: "".
        return Author(
            NETWORK, id=author_id or "", handle=handle or author_id or "", url=profile_url(handle)
        )

    def _post(self, tweet: dict[str, Any], *, embedded: bool) -> Post:
        tweet_id: str = tweet["id"]
        note = mapping(tweet.get("note_tweet"))
        note_text = text_or_none(note.get("text"))
        entity_sets = _entity_sets(tweet)
        url_entities = [u for ents in entity_sets for u in dicts(ents.get("urls"))]
        chain = _chain(tweet)
        refs = _ref_ids(tweet)
        author = self.author(tweet)
        handle = author.handle if author.url else None
        geo = mapping(tweet.get("geo"))
        held = mapping(tweet.get("withheld"))
        # note_tweet holds the whole text of a long post; text is cut short.
        text = expand_text(note_text or tweet["text"], url_entities)
        # Without entities (not asked for in tweet.fields), read them from the text.
        found = _entities(entity_sets, url_entities, text)
        return Post(
            network=NETWORK,
            id=chain[0] if len(chain) > 1 else tweet_id,
            author=author,
            text=text,
            created_at=created_at(tweet.get("created_at"), tweet_id),
            url=post_url(handle, tweet_id),
            langs=langs(tweet.get("lang")),
            reply_to=self._ref(refs, "replied_to"),
            quote_of=self._ref(refs, "quoted"),
            repost_of=self._ref(refs, "retweeted"),
            conversation_id=str_id(tweet.get("conversation_id")),
            hashtags=found.hashtags,
            mentions=found.mentions,
            links=found.links,
            media_count=len(mapping(tweet.get("attachments")).get("media_keys") or []),
            metrics=metrics(mapping(tweet.get("public_metrics")), _METRICS),
            place=self.places.get(geo.get("place_id") or "") or text_or_none(geo.get("full_name")),
            sensitive=tweet.get("possibly_sensitive") is True,
            source=source_name(tweet.get("source")),
            edit_ids=chain if len(chain) > 1 else (),
            version_id=tweet_id,
            withheld=withheld(held.get("copyright"), held.get("country_codes")),
            seen_at=None if embedded else self.seen_at,
            embedded=embedded,
            matching_rules=() if embedded else self.rules,
        )

    def _ref(self, refs: dict[str, str], kind: str) -> str | None:
        target = refs.get(kind)
        return self.identity(target) if target else None


def _entity_sets(tweet: dict[str, Any]) -> list[dict[str, Any]]:
    """Entity sets of a tweet: a long post's note_tweet entities (which index
    the full text) first, then the top-level ones (a subset, as a fallback)."""
    note = mapping(tweet.get("note_tweet"))
    sets = [mapping(note.get("entities")), mapping(tweet.get("entities"))]
    return [s for s in sets if s]


def _entities(
    entity_sets: list[dict[str, Any]], url_entities: list[dict[str, Any]], text: str
) -> TextEntities:
    """The tweet's hashtags, mentions and links: from its entity sets, or
    from its text when it has none (the payload did not ask for entities)."""
    if not entity_sets:
        return from_text(text)
    return TextEntities(
        hashtags=unique(h.get("tag") for e in entity_sets for h in dicts(e.get("hashtags"))),
        mentions=unique(m.get("username") for e in entity_sets for m in dicts(e.get("mentions"))),
        links=links(url_entities),
    )


def _chain(tweet: dict[str, Any]) -> tuple[str, ...]:
    ids = tweet.get("edit_history_tweet_ids")
    if not isinstance(ids, list):
        return ()
    return tuple(i for i in (str_id(x) for x in ids) if i)


def _ref_ids(tweet: dict[str, Any]) -> dict[str, str]:
    refs: dict[str, str] = {}
    for ref in dicts(tweet.get("referenced_tweets")):
        kind, ref_id = ref.get("type"), str_id(ref.get("id"))
        if isinstance(kind, str) and ref_id:
            refs.setdefault(kind, ref_id)
    return refs


def _rule_name(rule: dict[str, Any]) -> str | None:
    tag = rule.get("tag")
    if isinstance(tag, str) and tag:
        return tag
    return str_id(rule.get("id")) or text_or_none(rule.get("id"))


def _author(user: dict[str, Any]) -> Author:
    user_id: str = user["id"]
    username = text_or_none(user.get("username"))
    counts = mapping(user.get("public_metrics"))
    description = text_or_none(user.get("description"))
    bio_urls = dicts(mapping(mapping(user.get("entities")).get("description")).get("urls"))
    return Author(
        network=NETWORK,
        id=user_id,
        handle=username or user_id,
        display_name=text_or_none(user.get("name")),
        followers=int_or_none(counts.get("followers_count")),
        following=int_or_none(counts.get("following_count")),
        posts_count=int_or_none(counts.get("tweet_count")),
        created_at=parse_time(text_or_none(user.get("created_at"))),
        verified=user.get("verified") if isinstance(user.get("verified"), bool) else None,
        avatar_url=text_or_none(user.get("profile_image_url")),
        description=expand_text(description, bio_urls) if description else None,
        url=profile_url(username),
    )


def _compliance_item(row: dict[str, Any]) -> Item:
    event = _compliance_event(row)
    assert event is not None  # _row_kind checked it
    kind, body = event
    tweet_id = str_id(mapping(body.get("tweet")).get("id"))
    if kind == "delete" and tweet_id:
        return Deletion(NETWORK, id=tweet_id, at=parse_time(text_or_none(body.get("event_at"))))
    return Skipped("compliance")
