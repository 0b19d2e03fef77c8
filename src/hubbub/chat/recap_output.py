"""One recap in any of its formats, as bytes: what the CLI writes and the
room page downloads."""

from __future__ import annotations

from typing import Any

import orjson

FORMATS = ("json", "html", "md", "pdf")
MEDIA_TYPES = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "pdf": "application/pdf",
}


def render_recap(recap: dict[str, Any], fmt: str) -> bytes:
    if fmt == "json":
        return orjson.dumps(recap, option=orjson.OPT_INDENT_2) + b"\n"
    if fmt == "html":
        from hubbub.chat.recap_html import render_recap_html

        return render_recap_html(recap).encode()
    if fmt == "md":
        from hubbub.chat.recap_markdown import render_recap_markdown

        return render_recap_markdown(recap).encode()
    if fmt == "pdf":
        from hubbub.chat.recap_pdf import render_recap_pdf

        return render_recap_pdf(recap)
    raise ValueError(f"unknown recap format {fmt!r}; use one of {', '.join(FORMATS)}")


def recap_filename(recap: dict[str, Any], fmt: str) -> str:
    # The tag is folded hashtag text; keep only characters safe in a file name.
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in recap["tag"])[:80]
    return f"recap-{safe}-{recap['day']}.{fmt}"
