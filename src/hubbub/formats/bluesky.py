"""Bluesky payloads → ``hubbub.post`` records.

Two families of JSON are read:

- **Jetstream v1** events (``{did, time_us, kind: commit|identity|account,
  commit: {rev, operation, collection, rkey, record?, cid?}}``): one value per
  event. Post and repost creates/updates become ``Post``s, their deletes
  ``Deletion``s; every other record (likes, follows, profiles...) and the
  identity/account events are ``Skipped``.
- **XRPC responses** of the AppView: ``app.bsky.feed.searchPosts`` /
  ``getPosts`` (``{posts: [postView]}``), ``getPostThread`` (``{thread:
  threadViewPost}``), feeds/timelines (``{feed: [feedViewPost]}``),
  ``searchActors[Typeahead]`` (``{actors: [...]}``) and a bare ``postView``.

Identity: a post is its at-URI ``at://DID/app.bsky.feed.post/RKEY``, a repost
``at://DID/app.bsky.feed.repost/RKEY``; an author is its DID.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

from hubbub.formats import BadPost, Context, FormatError, bad_post, finish
from hubbub.formats.bluesky_richtext import extract
from hubbub.post import Author, Deletion, Item, Post, Skipped, parse_time

NETWORK = "bluesky"
POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"
_VIEW_RECORD = "app.bsky.embed.record#viewRecord"
_REASON_REPOST = "app.bsky.feed.defs#reasonRepost"

# Labels whose presence makes a post sensitive (adult or violent media).
SENSITIVE_LABELS = frozenset({"porn", "sexual", "nudity", "graphic-media", "gore"})

# What the AppView shows for an account whose handle no longer verifies: not a handle.
_INVALID_HANDLE = "handle.invalid"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A quote of a quote of a quote...: postViews nest embeds; stop somewhere sane.
_MAX_EMBED_DEPTH = 8
# Keys an empty list response may carry besides its list (pagination, hit count).
_PAGING_KEYS = frozenset({"cursor", "hitsTotal"})


# --------------------------------------------------------------------------- detection


def _is_did(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("did:")


def _is_at_uri(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("at://")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_jetstream(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and _is_did(obj.get("did"))
        and _is_int(obj.get("time_us"))
        and isinstance(obj.get("kind"), str)
    )


def _looks_post_view(value: Any) -> bool:
    # Mastodon statuses also have ``uri`` and an author-ish ``account``; the
    # at:// scheme plus ``record``/``author`` objects is what is Bluesky's own.
    return (
        isinstance(value, dict)
        and _is_at_uri(value.get("uri"))
        and isinstance(value.get("record"), dict)
        and isinstance(value.get("author"), dict)
    )


def _is_missing_post(value: Any) -> bool:
    """``notFoundPost`` / ``blockedPost`` (threads, reply refs)."""
    return (
        isinstance(value, dict)
        and _is_at_uri(value.get("uri"))
        and (value.get("notFound") is True or value.get("blocked") is True)
    )


def _is_thread_node(value: Any) -> bool:
    return (
        isinstance(value, dict) and "post" in value and _looks_post_view(value["post"])
    ) or _is_missing_post(value)


def _list_response(obj: dict[str, Any], key: str, item_ok: Any, broken_ok: Any = None) -> bool:
    """A list response: every item readable, or (``broken_ok``) some readable
    and the others broken items of the same kind, which are reported alone."""
    items = obj.get(key)
    if not isinstance(items, list):
        return False
    if not items:
        # An empty page carries no at:// evidence; only accept the bare envelope.
        return set(obj) <= {key} | _PAGING_KEYS
    if all(item_ok(item) for item in items):
        return True
    return (
        broken_ok is not None
        and any(item_ok(item) for item in items)
        and all(item_ok(item) or broken_ok(item) for item in items)
    )


def _broken_post_view(value: Any) -> bool:
    return isinstance(value, dict) and _is_at_uri(value.get("uri"))


def _broken_feed_item(value: Any) -> bool:
    return isinstance(value, dict) and _broken_post_view(value.get("post"))


def _is_actor(value: Any) -> bool:
    return isinstance(value, dict) and _is_did(value.get("did")) and "handle" in value


def _is_feed_item(value: Any) -> bool:
    return isinstance(value, dict) and _looks_post_view(value.get("post"))


def _xrpc_kind(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return None
    if "posts" in obj and _list_response(obj, "posts", _looks_post_view, _broken_post_view):
        return "posts"
    if "feed" in obj and _list_response(obj, "feed", _is_feed_item, _broken_feed_item):
        return "feed"
    if "actors" in obj and _list_response(obj, "actors", _is_actor):
        return "actors"
    if "thread" in obj and _is_thread_node(obj["thread"]):
        return "thread"
    if _looks_post_view(obj) and isinstance(obj.get("cid"), str):
        return "postView"
    return None


def detect(obj: Any) -> bool:
    """Is ``obj`` a Jetstream event or a Bluesky AppView (XRPC) response?"""
    return _is_jetstream(obj) or _xrpc_kind(obj) is not None


# --------------------------------------------------------------------------- helpers


def split_at_uri(uri: str) -> tuple[str, str, str] | None:
    """``at://DID/COLLECTION/RKEY`` → (DID, collection, rkey), or None."""
    if not _is_at_uri(uri):
        return None
    parts = uri[len("at://") :].split("/")
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


def profile_url(handle_or_did: str) -> str:
    return f"https://bsky.app/profile/{handle_or_did}"


def post_url(handle_or_did: str, rkey: str) -> str:
    return f"https://bsky.app/profile/{handle_or_did}/post/{rkey}"


def _time_us(value: int) -> datetime:
    try:
        # timedelta keeps every microsecond (a float timestamp would round).
        return _EPOCH + timedelta(microseconds=value)
    except OverflowError as exc:
        raise FormatError(f"Jetstream time_us out of range: {value}") from exc


def _time(value: Any) -> datetime | None:
    return parse_time(value) if isinstance(value, str) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if _is_int(value) else None


def _ref_uri(ref: Any) -> str | None:
    """``uri`` of a ``com.atproto.repo.strongRef``."""
    if isinstance(ref, dict) and _is_at_uri(ref.get("uri")):
        return str(ref["uri"])
    return None


def _is_post_uri(uri: str | None) -> TypeGuard[str]:
    parts = split_at_uri(uri) if uri else None
    return parts is not None and parts[1] == POST


def _dedupe(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


class _Collector:
    """Items in first-seen order, one Post per id. A post that appears both as
    an embedded copy and in full keeps the full version (an embedded
    viewRecord may lack counts, labels and viewer state)."""

    def __init__(self) -> None:
        self._items: list[Item] = []
        self._posts: dict[str, int] = {}

    def add(self, item: Item) -> None:
        if isinstance(item, Post):
            at = self._posts.get(item.id)
            if at is not None:
                old = self._items[at]
                if isinstance(old, Post) and old.embedded and not item.embedded:
                    self._items[at] = item
                return
            self._posts[item.id] = len(self._items)
        self._items.append(item)

    def items(self) -> list[Item]:
        return self._items


# --------------------------------------------------------------------------- records


def _embed_info(embed: Any, depth: int = 0) -> tuple[str | None, int, list[str]]:
    """(quoted post uri, media count, external links) of a record's ``embed``.
    Also reads the ``#view`` forms, whose shapes match for these fields."""
    if not isinstance(embed, dict) or depth > 2:
        return None, 0, []
    kind = str(embed.get("$type") or "").removesuffix("#view")
    if kind == "app.bsky.embed.images" or (not kind and isinstance(embed.get("images"), list)):
        images = embed.get("images")
        return None, len(images) if isinstance(images, list) else 0, []
    if kind == "app.bsky.embed.video" or (not kind and "video" in embed):
        return None, 1, []
    if kind == "app.bsky.embed.external" or (not kind and "external" in embed):
        external = embed.get("external")
        uri = external.get("uri") if isinstance(external, dict) else None
        return None, 0, [uri] if isinstance(uri, str) and uri else []
    if kind == "app.bsky.embed.recordWithMedia":
        quote, _, _ = _embed_info(
            {"$type": "app.bsky.embed.record", "record": embed.get("record")}, depth + 1
        )
        _, media, links = _embed_info(embed.get("media"), depth + 1)
        return quote, media, links
    if kind == "app.bsky.embed.record" or (not kind and "record" in embed):
        record = embed.get("record")
        # In the record form ``record`` is a strongRef; in the view form, a
        # viewRecord (uri at top level) — and recordWithMedia#view nests once more.
        if isinstance(record, dict) and "uri" not in record and "record" in record:
            record = record["record"]
        uri = _ref_uri(record)
        # Only quoted *posts* are quotes; feeds, lists and starter packs embed too.
        return (uri if _is_post_uri(uri) else None), 0, []
    return None, 0, []


def _labels(record: dict[str, Any], view_labels: Any = None) -> tuple[str, ...]:
    """Label values: the record's self-labels plus the AppView's labels,
    minus any the AppView negates."""
    values: list[str] = []
    negated: set[str] = set()
    own = record.get("labels")
    if isinstance(own, dict) and isinstance(own.get("values"), list):
        values.extend(
            lab["val"] for lab in own["values"] if isinstance(lab, dict) and _str(lab.get("val"))
        )
    for lab in view_labels if isinstance(view_labels, list) else ():
        if not isinstance(lab, dict) or not _str(lab.get("val")):
            continue
        if lab.get("neg") is True:
            negated.add(lab["val"])
        else:
            values.append(lab["val"])
    return _dedupe(v for v in values if v not in negated)


def _metrics(view: dict[str, Any] | None) -> dict[str, int]:
    if not view:
        return {}
    names = {
        "likeCount": "likes",
        "repostCount": "reposts",
        "replyCount": "replies",
        "quoteCount": "quotes",
        "bookmarkCount": "bookmarks",
    }
    return {name: view[key] for key, name in names.items() if _is_int(view.get(key))}


def _post_from_record(
    uri: str,
    author: Author,
    record: dict[str, Any],
    *,
    seen: datetime | None,
    fallback: datetime,
    cid: str | None = None,
    view: dict[str, Any] | None = None,
    embedded: bool = False,
) -> Post:
    """A ``Post`` from an ``app.bsky.feed.post`` record (plus, for AppView
    responses, the surrounding view with counts and labels)."""
    parts = split_at_uri(uri)
    if parts is None:
        raise FormatError(f"not an at-URI: {uri!r}")
    text = record.get("text")
    text = text if isinstance(text, str) else ""
    langs = record.get("langs")
    reply = record.get("reply")
    reply_to = root = None
    if isinstance(reply, dict):
        reply_to = _ref_uri(reply.get("parent"))
        root = _ref_uri(reply.get("root"))
    quote_of, media_count, embed_links = _embed_info(record.get("embed"))
    rich = extract(record)
    labels = _labels(record, view.get("labels") if view else None)
    return Post(
        network=NETWORK,
        id=uri,
        author=author,
        text=text,
        # A missing or nonsense createdAt (clients set it freely) falls back
        # to when the network saw the post.
        created_at=_time(record.get("createdAt")) or seen or fallback,
        url=post_url(author.handle, parts[2]),
        langs=_dedupe(x for x in langs if isinstance(x, str)) if isinstance(langs, list) else (),
        reply_to=reply_to,
        quote_of=quote_of,
        # The thread root names the conversation; a top-level post roots its own.
        conversation_id=root or reply_to or uri,
        hashtags=rich.hashtags,
        mentions=rich.mentions,
        links=_dedupe((*rich.links, *embed_links)),
        media_count=media_count,
        metrics=_metrics(view),
        sensitive=any(label in SENSITIVE_LABELS for label in labels),
        content_warning=", ".join(labels) or None,
        version_id=cid,
        seen_at=seen,
        embedded=embedded,
    )


def _repost_from_record(
    uri: str,
    author: Author,
    record: dict[str, Any],
    *,
    seen: datetime | None,
    fallback: datetime,
    cid: str | None = None,
) -> Post:
    subject = _ref_uri(record.get("subject"))
    if subject is None:
        raise FormatError(f"repost {uri} has no subject uri")
    return Post(
        network=NETWORK,
        id=uri,
        author=author,
        text="",
        created_at=_time(record.get("createdAt")) or seen or fallback,
        # bsky.app has no page for a repost record itself.
        url=None,
        repost_of=subject,
        version_id=cid,
        seen_at=seen,
    )


def _did_author(did: str) -> Author:
    """Jetstream knows only the DID; the handle is resolved elsewhere."""
    return Author(network=NETWORK, id=did, handle=did, url=profile_url(did))


def author_from_view(view: Any) -> Author:
    """``Author`` from an AppView profile view (``profileViewBasic`` and up)."""
    if not isinstance(view, dict) or not _is_did(view.get("did")):
        raise FormatError("Bluesky profile view without a DID")
    did = view["did"]
    handle = _str(view.get("handle"))
    if handle is None or handle == _INVALID_HANDLE:
        handle = did
    verification = view.get("verification")
    verified = None
    if isinstance(verification, dict) and isinstance(verification.get("verifiedStatus"), str):
        verified = verification["verifiedStatus"] == "valid"
    return Author(
        network=NETWORK,
        id=did,
        handle=handle,
        display_name=_str(view.get("displayName")),
        # profileViewBasic (what posts carry) has no counts; richer views do.
        followers=_int(view.get("followersCount")),
        following=_int(view.get("followsCount")),
        posts_count=_int(view.get("postsCount")),
        created_at=_time(view.get("createdAt")),
        verified=verified,
        avatar_url=_str(view.get("avatar")),
        description=_str(view.get("description")),
        url=profile_url(handle),
    )


# --------------------------------------------------------------------------- Jetstream


def _parse_jetstream(event: dict[str, Any]) -> list[Item]:
    did: str = event["did"]
    kind: str = event["kind"]
    seen = _time_us(event["time_us"])
    if kind == "identity":
        # An identity event may name the DID's current handle: pass it on so
        # the store can show handles for authors Jetstream names only by DID.
        identity = event.get("identity")
        handle = identity.get("handle") if isinstance(identity, dict) else None
        if isinstance(handle, str) and handle and handle != "handle.invalid":
            return [Author(network="bluesky", id=did, handle=handle.lower())]
        return [Skipped(kind)]
    if kind != "commit":
        # account (and any kind Jetstream adds later) carry no posts.
        return [Skipped(kind)]
    commit = event.get("commit")
    if not isinstance(commit, dict):
        raise FormatError("Jetstream commit event without a commit object")
    operation = commit.get("operation")
    collection = commit.get("collection")
    rkey = commit.get("rkey")
    if operation not in ("create", "update", "delete"):
        raise FormatError(f"Jetstream commit with unknown operation {operation!r}")
    if not isinstance(collection, str) or not collection:
        raise FormatError("Jetstream commit without a collection")
    if collection not in (POST, REPOST):
        return [Skipped(collection)]
    if not isinstance(rkey, str) or not rkey or "/" in rkey:
        raise FormatError(f"Jetstream {collection} commit with a bad rkey {rkey!r}")
    uri = f"at://{did}/{collection}/{rkey}"
    if operation == "delete":
        return [Deletion(network=NETWORK, id=uri, at=seen)]
    record = commit.get("record")
    if not isinstance(record, dict):
        raise FormatError(f"Jetstream {operation} of {uri} without a record")
    cid = _str(commit.get("cid"))
    author = _did_author(did)
    build = _post_from_record if collection == POST else _repost_from_record
    post = build(uri, author, record, seen=seen, fallback=seen, cid=cid)
    if operation == "update":
        post.edited_at = seen
    return [post]


# --------------------------------------------------------------------------- XRPC


def _from_view_record(view: dict[str, Any], ctx: Context, out: _Collector, depth: int) -> None:
    """An ``embed.record#viewRecord`` (a quoted post as the AppView shows it)."""
    uri = view.get("uri")
    value = view.get("value")
    if not _is_post_uri(uri) or not isinstance(value, dict):
        return  # a quoted feed/list/labeler, or a record we cannot read
    seen = _time(view.get("indexedAt"))
    out.add(
        _post_from_record(
            uri,
            author_from_view(view.get("author")),
            value,
            seen=seen,
            fallback=ctx.fetched_at,
            cid=_str(view.get("cid")),
            view=view,
            embedded=True,
        )
    )
    embeds = view.get("embeds")
    for embed in embeds if isinstance(embeds, list) else ():
        _embedded_posts(embed, ctx, out, depth + 1)


def _embedded_posts(embed: Any, ctx: Context, out: _Collector, depth: int) -> None:
    """Posts embedded in an ``embed.record#view`` / ``recordWithMedia#view``."""
    if not isinstance(embed, dict) or depth > _MAX_EMBED_DEPTH:
        return
    record = embed.get("record")
    # recordWithMedia#view wraps an embed.record#view: {record: {record: viewRecord}}.
    if isinstance(record, dict) and "uri" not in record and isinstance(record.get("record"), dict):
        record = record["record"]
    if isinstance(record, dict) and (
        record.get("$type") == _VIEW_RECORD or ("value" in record and "author" in record)
    ):
        _from_view_record(record, ctx, out, depth)


def _from_post_view(view: Any, ctx: Context, out: _Collector, where: str) -> None:
    if not _looks_post_view(view):
        raise FormatError(f"{where}: not a Bluesky postView")
    uri = view["uri"]
    if not _is_post_uri(uri):
        raise FormatError(f"{where}: postView uri is not a post at-URI: {uri!r}")
    seen = _time(view.get("indexedAt"))
    out.add(
        _post_from_record(
            uri,
            author_from_view(view["author"]),
            view["record"],
            seen=seen,
            fallback=ctx.fetched_at,
            cid=_str(view.get("cid")),
            view=view,
        )
    )
    _embedded_posts(view.get("embed"), ctx, out, 0)


def _from_thread(root: dict[str, Any], ctx: Context, out: _Collector) -> None:
    """The focus post, its ancestors (oldest first) and all nested replies.
    notFoundPost / blockedPost nodes hold nothing to keep and end their branch.
    Iterative, so a very deep thread cannot hit the recursion limit."""

    def is_post(node: Any) -> TypeGuard[dict[str, Any]]:
        return isinstance(node, dict) and not _is_missing_post(node) and "post" in node

    ancestors: list[dict[str, Any]] = []
    node = root.get("parent")
    while is_post(node):
        ancestors.append(node)
        node = node.get("parent")
    for parent in reversed(ancestors):
        _from_post_view(parent["post"], ctx, out, "thread parent")
    if not is_post(root):
        return
    stack = [root]
    while stack:
        node = stack.pop()
        _from_post_view(node["post"], ctx, out, "thread")
        replies = node.get("replies")
        if isinstance(replies, list):
            stack.extend(reply for reply in reversed(replies) if is_post(reply))


def _from_feed_item(item: dict[str, Any], ctx: Context, out: _Collector, where: str) -> None:
    """A ``feedViewPost``: the post, the thread context it shows (reply root and
    parent, when visible) and, for a repost in a timeline, the repost itself."""
    reply = item.get("reply")
    if isinstance(reply, dict):
        for key in ("root", "parent"):
            if _looks_post_view(reply.get(key)):
                _from_post_view(reply[key], ctx, out, f"{where}.reply.{key}")
    post = item["post"]
    _from_post_view(post, ctx, out, where)
    reason = item.get("reason")
    if (
        isinstance(reason, dict)
        and reason.get("$type") == _REASON_REPOST
        and split_at_uri(reason.get("uri") or "") is not None
    ):
        # Only newer AppViews give the repost record's uri; without it the
        # repost has no identity and is left out.
        seen = _time(reason.get("indexedAt"))
        out.add(
            _repost_from_record(
                reason["uri"],
                author_from_view(reason.get("by")),
                {"subject": {"uri": post["uri"]}},
                seen=seen,
                fallback=ctx.fetched_at,
                cid=_str(reason.get("cid")),
            )
        )


def _parse_xrpc(obj: dict[str, Any], kind: str, ctx: Context) -> list[Item]:
    out = _Collector()
    if kind in ("posts", "feed"):
        problems: list[BadPost] = []
        read = _from_post_view if kind == "posts" else _from_feed_item
        for i, entry in enumerate(obj[kind]):
            # One unreadable post costs only itself, not the page.
            try:
                read(entry, ctx, out, f"{kind}[{i}]")
            except Exception as exc:  # noqa: BLE001 - hostile input or a parser bug
                view = entry.get("post") if kind == "feed" else entry
                uri = view.get("uri") if isinstance(view, dict) else None
                problems.append(bad_post("Bluesky", _str(uri), exc))
        return finish(out.items(), problems, ctx)
    if kind == "thread":
        _from_thread(obj["thread"], ctx, out)
    elif kind == "actors":
        # Profiles are not posts; one Skipped per actor keeps the counts honest.
        return [Skipped("actor") for _ in obj["actors"]]
    else:
        _from_post_view(obj, ctx, out, "postView")
    return out.items()


def parse(obj: Any, ctx: Context) -> list[Item]:
    """The posts, deletions and skipped records in one Jetstream event or
    XRPC response. Raises ``FormatError`` when ``obj`` is neither, or is one
    but unusable (e.g. a post commit without its record)."""
    if _is_jetstream(obj):
        return _parse_jetstream(obj)
    kind = _xrpc_kind(obj)
    if kind is None:
        raise FormatError("not a Bluesky Jetstream event or XRPC response")
    return _parse_xrpc(obj, kind, ctx)
