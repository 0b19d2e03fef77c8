"""Independent counts of the unique posts in each real payload file, computed
with plain ``json`` and the networks' documented identity rules, so the import
tests do not check the parsers against themselves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _x_v2_ids(page: Any, ids: set[str]) -> None:
    if not isinstance(page, dict):
        return
    data = page.get("data")
    tweets = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    tweets = tweets + list((page.get("includes") or {}).get("tweets") or [])
    for tweet in tweets:
        if not isinstance(tweet, dict) or "text" not in tweet:
            continue  # user lookups, counts, compliance rows
        chain = tweet.get("edit_history_tweet_ids") or [tweet["id"]]
        ids.add(chain[0])


def _x_v1_ids(status: Any, ids: set[str]) -> None:
    if isinstance(status, list):
        for item in status:
            _x_v1_ids(item, ids)
        return
    if not isinstance(status, dict):
        return
    if "statuses" in status:
        _x_v1_ids(status["statuses"], ids)
        return
    ids.add(status["id_str"])
    for key in ("retweeted_status", "quoted_status"):
        if key in status:
            _x_v1_ids(status[key], ids)


def _mastodon_ids(status: Any, ids: set[str], local: dict[str, str] | None = None) -> None:
    if isinstance(status, list):
        for item in status:
            _mastodon_ids(item, ids, local)
        return
    if not isinstance(status, dict) or "uri" not in status or "account" not in status:
        return
    ids.add(status["uri"])
    if local is not None:
        local[str(status["id"])] = status["uri"]
    if status.get("reblog"):
        _mastodon_ids(status["reblog"], ids, local)


def _mastodon_events(events: list[tuple[str, Any]]) -> set[str]:
    """Streaming events: posts minus those a later ``delete`` (local id) removes."""
    ids: set[str] = set()
    local: dict[str, str] = {}
    deleted: set[str] = set()
    for event, payload in events:
        if isinstance(payload, str) and payload[:1] == "{":
            payload = json.loads(payload)
        if event in ("update", "status.update"):
            _mastodon_ids(payload, ids, local)
        elif event == "notification" and isinstance(payload, dict) and payload.get("status"):
            _mastodon_ids(payload["status"], ids, local)
        elif event == "conversation" and isinstance(payload, dict) and payload.get("last_status"):
            _mastodon_ids(payload["last_status"], ids, local)
        elif event == "delete" and str(payload) in local:
            deleted.add(local[str(payload)])
    return ids - deleted


def _sse_events(path: Path) -> list[tuple[str, str]]:
    events, name, data = [], None, []
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line:
            if data:
                events.append((name or "message", "\n".join(data)))
            name, data = None, []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
    return events


def live_post_ids(path: Path) -> set[str]:
    """Identities of the posts in ``path`` that are not deleted by the file itself."""
    ids: set[str] = set()
    deleted: set[str] = set()
    folder = path.parent.name
    if path.suffix == ".sse":
        return _mastodon_events(_sse_events(path))
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        return ids
    if folder == "mastodon":
        value = json.loads(text)
        if isinstance(value, list) and value and isinstance(value[0], dict) and "event" in value[0]:
            return _mastodon_events([(e["event"], e.get("payload")) for e in value])
        else:
            _mastodon_ids(value, ids)
        return ids
    if folder == "bluesky_jetstream":
        for line in text.splitlines():
            if not line.strip():
                continue
            event = json.loads(line)
            commit = event.get("commit") or {}
            if event.get("kind") != "commit":
                continue
            if commit.get("collection") not in ("app.bsky.feed.post", "app.bsky.feed.repost"):
                continue
            uri = f"at://{event['did']}/{commit['collection']}/{commit['rkey']}"
            if commit["operation"] == "delete":
                deleted.add(uri)
            else:
                ids.add(uri)
        return ids - deleted
    if folder == "bluesky_xrpc":
        value = json.loads(text)

        def add_view(view: dict) -> None:
            ids.add(view["uri"])
            embed = view.get("embed") or {}
            record = embed.get("record") or {}
            if record.get("$type") == "app.bsky.embed.record#viewRecord":
                ids.add(record["uri"])
            inner = record.get("record") or {}
            if isinstance(inner, dict) and inner.get("$type") == "app.bsky.embed.record#viewRecord":
                ids.add(inner["uri"])

        def walk_thread(node: dict) -> None:
            if node.get("$type", "").endswith("threadViewPost") or "post" in node:
                if "post" in node:
                    add_view(node["post"])
                if isinstance(node.get("parent"), dict):
                    walk_thread(node["parent"])
                for reply in node.get("replies") or []:
                    walk_thread(reply)

        for view in value.get("posts") or []:
            add_view(view)
        if isinstance(value.get("thread"), dict):
            walk_thread(value["thread"])
        return ids
    # X
    if path.name.startswith("v1.1"):
        _x_v1_ids(json.loads(text), ids)
        return ids
    lines = [text] if path.suffix == ".json" else text.splitlines()
    for line in lines:
        if not line.strip():
            continue
        try:
            _x_v2_ids(json.loads(line), ids)
        except json.JSONDecodeError:
            continue  # the truncated line: reported, not counted
    return ids
