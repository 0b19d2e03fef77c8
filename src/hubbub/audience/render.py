"""The audit as one self-contained HTML file (``audience audit --format
html``), from the same template fragment as the page."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

from hubbub.audience.audit import Audit
from hubbub.i18n import _

TEMPLATES = Path(__file__).resolve().parents[1] / "web" / "templates"
NETWORK_LABELS = {"x": "X", "bluesky": "Bluesky", "mastodon": "Mastodon"}


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # handles, names and reasons come from the networks: hostile
        undefined=jinja2.StrictUndefined,
    )
    env.globals["_"] = _
    return env


def render_html(audit: Audit) -> str:
    return (
        _env()
        .get_template("audience_report.html")
        .render(audit=audit, network_label=NETWORK_LABELS.get(audit.snapshot.network, "?"))
    )
