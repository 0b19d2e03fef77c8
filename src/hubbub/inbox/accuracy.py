"""The classifiers' measured accuracy as a case shows it beside the post's
intent and sentiment (the figures ``hubbub.classify.accuracy`` ships)."""

from __future__ import annotations

from functools import cache

from hubbub.inbox.model import Accuracy


@cache
def classifier_accuracy() -> Accuracy:
    from hubbub.classify.accuracy import load_accuracy

    try:
        measured = load_accuracy()
    except (OSError, ValueError, KeyError):
        return Accuracy(None, None, "accuracy not measured", "accuracy not measured")
    intent = measured.figures.get("intent")
    sentiment = measured.figures.get("sentiment")
    return Accuracy(
        intent=intent.value if intent else None,
        sentiment=sentiment.value if sentiment else None,
        intent_note=measured.note("intent"),
        sentiment_note=measured.note("sentiment"),
    )
