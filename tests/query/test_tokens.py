"""fold() strips every mark, in and above the Basic Multilingual Plane
(the two are stripped by different means, see ``tokens._marks``)."""

import unicodedata

from hubbub.query.tokens import fold, tokenize


def test_fold_strips_marks_in_and_above_the_bmp() -> None:
    assert fold("Łódź Straße") == "lodz strasse"
    # U+1D165 (Mc) and U+E0100 (Mn) are astral marks; the emoji stays.
    assert fold("Ab\U0001d165c\U000e0100d 😀") == "abcd 😀"
    assert tokenize("héllo\u0301 wörld 😀 🇬🇧 #Brexit") == ["hello", "world", "brexit"]


def test_no_mark_survives_fold() -> None:
    text = "".join(chr(cp) for cp in range(0x20000) if not 0xD800 <= cp <= 0xDFFF)
    text += "".join(chr(cp) for cp in range(0xE0000, 0xE1000))
    assert not [c for c in fold(text) if unicodedata.category(c)[0] == "M"]
