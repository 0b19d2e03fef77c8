"""docs/cli.md is the commands' own help, regenerated."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_cli_reference_is_current() -> None:
    # A fresh process: click caches each command's help option the first time
    # it is built, so other tests invoking commands would change the rendering.
    fresh = subprocess.run(
        [sys.executable, "-m", "hubbub.cli.reference"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert DOC.read_text(encoding="utf-8") == fresh.stdout, (
        "docs/cli.md is stale: run .venv/bin/python -m hubbub.cli.reference > docs/cli.md"
    )
