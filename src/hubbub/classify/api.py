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
# Intent cut-offs. The complaint threshold is the model's own (models/linear.npz, chosen
# on its training data); question/praise need one clear signal each (see rules.py).
_COMPLAINT_SURE = 0.5
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


def _intents(
    prepared: list[rules.Prepared],
    complaint: list[float],
    probs: list[list[float]],
    threshold: float,
) -> list[Intent]:
    """The intent of each English text, by these rules in this order.

    Order matters: a complaint phrased as a question ("why is my order late?")
    is a complaint; a recommendation request phrased as a question is a lead.
    The complaint decision is the learned model's alone (calibrated probability
    against the threshold chosen on its training data; see train.py). The lead
    and praise patterns are scanned a batch at a time (``rules.batch_counts``),
    each over the texts that reach it.
    """
    out: list[Intent] = ["complaint" if c >= threshold else "other" for c in complaint]
    # The threshold may sit below 0.5: it is chosen for macro-F1 on complaints to brands,
    # where nothing else competes. A complaint the calibrated model rates less likely
    # than not ("I want to buy 20 licenses for my team": 0.40) gives way to an explicit
    # buying phrase; at 0.5 or more the complaint stands ("I want to buy one but your
    # site keeps crashing").
    unsure = [i for i, c in enumerate(complaint) if threshold <= c < _COMPLAINT_SURE]
    rest = [i for i, intent in enumerate(out) if intent == "other"]
    for i, lead in zip(unsure, rules.lead_signals([prepared[i] for i in unsure]), strict=True):
        if lead:
            out[i] = "lead"
    leads = rules.lead_signals([prepared[i] for i in rest])
    maybe_praise: list[int] = []
    for i, lead in zip(rest, leads, strict=True):
        if lead:
            out[i] = "lead"
        elif rules.question_score(prepared[i]) >= _QUESTION_MIN:
            out[i] = "question"
        else:
            negative, _neutral, positive = probs[i]
            if negative < 0.3:
                if positive >= _PRAISE_STRONG_POSITIVE:
                    out[i] = "praise"
                elif positive >= _PRAISE_MIN_POSITIVE:
                    # The probability tests go first: most posts fail them, so the
                    # praise pattern is scanned over the few left.
                    maybe_praise.append(i)
    for i, praise in zip(
        maybe_praise, rules.praise_signals([prepared[i] for i in maybe_praise]), strict=True
    ):
        if praise:
            out[i] = "praise"
    return out


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

    prepared = [rules.prepare(t) for t in texts]
    spam = [round(x, 4) for x in rules.spam_scores(prepared)]
    intents: list[Intent] = []
    if english:
        intents = _intents(
            [prepared[i] for i in english], complaint, probs, models.complaint_threshold
        )
    out: list[Classification] = []
    for i in range(n):
        k = slot.get(i)
        if k is None:
            out.append(
                Classification("unsupported", 0.0, "unsupported", spam[i], False, resolved[i])
            )
            continue
        out.append(
            Classification(
                sentiment=SENTIMENT_LABELS[labels[k]],  # type: ignore[arg-type]
                sentiment_score=round(differences[k], 4),
                intent=intents[k],
                spam=spam[i],
                offensive=offensive[k],
                lang=resolved[i],
            )
        )
    return out
