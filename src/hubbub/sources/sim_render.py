"""Rendering a simulated post's words for each network: X v2 entities (code
point offsets), Bluesky facets (UTF-8 byte offsets), Mastodon HTML with its
mentions and tags lists. A post is written once as segments and rendered
per network, so the same words come out right on all three."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from hubbub.sources.sim_cast import MASTODON_SERVER, Cast, digest_int

Seg = tuple[str, str]  # ("t", text) | ("#", tag) | ("@", persona key) | ("url", url)


def x_entities(segs: list[Seg], cast: Cast, seq: int) -> tuple[str, dict[str, Any]]:
    text = ""
    hashtags: list[dict[str, Any]] = []
    mentions: list[dict[str, Any]] = []
    urls: list[dict[str, Any]] = []
    for kind, value in segs:
        start = len(text)  # X v2 entity indices count code points, as Python does
        if kind == "#":
            text += "#" + value
            hashtags.append({"start": start, "end": len(text), "tag": value})
        elif kind == "@":
            person = cast.by_key(value)
            text += "@" + person.x_username
            mentions.append(
                {"start": start, "end": len(text), "username": person.x_username, "id": person.x_id}
            )
        elif kind == "url":
            short = f"https://t.co/{digest_int('tco', value, seq) % 36**10:010x}"[:23]
            text += short
            display = value.split("://", 1)[-1]
            urls.append(
                {
                    "start": start,
                    "end": len(text),
                    "url": short,
                    "expanded_url": value,
                    "display_url": display[:24] + ("…" if len(display) > 24 else ""),
                }
            )
        else:
            text += value
    entities = {
        k: v for k, v in (("hashtags", hashtags), ("mentions", mentions), ("urls", urls)) if v
    }
    return text, entities


def bsky_facets(segs: list[Seg], cast: Cast) -> tuple[str, list[dict[str, Any]]]:
    data = b""
    facets: list[dict[str, Any]] = []
    for kind, value in segs:
        start = len(data)  # facets index UTF-8 bytes, not characters
        if kind == "#":
            data += ("#" + value).encode()
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": value}
        elif kind == "@":
            person = cast.by_key(value)
            data += ("@" + person.bsky_handle).encode()
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": person.did}
        elif kind == "url":
            data += value.encode()
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": value}
        else:
            data += value.encode()
            continue
        facets.append(
            {
                "$type": "app.bsky.richtext.facet",
                "index": {"byteStart": start, "byteEnd": len(data)},
                "features": [feature],
            }
        )
    return data.decode(), facets


def masto_html(
    segs: list[Seg], cast: Cast
) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    parts: list[str] = []
    mentions: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []
    for kind, value in segs:
        if kind == "#":
            url = f"https://{MASTODON_SERVER}/tags/{value.lower()}"
            parts.append(
                f'<a href="{url}" class="mention hashtag" rel="tag">#<span>{html.escape(value)}</span></a>'
            )
            tags.append({"name": value.lower(), "url": url})
        elif kind == "@":
            person = cast.by_key(value)
            url = f"https://{person.masto_host}/@{person.masto_user}"
            parts.append(
                f'<span class="h-card" translate="no"><a href="{url}" class="u-url mention">'
                f"@<span>{html.escape(person.masto_user)}</span></a></span>"
            )
            mentions.append(
                {
                    "id": person.masto_account_id,
                    "username": person.masto_user,
                    "url": url,
                    "acct": person.masto_acct,
                }
            )
        elif kind == "url":
            escaped = html.escape(value)
            parts.append(
                f'<a href="{escaped}" target="_blank" rel="nofollow noopener" translate="no">'
                f"{escaped}</a>"
            )
        else:
            parts.append(html.escape(value).replace("\n", "<br />"))
    return "<p>" + "".join(parts) + "</p>", mentions, tags


def plain_text(segs: list[Seg], cast: Cast, network: str) -> str:
    if network == "x":
        return x_entities(segs, cast, 0)[0]
    if network == "bluesky":
        return bsky_facets(segs, cast)[0]
    return "".join(
        ("@" + cast.by_key(v).masto_user) if k == "@" else ("#" + v if k == "#" else v)
        for k, v in segs
    )


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
