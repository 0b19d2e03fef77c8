"""axe-core (from npm, pinned in tests/web/axe/package-lock.json) run inside a
Playwright page: the accessibility scan of the browser tests.

The script is handed to the page through the DevTools protocol
(``page.evaluate``), not as a ``<script>`` tag: the app's Content-Security-Policy
allows only its own scripts, and the scan must see the page exactly as users
get it, CSP included, rather than a context that bypasses it.

``make browser`` installs it (``npm ci --prefix tests/web/axe``). Without it a
scan skips locally and fails in CI, as the chromium fixture does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

AXE_JS = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# What the issue asks to hold at zero; "moderate" and "minor" are reported by
# scan_all for a human to read, not failed on.
BLOCKING = ("serious", "critical")
# WCAG 2.x A and AA plus axe's best practices (landmarks, headings, regions).
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice")


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    url: str
    targets: tuple[str, ...]  # CSS selectors of the offending elements
    snippets: tuple[str, ...]  # their outer HTML, cut short by axe

    def __str__(self) -> str:
        where = "; ".join(
            f"{t} {s[:160]}" for t, s in zip(self.targets, self.snippets, strict=False)
        )
        return f"[{self.impact}] {self.rule}: {self.help} ({len(self.targets)} nodes) {where}"


def _axe_source() -> str:
    if not AXE_JS.exists():
        message = f"{AXE_JS} missing: run `make browser` (npm ci --prefix tests/web/axe)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return AXE_JS.read_text(encoding="utf-8")


def _inject(page: Any) -> None:  # noqa: ANN401 - a Playwright Page (sync API)
    if page.evaluate("() => typeof window.axe === 'object'"):
        return
    # Wrapped in a function so page.evaluate runs it as a statement list;
    # axe's UMD header then finds no module system and sets window.axe.
    page.evaluate("() => {" + _axe_source() + "\n}")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        raise RuntimeError("axe-core did not load in the page")


def scan_all(page: Any, *, include: str | None = None) -> list[Violation]:  # noqa: ANN401
    """Every violation axe finds in the page as it is now (or in the part
    ``include`` selects), any impact."""
    _inject(page)
    raw = page.evaluate(
        """async ([include, tags]) => {
            const context = include ? { include: [include] } : document;
            const result = await window.axe.run(context, {
                runOnly: { type: 'tag', values: tags },
                resultTypes: ['violations'],
            });
            return result.violations.map(v => ({
                rule: v.id, impact: v.impact || 'minor', help: v.help, url: v.helpUrl,
                targets: v.nodes.map(n => n.target.join(' ')),
                snippets: v.nodes.map(n => n.html),
            }));
        }""",
        [include, list(TAGS)],
    )
    return [
        Violation(
            rule=v["rule"],
            impact=v["impact"],
            help=v["help"],
            url=v["url"],
            targets=tuple(v["targets"]),
            snippets=tuple(v["snippets"]),
        )
        for v in raw
    ]


def serious_violations(page: Any, *, include: str | None = None) -> list[Violation]:  # noqa: ANN401
    """The serious and critical violations: what a page must not have."""
    return [v for v in scan_all(page, include=include) if v.impact in BLOCKING]


def assert_no_serious_violations(page: Any, *, include: str | None = None) -> None:  # noqa: ANN401
    found = serious_violations(page, include=include)
    assert not found, "axe-core found:\n" + "\n".join(str(v) for v in found)
