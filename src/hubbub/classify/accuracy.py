"""Each classifier's measured accuracy, shipped as package data beside the models.

``accuracy.json`` is written by ``python -m hubbub.classify.evaluate --write-accuracy``
from the same run whose tables are in docs/classifiers.md, so the figures the
dashboard, reports, room filters and ``hubbub classify --help`` show next to
sentiment and intent are the documented ones, not numbers typed by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from hubbub.i18n import _

FILE = "accuracy.json"
CLASSIFIERS = ("sentiment", "intent", "spam", "offensive")


@dataclass(frozen=True, slots=True)
class Figure:
    """One classifier's headline figure, as measured."""

    classifier: str
    metric: str  # e.g. "macro recall"
    value: float
    data: str  # what it was measured on, and how
    baseline: str  # the baseline's name
    baseline_value: float

    def to_dict(self) -> dict[str, str | float]:
        return {
            "metric": self.metric,
            "value": self.value,
            "data": self.data,
            "baseline": self.baseline,
            "baseline_value": self.baseline_value,
        }


@dataclass(frozen=True, slots=True)
class Accuracy:
    measured: str  # date of the evaluation run
    languages: tuple[str, ...]  # languages the sentiment/intent/offensive models support
    figures: dict[str, Figure]

    def note(self, classifier: str) -> str:
        """One line for people: 'macro recall 0.70 (VADER 0.60) on …; English only'."""
        f = self.figures.get(classifier)
        if f is None:
            return _("accuracy not measured")
        return _("{metric} {value:.2f} ({baseline} {baseline_value:.2f}) on {data}").format(
            metric=f.metric,
            value=f.value,
            baseline=f.baseline,
            baseline_value=f.baseline_value,
            data=f.data,
        )

    def to_dict(self) -> dict[str, object]:
        """For JSON (reports, the dashboard): figures, supported languages, the date."""
        return {
            "measured": self.measured,
            "languages": list(self.languages),
            "unsupported": _("posts in other languages are marked 'unsupported', not classified"),
            **{name: {**f.to_dict(), "note": self.note(name)} for name, f in self.figures.items()},
        }


def parse_accuracy(raw: dict[str, object]) -> Accuracy:
    figures: dict[str, Figure] = {}
    for name in CLASSIFIERS:
        entry = raw.get(name)
        if not isinstance(entry, dict):
            continue
        figures[name] = Figure(
            classifier=name,
            metric=str(entry["metric"]),
            value=float(entry["value"]),
            data=str(entry["data"]),
            baseline=str(entry["baseline"]),
            baseline_value=float(entry["baseline_value"]),
        )
    languages = raw.get("languages")
    return Accuracy(
        measured=str(raw.get("measured", "")),
        languages=tuple(str(x) for x in languages) if isinstance(languages, list) else ("en",),
        figures=figures,
    )


@cache
def load_accuracy() -> Accuracy:
    """The shipped figures (read once per process)."""
    ref = resources.files("hubbub.classify") / "models" / FILE
    with ref.open("r", encoding="utf-8") as fh:
        return parse_accuracy(json.load(fh))


def help_text() -> str:
    """The accuracy paragraph of ``hubbub classify --help``."""
    acc = load_accuracy()
    lines = [_("Measured accuracy ({date}, docs/classifiers.md):").format(date=acc.measured)]
    for name in CLASSIFIERS:
        if name in acc.figures:
            lines.append(f"{name}: {acc.note(name)}.")
    lines.append(
        _(
            "Sentiment, intent and offensive support: {langs}; other languages get 'unsupported'."
        ).format(langs=", ".join(acc.languages))
    )
    return "\n\n".join(lines)
