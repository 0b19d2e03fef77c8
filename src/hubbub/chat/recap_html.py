"""The recap as ONE offline HTML file (inline style, no script, nothing
loaded from elsewhere); Jinja2's autoescape escapes every network string and
links are only the http(s) URLs ``post_summary`` kept."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from hubbub.chat.recap_markdown import no_top_answers
from hubbub.i18n import _


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).with_name("templates"))),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["_"] = _
    env.globals["no_top_answers"] = no_top_answers
    return env


def render_recap_html(recap: dict[str, Any]) -> str:
    return _environment().get_template("recap.html").render(r=recap)
