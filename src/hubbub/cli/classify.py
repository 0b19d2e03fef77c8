"""``hubbub classify``: the command lives in ``hubbub.classify.command`` so that
``hubbub.launch`` can start it without importing the rest of the CLI."""

from __future__ import annotations

from hubbub.classify.command import classify, classify_lines, payload_lang

COMMANDS = [classify]

__all__ = ["COMMANDS", "classify", "classify_lines", "payload_lang"]
