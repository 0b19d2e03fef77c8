"""Classifiers for posts: sentiment, intent, spam likelihood, offensive, language.

Run time needs numpy and py3langid only; models are small artifacts in
``models/`` trained by ``python -m hubbub.classify.train`` (``make models``).
Accuracy and speed: ``python -m hubbub.classify.evaluate`` and docs/classifiers.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hubbub.classify.api import SUPPORTED_LANGS, Classification, classify_texts

__all__ = ["SUPPORTED_LANGS", "Classification", "classify_texts"]


def __getattr__(name: str) -> Any:
    # Imported on first use, not with the package: `hubbub classify` imports a
    # submodule (language codes, the worker pool) before it needs numpy, and starts
    # reading the language model while numpy loads (classify/workers.py).
    if name in __all__:
        from hubbub.classify import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
