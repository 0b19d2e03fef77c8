"""Classifiers for posts: sentiment, intent, spam likelihood, offensive, language.

Run time needs numpy and py3langid only; models are small artifacts in
``models/`` trained by ``python -m hubbub.classify.train`` (``make models``).
Accuracy and speed: ``python -m hubbub.classify.evaluate`` and docs/classifiers.md.
"""

from hubbub.classify.api import SUPPORTED_LANGS, Classification, classify_texts

__all__ = ["SUPPORTED_LANGS", "Classification", "classify_texts"]
