"""Write posts out again: JSONL (every field, re-importable), CSV (for
spreadsheets), or the raw payloads exactly as they were received."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO

import orjson

from hubbub.formats.hubbub import post_to_json
from hubbub.post import Post

CSV_COLUMNS = (
    "network", "id", "url", "author", "author_name", "text", "created_at", "langs",
    "reply_to", "quote_of", "repost_of", "hashtags", "mentions", "links", "media_count",
    "likes", "reposts", "replies", "quotes", "place", "sensitive", "content_warning", "source",
)  # fmt: skip


def write_jsonl(posts: Iterable[Post], out: IO[bytes]) -> int:
    count = 0
    for post in posts:
        out.write(orjson.dumps(post_to_json(post)) + b"\n")
        count += 1
    return count


def _csv_cell(value: object) -> object:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        # Spreadsheet formula injection: network text is hostile.
        return "'" + value
    return value


def write_csv(posts: Iterable[Post], out: IO[str]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for post in posts:
        row = post_to_json(post)
        metrics = row["metrics"]
        row.update(
            likes=metrics.get("likes"),
            reposts=metrics.get("reposts"),
            replies=metrics.get("replies"),
            quotes=metrics.get("quotes"),
        )
        writer.writerow([_csv_cell(row.get(column)) for column in CSV_COLUMNS])
        count += 1
    return count


def write_raw(payloads: Iterable[tuple[str | None, bytes]], out: IO[bytes]) -> int:
    """One payload per line. A payload that spans lines (a pretty-printed
    document, an SSE event) is re-serialised compactly so the output stays JSONL."""
    count = 0
    for _fmt, body in payloads:
        line = body.strip()
        if b"\n" in line:
            line = orjson.dumps(orjson.loads(line))
        out.write(line + b"\n")
        count += 1
    return count
