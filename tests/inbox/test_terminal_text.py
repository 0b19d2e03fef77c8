"""Network text printed by `hubbub inbox` cannot drive the terminal."""

from __future__ import annotations

from hubbub.cli.inbox import plain


def test_escape_sequences_and_bidi_overrides_are_replaced() -> None:
    hostile = "hi\x1b]52;c;ZXZpbA==\x07 \x1b[31mred\u202egnp.exe\r\x00"
    shown = plain(hostile)
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "\r" not in shown and "\x00" not in shown
    assert shown.startswith("hi\ufffd]52;c;ZXZpbA==\ufffd \ufffd[31mred\ufffdgnp.exe")
    kept = "Zażółć gęślą jaźń 👍\nline two\ttab"
    assert plain(kept, keep_newlines=True) == kept  # a post shown whole
    assert plain(kept) == "Zażółć gęślą jaźń 👍\ufffdline two\ufffdtab"  # one table line
