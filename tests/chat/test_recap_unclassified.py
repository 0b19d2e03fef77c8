"""Every recap format says how many posts are not classified yet, as the
JSON's ``sentiment.unclassified`` does (they are counted among "language
not supported", so without it a reader cannot tell the two apart)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import orjson

from hubbub.store import Ingest, open_store
from tests.chat.test_recap_cli import TAG, _post
from tests.cli.test_data_commands import hubbub


def test_every_format_shows_the_unclassified_count(tmp_path: Path) -> None:
    from pypdf import PdfReader

    db = str(tmp_path / "recap.db")
    at = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
    with open_store(db) as store:  # stored directly: nothing classified them
        store.ingest(
            [Ingest(_post(n, f"Q{n}: what about this {n}?", "host", at)) for n in range(1, 4)]
        )
    done = hubbub("recap", TAG, "--db", db)
    assert done.returncode == 0, done.stderr
    sentiment = orjson.loads(done.stdout)["sentiment"]
    assert sentiment["unclassified"] == 3
    expected = f"not classified yet: {sentiment['unclassified']}"
    texts = {}
    for fmt in ("html", "md", "pdf"):
        out = tmp_path / f"r.{fmt}"
        made = hubbub("recap", TAG, "--out", str(out), "--db", db)
        assert made.returncode == 0, made.stderr
        if fmt == "pdf":
            pages = PdfReader(io.BytesIO(out.read_bytes())).pages
            texts[fmt] = " ".join(" ".join(p.extract_text().split()) for p in pages)
        else:
            texts[fmt] = out.read_text()
    for fmt, text in texts.items():
        assert expected in text, fmt
