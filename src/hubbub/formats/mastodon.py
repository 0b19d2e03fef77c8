"""Mastodon REST and streaming JSON → ``Post`` / ``Deletion`` / ``Skipped``.

Reads:

- a Status entity, or a list of them (timelines, ``/api/v2/search`` ``statuses``,
  ``/api/v1/statuses/:id/context``);
- streaming messages, WebSocket-shaped ``{"stream": [...], "event": name,
  "payload": "<JSON string>"}`` or as ``formats.reader`` builds them from SSE
  (``{"event": name, "payload": decoded-JSON-or-string}``), singly or in a list;
- Notification and Conversation entities (their status is the post);
- Account and MediaAttachment entities, which are valid but not posts (Skipped).

Identity: ``Post.id`` is the status ``uri`` (its global ActivityPub id). Status
ids (``id``, ``in_reply_to_id``, a ``delete`` event's payload) are local to the
server the payload came from, so they are kept as aliases ``SERVER/LOCALID``.
SERVER is ``ctx.server`` when known; otherwise it is inferred from a *local*
account in the same payload (``acct`` without ``@`` means "an account on the
server you are asking"), and failing that it is ``*`` (unknown): the status
``uri`` host would be wrong for every remote status. The store matches a
``*/ID`` alias to a delete from any server when only one post has that id.
Account handles are always ``user@host``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeGuard
from urllib.parse import urlsplit

import orjson

from hubbub.formats import (
    BadPost,
    Context,
    FormatError,
    PostError,
    bad_post,
    finish,
    shown,
)
from hubbub.formats.html_text import parse_html
from hubbub.post import Author, Deletion, Item, Post, Skipped, parse_time

NETWORK = "mastodon"
NETWORK_NAME = "Mastodon"  # as messages name the network

# Streaming events whose payload is a Status entity.
_STATUS_EVENTS = frozenset({"update", "status.update"})
# Keys a streaming message may have: WebSocket (stream/event/payload), the SSE
# reader (event/payload), and captures that keep an undecodable SSE payload
# verbatim under payload_raw (e.g. filters_changed's "undefined").
_STREAM_KEYS = frozenset({"stream", "event", "payload", "payload_raw"})


# -- detection ---------------------------------------------------------------


def detect(obj: Any) -> bool:
    """Is ``obj`` a Mastodon payload this module reads?"""
    return _kind(obj) is not None


def _kind(obj: Any) -> str | None:
    if isinstance(obj, dict):
        return _dict_kind(obj)
    if isinstance(obj, list) and obj:
        # Every element must be something we read or a broken status (each
        # reported alone), and one at least readable, so a list of other
        # networks' objects (or a mix) is never claimed.
        known = False
        for element in obj:
            if not isinstance(element, dict):
                return None
            if _dict_kind(element) in _LIST_KINDS:
                known = True
            elif not _status_like(element):
                return None
        return "list" if known else None
    return None


def _status_like(d: dict[str, Any]) -> bool:
    """A status with something wrong (a Bluesky view has ``uri`` too, but
    neither ``account`` nor ``content``)."""
    uri = d.get("uri")
    return ("account" in d or "content" in d) and not (
        isinstance(uri, str) and uri.startswith("at://")
    )


def _status_problem(d: Any) -> BadPost:
    """Which field keeps ``d`` from being a Status."""
    if not isinstance(d, dict):
        return BadPost(NETWORK_NAME, None, None, "not an object")
    post = _status_name(d)
    for key, ok in (
        ("uri", isinstance(d.get("uri"), str) and bool(d.get("uri"))),
        ("account", isinstance(d.get("account"), dict)),
        ("content", isinstance(d.get("content"), str)),
        ("created_at", isinstance(d.get("created_at"), str)),
    ):
        if not ok:
            return BadPost(NETWORK_NAME, post, key, "missing" if key not in d else "wrong type")
    return BadPost(NETWORK_NAME, post, None, "not a status")


def _status_name(d: dict[str, Any]) -> str | None:
    """How a message names a status: its uri, else its local id."""
    uri = d.get("uri")
    if isinstance(uri, str) and uri:
        return uri[:200]
    return _local_id(d.get("id"))


_LIST_KINDS = frozenset({"status", "stream", "notification", "conversation", "account", "media"})


def _dict_kind(d: dict[str, Any]) -> str | None:
    if _is_status(d):
        return "status"
    if _is_stream(d):
        return "stream"
    if _is_notification(d):
        return "notification"
    if _is_conversation(d):
        return "conversation"
    if _is_account(d):
        return "account"
    if _is_media(d):
        return "media"
    if all(isinstance(d.get(k), list) for k in ("accounts", "statuses", "hashtags")):
        return "search"  # /api/v2/search
    if isinstance(d.get("ancestors"), list) and isinstance(d.get("descendants"), list):
        return "context"  # /api/v1/statuses/:id/context
    return None


def _is_status(d: Any) -> TypeGuard[dict[str, Any]]:
    if not isinstance(d, dict):
        return False
    uri = d.get("uri")
    return (
        isinstance(uri, str)
        and bool(uri)
        # Bluesky views also carry "uri" (at://...), never "account"/"content".
        and not uri.startswith("at://")
        and isinstance(d.get("account"), dict)
        and isinstance(d.get("content"), str)
        and isinstance(d.get("created_at"), str)
    )


def _is_stream(d: dict[str, Any]) -> bool:
    event = d.get("event")
    return (
        isinstance(event, str)
        and bool(event)
        and set(d) <= _STREAM_KEYS
        and ("payload" in d or "payload_raw" in d or "stream" in d)
    )


def _is_account(d: dict[str, Any]) -> bool:
    return (
        isinstance(d.get("acct"), str)
        and isinstance(d.get("username"), str)
        and "followers_count" in d
    )


def _is_media(d: dict[str, Any]) -> bool:
    # X v2 media objects have "type"/"url" too, but "media_key"/"preview_image_url".
    return (
        isinstance(d.get("type"), str)
        and "url" in d
        and ("preview_url" in d or "blurhash" in d)
        and "media_key" not in d
        and "account" not in d
    )


def _is_notification(d: dict[str, Any]) -> bool:
    account = d.get("account")
    return (
        isinstance(d.get("type"), str)
        and isinstance(account, dict)
        and isinstance(account.get("acct"), str)
        and "created_at" in d
        and "id" in d
        and "content" not in d
    )


def _is_conversation(d: dict[str, Any]) -> bool:
    return isinstance(d.get("accounts"), list) and "last_status" in d and "unread" in d


# -- parsing -----------------------------------------------------------------


def parse(obj: Any, ctx: Context) -> list[Item]:
    """The posts, deletions and skipped records in one Mastodon value."""
    kind = _kind(obj)
    if kind is None:
        raise FormatError("not a Mastodon payload")
    known = _server(ctx.server)
    if kind == "list":
        # One REST response comes from one server, so a local account anywhere
        # in it names the server for all of it. Streaming messages are read one
        # by one, exactly as when they arrive (or come from an .sse file).
        entities = [e for e in obj if not _is_stream(e)]
        server = known or _local_host(entities)
        items: list[Item] = []
        problems: list[BadPost] = []
        for element in obj:
            element_kind = _dict_kind(element)
            if element_kind is None:
                problems.append(_status_problem(element))
                continue
            try:
                if element_kind == "stream":
                    items.extend(_parse_stream(element, known))
                else:
                    items.extend(_parse_entity(element, element_kind, server, problems))
            except Exception as exc:  # noqa: BLE001 - one bad status must not lose its page
                problems.append(bad_post(NETWORK_NAME, _status_name(element), exc))
        return finish(_dedupe(items), problems, ctx)
    if kind == "stream":
        return _dedupe(_parse_stream(obj, known))
    problems = []
    try:
        items = _parse_entity(obj, kind, known or _local_host(obj), problems)
    except PostError as exc:
        items, problems = [], [bad_post(NETWORK_NAME, _status_name(obj), exc)]
    return finish(_dedupe(items), problems, ctx)


def _server(value: str | None) -> str | None:
    """``ctx.server`` as a bare host (callers may pass a base URL)."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if "://" in value:
        return _host(value)
    return value.rstrip("/").lower() or None


def _parse_entity(
    d: dict[str, Any], kind: str | None, server: str | None, problems: list[BadPost] | None = None
) -> list[Item]:
    """The items of one entity; a search or context result skips a bad status
    into ``problems`` (when given) and keeps the others."""
    if kind == "status":
        return _status_items(d, server)
    if kind == "notification":
        # Only mention/status/reblog/favourite/poll/update notifications carry a
        # status; follows, reports and the like are not posts.
        status = d.get("status")
        if _is_status(status):
            return _status_items(status, server)
        return [Skipped("notification")]
    if kind == "conversation":
        status = d.get("last_status")
        if _is_status(status):
            return _status_items(status, server)
        return [Skipped("conversation")]
    if kind == "account":
        return [Skipped("account")]
    if kind == "media":
        return [Skipped("media")]
    if kind in ("search", "context"):
        keys = ("statuses",) if kind == "search" else ("ancestors", "descendants")
        items: list[Item] = []
        for key in keys:
            for status in d[key]:
                if problems is None:
                    if not _is_status(status):
                        raise FormatError(f"Mastodon {kind} result: {key} holds a non-status")
                    items.extend(_status_items(status, server))
                elif not _is_status(status):
                    problems.append(_status_problem(status))
                else:
                    try:
                        items.extend(_status_items(status, server))
                    except Exception as exc:  # noqa: BLE001 - keep the result's other statuses
                        problems.append(bad_post(NETWORK_NAME, _status_name(status), exc))
        return items or ([] if problems else [Skipped(kind)])
    raise FormatError("not a Mastodon payload")


def _parse_stream(msg: dict[str, Any], known: str | None) -> list[Item]:
    event: str = msg["event"]
    raw = msg["payload"] if "payload" in msg else msg.get("payload_raw")
    if event in _STATUS_EVENTS:
        status = _decode_payload(raw, event)
        if not _is_status(status):
            raise FormatError(f"Mastodon {event!r} event without a status payload")
        return _status_items(status, known or _local_host(status))
    if event == "delete":
        # The payload is only the local id: which server it is local to is
        # whatever we were connected to; "*" lets the store match any server.
        return [Deletion(NETWORK, alias=f"{known or '*'}/{_delete_id(raw)}")]
    if event in ("notification", "conversation"):
        entity = _decode_payload(raw, event)
        if not isinstance(entity, dict):
            raise FormatError(f"Mastodon {event!r} event payload is not an object")
        return _parse_entity(entity, event, known or _local_host(entity))
    # filters_changed, announcement*, encrypted_message, notifications_merged...
    return [Skipped(event)]


def _decode_payload(raw: Any, event: str) -> Any:
    if isinstance(raw, dict | list):
        return raw  # already decoded (SSE reader)
    if isinstance(raw, str | bytes) and raw:
        try:
            return orjson.loads(raw)  # WebSocket: the payload is a JSON string
        except orjson.JSONDecodeError as exc:
            raise FormatError(f"Mastodon {event!r} event: payload is not JSON") from exc
    raise FormatError(f"Mastodon {event!r} event without a payload")


def _delete_id(raw: Any) -> str:
    # WebSocket and SSE send the id as text; a decoded capture may hold a number.
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith('"'):
            try:
                text = str(orjson.loads(text)).strip()
            except orjson.JSONDecodeError:
                text = ""
        # Ids are opaque (Pleroma's are not numeric) but must fit "SERVER/ID".
        if text and "/" not in text and not any(c.isspace() for c in text):
            return text
    raise FormatError("Mastodon 'delete' event without a usable status id")


def _dedupe(items: list[Item]) -> list[Item]:
    """Drop embedded copies of posts the same payload also holds in full (or
    already embedded once): a timeline can hold a status and a reblog of it.
    Posts that were not embedded are all kept: in a stream, the same id again
    is a later version."""
    full = {i.id for i in items if isinstance(i, Post) and not i.embedded}
    seen: set[str] = set()
    out: list[Item] = []
    for item in items:
        if isinstance(item, Post) and item.embedded:
            if item.id in full or item.id in seen:
                continue
            seen.add(item.id)
        out.append(item)
    return out


# -- statuses ----------------------------------------------------------------


def _status_items(status: dict[str, Any], server: str | None) -> list[Item]:
    items: list[Item] = []
    items.extend(_status_posts(status, server, embedded=False))
    return items


# Mastodon nests at most a reblog holding a quote holding a shallow quote; the
# cap only keeps hostile input from exhausting the stack.
_MAX_NESTING = 8


def _status_posts(
    status: dict[str, Any], server: str | None, *, embedded: bool, depth: int = 0
) -> list[Post]:
    """The status's own Post first, then the posts embedded in it (the reblogged
    status, the quoted status)."""
    nested: list[Post] = []
    repost_of = quote_of = None
    descend = depth < _MAX_NESTING
    reblog = status.get("reblog")
    if reblog is not None:
        if not _is_status(reblog):
            raise FormatError("Mastodon status: reblog is not a status")
        repost_of = reblog["uri"]
        if descend:
            nested = _status_posts(reblog, server, embedded=True, depth=depth + 1)
    else:
        quote = status.get("quote")
        if isinstance(quote, dict):
            # Mastodon 4.4+: Quote {state, quoted_status} or ShallowQuote
            # {state, quoted_status_id}; Fedibird-style forks put the Status itself.
            quoted = quote if _is_status(quote) else quote.get("quoted_status")
            if _is_status(quoted):
                quote_of = quoted["uri"]
                if descend:
                    nested = _status_posts(quoted, server, embedded=True, depth=depth + 1)
            elif _local_id(quote.get("quoted_status_id")):
                quote_of = _alias(status, server, quote.get("quoted_status_id"))
    post = _post(status, server, embedded=embedded, repost_of=repost_of, quote_of=quote_of)
    return [post, *nested]


def _post(
    status: dict[str, Any],
    server: str | None,
    *,
    embedded: bool,
    repost_of: str | None,
    quote_of: str | None,
) -> Post:
    uri: str = status["uri"]
    created_at = _time(status.get("created_at"))
    if created_at is None:
        # Unlike X ids, Mastodon ids are opaque (and remote statuses' ids are
        # local to the server): no time can be read from them.
        raise PostError(f"{shown(status.get('created_at'))} is not a time", field="created_at")
    author = _author(status.get("account"), server or _host(uri))

    text = ""
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    media_count = 0
    if repost_of is None:
        # A reblog wrapper has no content of its own; its text would only repeat
        # the reblogged post, which is emitted separately.
        html = parse_html(_str(status.get("content")))
        text = html.text or _str(status.get("text"))  # "text": source, on deletes
        mention_list = _dicts(status.get("mentions"))
        tag_list = _dicts(status.get("tags"))
        hashtags = _hashtags(tag_list, html.hashtags)
        mentions = tuple(
            dict.fromkeys(
                h for m in mention_list if (h := _mention_handle(m, server or _host(uri)))
            )
        )
        # Links to a mentioned profile or a tag page are not "links" even when
        # the sending server did not class them as mention/hashtag.
        not_links = {_str(m.get("url")) for m in mention_list} | {
            _str(t.get("url")) for t in tag_list
        }
        found = [h for h in html.links if h not in not_links]
        card = status.get("card")
        if isinstance(card, dict) and _str(card.get("url")):
            found.append(_str(card.get("url")))
        links = tuple(dict.fromkeys(found))
        media = status.get("media_attachments")
        media_count = len(media) if isinstance(media, list) else 0

    language = _str(status.get("language"))
    application = status.get("application")
    source = _str(application.get("name")) if isinstance(application, dict) else ""
    reply_id = status.get("in_reply_to_id")
    return Post(
        network=NETWORK,
        id=uri,
        author=author,
        text=text,
        created_at=created_at,
        url=_str(status.get("url")) or uri,
        langs=(language,) if language else (),
        # Mastodon only gives the parent's local id. The alias form is kept and
        # the store resolves aliases to uris for posts it knows.
        reply_to=_alias(status, server, reply_id) if _local_id(reply_id) else None,
        quote_of=quote_of,
        repost_of=repost_of,
        conversation_id=None,
        hashtags=hashtags,
        mentions=mentions,
        links=links,
        media_count=media_count,
        metrics=_metrics(status),
        sensitive=status.get("sensitive") is True,
        content_warning=_str(status.get("spoiler_text")) or None,
        source=source or None,
        edited_at=_time(status.get("edited_at")),
        aliases=(_alias(status, server, status.get("id")),) if _local_id(status.get("id")) else (),
        embedded=embedded,
    )


def _alias(status: dict[str, Any], server: str | None, local_id: Any) -> str:
    # Without a known fetching server the local id belongs to "some server":
    # "*" (the status URI's host would be wrong for every remote status).
    del status
    return f"{server or '*'}/{_local_id(local_id)}"


def _local_id(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _hashtags(tags: list[dict[str, Any]], in_text: tuple[str, ...]) -> tuple[str, ...]:
    # tags[].name is the receiving server's spelling of the tag, which for a
    # remote post may differ in case from what the author wrote (MUSICTUESDAY
    # vs #musicTuesday); prefer the content's spelling when they match.
    written = {t.casefold(): t for t in in_text}
    names = []
    for tag in tags:
        name = _str(tag.get("name")).lstrip("#")
        if name:
            names.append(written.get(name.casefold(), name))
    return tuple(dict.fromkeys(names))


def _metrics(status: dict[str, Any]) -> dict[str, int]:
    metrics: dict[str, int] = {}
    for key, name in (
        ("replies_count", "replies"),
        ("reblogs_count", "reposts"),
        ("favourites_count", "likes"),
        ("quotes_count", "quotes"),
    ):
        value = status.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            metrics[name] = value
    return metrics


# -- accounts ----------------------------------------------------------------


def _author(account: Any, fallback_host: str | None) -> Author:
    if not isinstance(account, dict):
        raise FormatError("Mastodon status without an account")
    url = _str(account.get("url")) or None
    handle = _handle(
        _str(account.get("acct")) or _str(account.get("username")),
        _host(url) or _host(_str(account.get("uri"))) or fallback_host,
    )
    if handle is None:
        raise FormatError("Mastodon account without acct/username or a server")
    note = parse_html(_str(account.get("note"))).text
    return Author(
        network=NETWORK,
        id=handle,
        handle=handle,
        display_name=_str(account.get("display_name")) or None,
        followers=_int(account.get("followers_count")),
        following=_int(account.get("following_count")),
        posts_count=_int(account.get("statuses_count")),
        created_at=_time(account.get("created_at")),
        avatar_url=_str(account.get("avatar")) or None,
        description=note or None,
        url=url,
    )


def _handle(acct: str, host: str | None) -> str | None:
    """``user@host``: ``acct`` as given when remote, plus ``host`` when local."""
    acct = acct.strip().lstrip("@")
    if not acct:
        return None
    user, at, domain = acct.partition("@")
    if at and user and domain:
        return f"{user}@{domain.lower()}"
    if host and user:
        return f"{user}@{host}"
    return None


def _mention_handle(mention: dict[str, Any], fallback_host: str | None) -> str | None:
    acct = _str(mention.get("acct")) or _str(mention.get("username"))
    return _handle(acct, _host(_str(mention.get("url"))) or fallback_host)


def _local_host(value: Any) -> str | None:
    """Host of the first local account (``acct`` without ``@``) in ``value``:
    that is the server the payload was fetched from."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            acct = node.get("acct")
            if isinstance(acct, str) and acct and "@" not in acct.lstrip("@"):
                host = _host(_str(node.get("url"))) or _host(_str(node.get("uri")))
                if host:
                    return host
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))
    return None


# -- small helpers -----------------------------------------------------------


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        netloc = urlsplit(url).netloc
    except ValueError:  # e.g. an unbalanced "[" in an IPv6 literal
        return None
    host = netloc.rpartition("@")[2].lower()
    return host or None


def _time(value: Any) -> datetime | None:
    try:
        return parse_time(_str(value))
    except (ValueError, OverflowError):  # "9999-12-31T23:59:59-05:00" overflows in UTC
        return None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
