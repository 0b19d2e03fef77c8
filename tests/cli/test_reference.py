"""docs/cli.md is the commands' own help, regenerated."""

from __future__ import annotations

from pathlib import Path

from hubbub.cli.reference import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_cli_reference_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/cli.md is stale: run .venv/bin/python -m hubbub.cli.reference > docs/cli.md"
    )
