"""The one translation function, ``_()``, for every user-facing string.

English is the source language; catalogues (``hubbub/locale/<lang>/LC_MESSAGES/
hubbub.mo``) are picked up when present, so adding Polish is a matter of
shipping a catalogue. ``HUBBUB_LANG`` (or LANGUAGE/LANG) chooses the language.
"""

from __future__ import annotations

import gettext
import os
from functools import lru_cache
from pathlib import Path

_LOCALE_DIR = Path(__file__).with_name("locale")


@lru_cache(maxsize=8)
def _translation(lang: str | None) -> gettext.NullTranslations:
    languages = [lang] if lang else None
    return gettext.translation("hubbub", localedir=_LOCALE_DIR, languages=languages, fallback=True)


def _(message: str) -> str:
    """Translate ``message`` into the configured language (English by default)."""
    return _translation(os.environ.get("HUBBUB_LANG")).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation(os.environ.get("HUBBUB_LANG")).ngettext(singular, plural, n)
