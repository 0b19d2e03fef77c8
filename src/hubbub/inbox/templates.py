"""Saved replies' tiny template language: ``{identifier}`` and nothing else.

Not ``str.format``: a format string can walk attributes and indexes
(``{case.__class__.__init__.__globals__}``) and a saved reply is written by
any agent. Here a field is a plain identifier looked up in a fixed dict of
strings; ``{{`` and ``}}`` are literal braces. Anything else inside braces
(dots, brackets, ``:spec``, ``!conversion``, spaces) is refused with the
position, when the reply is saved and again when it is used.
"""

from __future__ import annotations

from collections.abc import Mapping

from hubbub.inbox.errors import TemplateError

MAX_FIELD = 32
# Longest refused field an error message quotes whole.
_QUOTE = 60
# The fields a case fills in (store/inbox_repo_settings.py ``template_fields``):
# a saved reply naming another is refused when saved, not when an agent uses it.
FIELDS: tuple[str, ...] = ("name", "handle", "agent", "case", "network")


def _parse(text: str) -> list[tuple[bool, str]]:
    """(is_field, literal or field name) pieces of ``text``."""
    pieces: list[tuple[bool, str]] = []
    literal: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "{":
            if text.startswith("{{", i):
                literal.append("{")
                i += 2
                continue
            end = text.find("}", i + 1)
            if end < 0:
                raise TemplateError(
                    f"a '{{' at character {i + 1} is never closed (write {{{{ for a brace)"
                )
            name = text[i + 1 : end]
            if not name:
                raise TemplateError(f"an empty field '{{}}' at character {i + 1}")
            if len(name) > MAX_FIELD or not (name.isidentifier() and name.isascii()):
                raise TemplateError(
                    f"'{_as_typed(text, i, end)}' at character {i + 1} is not a field: only "
                    "{name}-style names are allowed, no dots, brackets or format specs"
                )
            if literal:
                pieces.append((False, "".join(literal)))
                literal = []
            pieces.append((True, name))
            i = end + 1
            continue
        if ch == "}":
            if text.startswith("}}", i):
                literal.append("}")
                i += 2
                continue
            raise TemplateError(
                f"a '}}' at character {i + 1} closes nothing (write }}}} for a brace)"
            )
        literal.append(ch)
        i += 1
    if literal:
        pieces.append((False, "".join(literal)))
    return pieces


def _as_typed(text: str, start: int, end: int) -> str:
    """The refused field as the user typed it, from its ``{`` at ``start``.

    It ends at the first ``}`` (``end``), unless braces open inside it, as in
    str.format's nested ``{name:{width}}``: then at the brace that closes the
    first, when there is one (quoting up to the first ``}`` dropped the last).
    Long fields are cut with an ellipsis; characters that do not print are shown
    escaped, so the message cannot move the cursor or hide what is wrong.
    """
    if "{" in text[start + 1 : end]:
        depth = 0
        for j in range(start, len(text)):
            if text[j] == "}" and depth == 1 and text[j + 1 : j + 2] == "}" != text[j - 1]:
                break  # an escaped '}}' after the field ("… use }} for a brace"), not its end
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            if depth == 0:
                end = j
                break
    # Escaped first, then cut: a character shown escaped takes up to 10 (\U000e0041).
    shown = [ch if ch.isprintable() else repr(ch)[1:-1] for ch in text[start : end + 1]]
    if sum(map(len, shown)) <= _QUOTE:
        return "".join(shown)
    kept: list[str] = []
    room = _QUOTE - 1
    for piece in shown:
        if len(piece) > room:
            break
        kept.append(piece)
        room -= len(piece)
    return "".join(kept) + "…"


def fields_of(text: str) -> tuple[str, ...]:
    """The field names ``text`` uses, in order of first use (TemplateError
    when it is not a valid template)."""
    seen: list[str] = []
    for is_field, value in _parse(text):
        if is_field and value not in seen:
            seen.append(value)
    return tuple(seen)


def check_fields(text: str, known: tuple[str, ...] = FIELDS) -> tuple[str, ...]:
    """``fields_of(text)``, or TemplateError naming the first field that is
    not one of ``known`` (and listing those that are)."""
    used = fields_of(text)
    for name in used:
        if name not in known:
            listed = ", ".join("{" + k + "}" for k in known)
            raise TemplateError(f"unknown field {{{name}}} (fields: {listed})")
    return used


def render(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each ``{name}`` replaced by ``values[name]``, as text
    (a value's own braces are not read again). TemplateError for a field
    that ``values`` does not hold, naming the ones it does."""
    out: list[str] = []
    for is_field, value in _parse(text):
        if not is_field:
            out.append(value)
            continue
        if value not in values:
            known = ", ".join("{" + k + "}" for k in sorted(values))
            raise TemplateError(f"unknown field {{{value}}} (fields: {known})")
        out.append(values[value])
    return "".join(out)
