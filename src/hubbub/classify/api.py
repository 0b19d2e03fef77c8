"""``classify_texts``: sentiment, intent, spam, offensive and language for a batch of posts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from hubbub.classify import language, rules
from hubbub.classify.linear import SENTIMENT_LABELS, load_models, score_texts

Sentiment = Literal["negative", "neutral", "positive", "unsupported"]
Intent = Literal["complaint", "question", "lead", "praise", "other", "unsupported"]

#: Languages the sentiment, intent and offensive models were trained on.
SUPPORTED_LANGS = frozenset({"en"})
# Intent cut-offs. The complaint one is the model's own 0.5 (balanced training);
# question/praise need one clear signal each (see rules.py).
_QUESTION_MIN = 0.5
_PRAISE_MIN_POSITIVE = 0.45
_PRAISE_STRONG_POSITIVE = 0.9


@dataclass(frozen=True, slots=True)
class Classification:
    sentiment: Sentiment
    sentiment_score: float  # P(positive) - P(negative), in [-1, 1]; 0.0 when unsupported
    intent: Intent
    spam: float  # 0..1
    offensive: bool
    lang: str  # ISO 639-1, or 'und'

    def to_dict(self) -> dict[str, Any]:
        # Written out: dataclasses.asdict deep-copies field by field and was a sixth of
        # `hubbub classify`'s whole run on 60,000 texts.
        return {
            "sentiment": self.sentiment,
            "sentiment_score": self.sentiment_score,
            "intent": self.intent,
            "spam": self.spam,
            "offensive": self.offensive,
            "lang": self.lang,
        }


def _intent(
    p: rules.Prepared, complaint: float, negative: float, positive: float, threshold: float
) -> Intent:
    # Order matters: a complaint phrased as a question ("why is my order late?")
    # is a complaint; a recommendation request phrased as a question is a lead.
    # The complaint decision is the learned model's alone (calibrated probability
    # against the threshold chosen on its training data; see train.py).
    if complaint >= threshold:
        return "complaint"
    if rules.lead_signal(p):
        return "lead"
    if rules.question_score(p) >= _QUESTION_MIN:
        return "question"
    # The probability test goes before the praise regex: same answer, and most
    # posts fail it, so the regex is not run on them.
    if negative < 0.3 and (
        (positive >= _PRAISE_MIN_POSITIVE and rules.praise_signal(p))
        or positive >= _PRAISE_STRONG_POSITIVE
    ):
        return "praise"
    return "other"


def classify_texts(
    texts: Sequence[str], langs: Sequence[Any] | None = None, lang_default: str | None = "en"
) -> list[Classification]:
    """Classify ``texts``; ``langs[i]`` is the network's language for text ``i`` (or None).

    ``lang_default`` is the language assumed for a short text the detector is
    not confident about (None: keep the detector's guess).

    A text whose language is not English gets sentiment and intent
    'unsupported' (score 0.0) and offensive False, because those models only
    know English; its spam score is still given, from language-neutral signals
    (links, tag stuffing, cashtags, money) plus an English promo lexicon.
    """
    if langs is not None and len(langs) != len(texts):
        raise ValueError("langs must be as long as texts")
    n = len(texts)
    if n == 0:
        return []
    models = load_models()
    resolved = [
        language.resolve(t, langs[i] if langs is not None else None, lang_default)
        for i, t in enumerate(texts)
    ]
    english = [i for i, lang in enumerate(resolved) if lang in SUPPORTED_LANGS]
    slot = {i: k for k, i in enumerate(english)}
    if english:
        scores = score_texts([texts[i] for i in english], models)
        # Whole-batch numpy once, then plain Python floats per text: indexing numpy
        # scalars text by text cost more than the arithmetic. Same values: the
        # subtraction is the same float64 operation, argmax keeps the first maximum.
        probs = scores.sentiment.tolist()
        labels = np.argmax(scores.sentiment, axis=1).tolist()
        differences = (scores.sentiment[:, 2] - scores.sentiment[:, 0]).tolist()
        complaint = scores.complaint.tolist()
        offensive = (scores.offensive >= models.offensive_threshold).tolist()

    out: list[Classification] = []
    for i, text in enumerate(texts):
        prepared = rules.prepare(text)
        spam = round(rules.spam_score(prepared), 4)
        k = slot.get(i)
        if k is None:
            out.append(Classification("unsupported", 0.0, "unsupported", spam, False, resolved[i]))
            continue
        negative, _neutral, positive = probs[k]
        out.append(
            Classification(
                sentiment=SENTIMENT_LABELS[labels[k]],  # type: ignore[arg-type]
                sentiment_score=round(differences[k], 4),
                intent=_intent(
                    prepared, complaint[k], negative, positive, models.complaint_threshold
                ),
                spam=spam,
                offensive=offensive[k],
                lang=resolved[i],
            )
        )
    return out
