"""The characters a public post from Hubbub never carries, and their removal.

A post goes out in the brand's name and is read in apps, browsers and
terminals we do not control. Two kinds of character have no business in it:

- C0 and C1 control characters (and DEL), except the newline: an escape
  sequence (``ESC [31m``) recolours or rewrites a terminal that shows the
  post, and the rest show as boxes or nothing at all.
- The bidi embeddings, overrides and isolates (U+202A–U+202E,
  U+2066–U+2069): they reorder what a reader sees, so the post can read
  differently from the words in it ("Trojan Source", CVE-2021-42574).

LRM and RLM (U+200E, U+200F) stay: they only mark a direction, cannot
reorder the text around them, and right-to-left writers need them to place
punctuation and numbers. Zero-width joiners stay too (emoji sequences and
several scripts are built with them).

``clean`` removes; ``forbidden`` names the first such character, for callers
that refuse instead (a saved reply is refused when it is saved: see
``hubbub.inbox.service``).
"""

from __future__ import annotations

import re
import unicodedata

# A tab is a control too, but where it appears it separates words: it becomes
# a space rather than gluing them together. A CR is dropped, so CRLF and lone
# CR line ends read as the newline they meant.
_TAB = "\t"
# A whole terminal sequence (ESC [ … final byte) goes, not only its ESC: the
# rest ("[31m") was never meant to be read.
_CSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_FORBIDDEN = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    """``text`` with tabs as spaces, no terminal sequences and no forbidden
    characters (see above)."""
    return _FORBIDDEN.sub("", _CSI.sub("", text.replace(_TAB, " ")))


def forbidden(text: str) -> str | None:
    """A description of the first forbidden character in ``text`` and where it
    is ("U+001B (ESCAPE) at character 6"), or None when there is none."""
    found = _FORBIDDEN.search(text)
    if found is None:
        return None
    char = found.group()
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(char, "a control character")
    return f"U+{ord(char):04X} ({name}) at character {found.start() + 1}"


# unicodedata has no names for C0/C1 controls; the few people meet by name.
_CONTROL_NAMES = {
    "\x00": "NUL",
    "\x07": "BELL",
    "\x08": "BACKSPACE",
    "\t": "TAB",
    "\r": "CARRIAGE RETURN",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
}
