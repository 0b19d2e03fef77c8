"""Read posts (id, text, language) straight out of the shared payload files.

The evaluation set is labelled by (file, post id) so no post text enters the
repository; this module is how evaluation and tests find the texts again. It
parses the raw JSON itself on purpose: the repository's own parsers in
``hubbub.formats`` are developed separately, and the evaluation must not move
when they change.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

_TAG = re.compile(r"<br\s*/?>|</p>\s*<p>|<[^>]+>", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PayloadPost:
    file: str  # path relative to the shared data folder
    post_id: str
    text: str
    lang: str | None


def _strip_html(content: str) -> str:
    # Mastodon sends HTML; paragraph and line breaks become spaces so words do not glue.
    def sub(m: re.Match[str]) -> str:
        return " " if m.group(0).lower().startswith(("<br", "</p")) else ""

    return html.unescape(_TAG.sub(sub, content)).strip()


def _x_tweet(obj: dict[str, Any]) -> tuple[str, str, str | None] | None:
    tid = obj.get("id_str") or obj.get("id")
    if tid is None:
        return None
    note = obj.get("note_tweet")
    text = (note or {}).get("text") or obj.get("full_text") or obj.get("text")
    if not isinstance(text, str):
        return None
    if "statuses_count" in obj or "screen_name" in obj and "text" not in obj:
        return None
    # v1.1 escapes &, < and > in text; v2 does too. Undo it once, as a reader sees it.
    return str(tid), html.unescape(text), obj.get("lang")


def _x_items(doc: Any) -> Iterator[dict[str, Any]]:
    if isinstance(doc, list):
        for item in doc:
            if isinstance(item, dict):
                yield item
        return
    if not isinstance(doc, dict):
        return
    if "statuses" in doc:  # v1.1 search
        yield from _x_items(doc["statuses"])
        return
    data = doc.get("data")
    if isinstance(data, dict):
        yield data
    elif isinstance(data, list):
        yield from (d for d in data if isinstance(d, dict))
    elif "id_str" in doc and ("text" in doc or "full_text" in doc):
        yield doc  # a single v1.1 status


def _json_lines(path: Path) -> Iterator[Any]:
    for line in path.read_bytes().splitlines():
        if not line.strip():
            continue
        try:
            yield orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # a truncated last line in a captured stream


def _x_file(path: Path, rel: str) -> Iterator[PayloadPost]:
    docs: Iterator[Any]
    if path.suffix == ".jsonl":
        docs = _json_lines(path)
    else:
        try:
            docs = iter([orjson.loads(path.read_bytes())])
        except orjson.JSONDecodeError:
            return
    for doc in docs:
        for item in _x_items(doc):
            got = _x_tweet(item)
            if got:
                yield PayloadPost(rel, got[0], got[1], got[2])


def _bsky_record(uri: str, record: Any, rel: str) -> PayloadPost | None:
    if not isinstance(record, dict) or record.get("$type") != "app.bsky.feed.post":
        return None
    text = record.get("text")
    if not isinstance(text, str):
        return None
    langs = record.get("langs") or []
    return PayloadPost(rel, uri, text, langs[0] if langs else None)


def _bsky_file(path: Path, rel: str) -> Iterator[PayloadPost]:
    if path.suffix == ".jsonl":  # Jetstream events
        for ev in _json_lines(path):
            commit = ev.get("commit") if isinstance(ev, dict) else None
            if not commit or commit.get("operation") not in ("create", "update"):
                continue
            uri = f"at://{ev.get('did')}/{commit.get('collection')}/{commit.get('rkey')}"
            post = _bsky_record(uri, commit.get("record"), rel)
            if post:
                yield post
        return
    doc = orjson.loads(path.read_bytes())
    stack: list[Any] = [doc]
    while stack:  # post views sit in posts[], thread.post, thread.replies[] … at any depth
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("uri"), str) and "record" in node:
                post = _bsky_record(node["uri"], node["record"], rel)
                if post:
                    yield post
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))


def _mastodon_statuses(doc: Any) -> Iterator[dict[str, Any]]:
    if isinstance(doc, list):
        for item in doc:
            yield from _mastodon_statuses(item)
    elif isinstance(doc, dict):
        if "content" in doc and "account" in doc and "id" in doc:
            yield doc
        elif "event" in doc and "payload" in doc:
            payload = doc["payload"]
            if isinstance(payload, str):
                try:
                    payload = orjson.loads(payload)
                except orjson.JSONDecodeError:
                    return
            yield from _mastodon_statuses(payload)


def _mastodon_file(path: Path, rel: str) -> Iterator[PayloadPost]:
    if path.suffix == ".sse":
        docs: list[Any] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("data:"):
                try:
                    docs.append(orjson.loads(line[5:].strip()))
                except orjson.JSONDecodeError:
                    continue  # delete events carry a bare id
    else:
        docs = [orjson.loads(path.read_bytes())]
    for status in _mastodon_statuses(docs):
        text = _strip_html(str(status.get("content") or ""))
        yield PayloadPost(rel, str(status["id"]), text, status.get("language"))


def iter_payload_posts(data_dir: Path) -> Iterator[PayloadPost]:
    """Every post in ``data_dir/payloads``, in a stable order, once per (file, id)."""
    root = data_dir / "payloads"
    readers = {
        "x_v2_twarc2": _x_file,
        "x_api_responses": _x_file,
        "bluesky_jetstream": _bsky_file,
        "bluesky_xrpc": _bsky_file,
        "mastodon": _mastodon_file,
    }
    for folder, reader in readers.items():
        for path in sorted((root / folder).glob("*")):
            if path.suffix not in (".json", ".jsonl", ".sse") or path.name.startswith("manifest"):
                continue
            if "compliance" in path.name or path.name in ("users.jsonl", "counts.jsonl"):
                continue
            rel = path.relative_to(data_dir).as_posix()
            seen: set[str] = set()
            for post in reader(path, rel):
                if post.post_id not in seen:
                    seen.add(post.post_id)
                    yield post
