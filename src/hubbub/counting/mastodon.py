"""Mastodon's length, as its ``StatusLengthValidator`` counts.

The server counts extended grapheme clusters of the content warning plus the
text, after replacing every URL written with a scheme by as many characters as
the server reserves per URL, and every remote mention ``@user@host`` by
``@user``. The limits come from the server's ``/api/v2/instance``
(``configuration.statuses.max_characters`` and
``characters_reserved_per_url``); 500 and 23 when it does not say.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from hubbub.counting.entities import mastodon_entities

DEFAULT_MAX_CHARACTERS = 500
DEFAULT_CHARACTERS_PER_URL = 23

_GRAPHEME = regex.compile(r"\X")


@dataclass(slots=True, frozen=True)
class MastodonLimits:
    max_characters: int = DEFAULT_MAX_CHARACTERS
    characters_reserved_per_url: int = DEFAULT_CHARACTERS_PER_URL

    @classmethod
    def from_instance(cls, instance: object) -> MastodonLimits:
        """Limits from a ``/api/v2/instance`` document; defaults for what it lacks."""
        statuses: object = {}
        if isinstance(instance, dict):
            configuration = instance.get("configuration")
            if isinstance(configuration, dict):
                statuses = configuration.get("statuses", {})
        if not isinstance(statuses, dict):
            statuses = {}
        max_chars = statuses.get("max_characters")
        per_url = statuses.get("characters_reserved_per_url")
        return cls(
            max_characters=max_chars
            if isinstance(max_chars, int) and not isinstance(max_chars, bool) and max_chars > 0
            else DEFAULT_MAX_CHARACTERS,
            characters_reserved_per_url=per_url
            if isinstance(per_url, int) and not isinstance(per_url, bool) and per_url >= 0
            else DEFAULT_CHARACTERS_PER_URL,
        )


@dataclass(slots=True, frozen=True)
class MastodonCount:
    length: int
    limit: int
    ok: bool


def countable_text(text: str, limits: MastodonLimits) -> str:
    """The text as the server measures it: URLs as placeholders, mentions local."""
    parts: list[str] = []
    at = 0
    for entity in mastodon_entities(text):
        parts.append(text[at : entity.start])
        if entity.kind == "link":
            parts.append("x" * limits.characters_reserved_per_url)
        else:
            parts.append(entity.value)
        at = entity.end
    parts.append(text[at:])
    return "".join(parts)


def count(text: str, limits: MastodonLimits | None = None, spoiler_text: str = "") -> MastodonCount:
    limits = limits or MastodonLimits()
    measured = spoiler_text + countable_text(text, limits)
    length = sum(1 for _ in _GRAPHEME.finditer(measured))
    ok = bool(text.strip()) and length <= limits.max_characters
    return MastodonCount(length=length, limit=limits.max_characters, ok=ok)
