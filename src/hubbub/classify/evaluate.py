"""Measure every classifier on held-out real data, each beside its baseline.

``python -m hubbub.classify.evaluate`` prints the tables recorded in
docs/classifiers.md. Baselines: VADER for sentiment (if vaderSentiment, from
the ``train`` extra, is installed), the majority class for everything else.
The complaint 10-fold cross-validation retrains the complaint head, so it
needs scikit-learn (``train`` extra) and is skipped with a note without it.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from hubbub.classify import datasets
from hubbub.classify.api import SUPPORTED_LANGS, classify_texts
from hubbub.classify.eval.payload_posts import PayloadPost, iter_payload_posts
from hubbub.classify.process import classify_via_cli, whole_process_speed

INTENTS = ("complaint", "question", "lead", "praise", "other")


# --- metrics (numpy; no scikit-learn needed) ----------------------------------
def per_class(
    y: Sequence[str], p: Sequence[str], labels: Sequence[str]
) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    ya, pa = np.asarray(y), np.asarray(p)
    for lab in labels:
        tp = float(np.sum((ya == lab) & (pa == lab)))
        support = float(np.sum(ya == lab))
        predicted = float(np.sum(pa == lab))
        prec = tp / predicted if predicted else 0.0
        rec = tp / support if support else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[lab] = {"precision": prec, "recall": rec, "f1": f1, "support": support}
    return out


def summary(y: Sequence[str], p: Sequence[str], labels: Sequence[str]) -> dict[str, float]:
    pc = per_class(y, p, labels)
    present = [lab for lab in labels if pc[lab]["support"] > 0]
    return {
        "macro_recall": float(np.mean([pc[lab]["recall"] for lab in present])),
        "macro_f1": float(np.mean([pc[lab]["f1"] for lab in present])),
        "accuracy": float(np.mean(np.asarray(y) == np.asarray(p))),
    }


def auc(y: Sequence[int], score: Sequence[float]) -> float:
    """ROC AUC by the rank-sum formula (ties get average ranks)."""
    ya, sa = np.asarray(y), np.asarray(score, dtype=float)
    n_pos, n_neg = int(ya.sum()), int(len(ya) - ya.sum())
    if not n_pos or not n_neg:
        return float("nan")
    order = sa.argsort(kind="stable")
    ranks = np.empty(len(sa))
    sorted_s = sa[order]
    i = 0
    while i < len(sa):
        j = i
        while j + 1 < len(sa) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[ya == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    results: dict[str, dict[str, float]] = field(default_factory=dict)
    # Per classifier, the figure shipped in models/accuracy.json (see accuracy.py).
    headlines: dict[str, dict[str, object]] = field(default_factory=dict)
    speed: tuple[float, float] | None = None

    def headline(
        self,
        classifier: str,
        metric: str,
        row: dict[str, float],
        key: str,
        data: str,
        baseline: str,
        baseline_value: float,
    ) -> None:
        self.headlines[classifier] = {
            "metric": metric,
            "value": round(row[key], 3),
            "data": data,
            "baseline": baseline,
            "baseline_value": round(baseline_value, 3),
        }

    def table(self, title: str, rows: dict[str, dict[str, float]], cols: Sequence[str]) -> None:
        self.lines.append(f"\n## {title}\n")
        self.lines.append("| system | " + " | ".join(cols) + " |")
        self.lines.append("|---|" + "---|" * len(cols))
        for name, vals in rows.items():
            cells = [f"{vals[c]:.3f}" if c in vals else "–" for c in cols]
            self.lines.append(f"| {name} | " + " | ".join(cells) + " |")
            self.results[f"{title}: {name}"] = vals

    def note(self, text: str) -> None:
        self.lines.append(text)


def _vader() -> Callable[[str], float] | None:
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return None
    analyzer = SentimentIntensityAnalyzer()
    return lambda text: float(analyzer.polarity_scores(text)["compound"])


def _vader_label(compound: float) -> str:
    # VADER's documented cut-offs
    return "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"


def eval_sentiment(root: Path, rep: Report) -> None:
    texts, labels = datasets.tweeteval(root, "sentiment", "val")
    names = ("negative", "neutral", "positive")
    gold = [names[i] for i in labels]
    # As users get it: through `hubbub classify`, language detected (short texts
    # without a confident detection fall back to --lang-default en).
    as_used = [str(o["sentiment"]) for o in classify_via_cli(texts)]
    given = [c.sentiment for c in classify_texts(texts, ["en"] * len(texts))]
    rows = {
        "hubbub classify (language detected)": summary(gold, as_used, names),
        "hubbub, language given as en": summary(gold, given, names),
    }
    vader = _vader()
    if vader is not None:
        rows["VADER (compound ±0.05)"] = summary(
            gold, [_vader_label(vader(t)) for t in texts], names
        )
    rows["majority class (neutral)"] = summary(gold, ["neutral"] * len(gold), names)
    rep.table(
        f"Sentiment — TweetEval sentiment val (n={len(texts)})",
        rows,
        ["macro_recall", "macro_f1", "accuracy"],
    )
    unsupported = sum(1 for s in as_used if s == "unsupported")
    rep.note(f"Texts answered 'unsupported' through hubbub classify: {unsupported}.")
    rep.headline(
        "sentiment",
        "macro recall",
        rows["hubbub classify (language detected)"],
        "macro_recall",
        "TweetEval sentiment val through hubbub classify",
        "VADER",
        rows.get("VADER (compound ±0.05)", {}).get("macro_recall", 0.0),
    )
    if vader is None:
        rep.note(
            "VADER column skipped: vaderSentiment is not installed (pip install -e '.[train]')."
        )


def _binary_rows(
    gold: Sequence[str], systems: dict[str, Sequence[str]], labels: tuple[str, str], f1_key: str
) -> dict[str, dict[str, float]]:
    """Summary rows for a two-class task; ``f1_key`` is the positive class's F1
    (the second label), as the papers report it beside macro-F1."""
    rows = {}
    for name, pred in systems.items():
        row = summary(gold, pred, labels)
        positive = per_class(gold, pred, labels)[labels[1]]
        row[f1_key] = positive["f1"]
        row["precision"] = positive["precision"]
        row["recall"] = positive["recall"]
        rows[name] = row
    return rows


def eval_offensive(root: Path, rep: Report) -> None:
    texts, labels = datasets.tweeteval(root, "offensive", "val")
    gold = ["offensive" if x else "not" for x in labels]
    ours = ["offensive" if o["offensive"] else "not" for o in classify_via_cli(texts)]
    rows = _binary_rows(
        gold,
        {
            "hubbub classify (LR, language detected)": ours,
            "majority class (not offensive)": ["not"] * len(gold),
        },
        ("not", "offensive"),
        "f1_offensive",
    )
    rep.table(
        f"Offensive — TweetEval offensive val (n={len(texts)})",
        rows,
        ["macro_f1", "f1_offensive", "accuracy"],
    )
    rep.headline(
        "offensive",
        "macro-F1",
        rows["hubbub classify (LR, language detected)"],
        "macro_f1",
        "TweetEval offensive val through hubbub classify",
        "majority",
        rows["majority class (not offensive)"]["macro_f1"],
    )


def eval_complaint_cv(root: Path, rep: Report, folds: int = 10) -> None:
    """The intent output's complaint decision: 10-fold CV of the whole training
    procedure (head, calibration, threshold chosen inside each fold's training part)
    on all 2,402 complaint texts, and the shipped model through ``hubbub classify``
    on the 20% held out of its training and of every choice."""
    texts, labels, _ = datasets.complaints(root)
    y = np.asarray(labels)
    rows: dict[str, dict[str, float]] = {}
    systems: dict[str, Sequence[str]] = {}
    try:
        from hubbub.classify import train
    except ImportError:
        train = None  # type: ignore[assignment]
        rep.note(
            "\nComplaint cross-validation skipped: needs scikit-learn (pip install -e '.[train]')."
        )
    if train is not None:
        from hubbub.classify.linear import load_models, ovr_proba

        models = load_models()
        cols = [models.column(f"sentiment_{s}") for s in ("negative", "neutral", "positive")]

        def sentiment(batch: list[str]) -> tuple[object, np.ndarray]:
            x = train.matrix(batch, models.idf, models.lexicon)
            z = np.asarray(x @ models.weights[:, cols]) + models.bias[cols]
            return x, ovr_proba(z)

        def design(batch: list[str]):  # noqa: ANN202 - a scipy matrix
            return train.complaint_design(*sentiment(batch))

        olid, _ = datasets.tweeteval(root, "offensive", "train")
        labelled, labels = datasets.labelled_general_complaints(root)
        general = train.GeneralPosts.of(design(olid), design(labelled), np.asarray(labels))
        x, sentiment_probs = sentiment(texts)
        probability, threshold = train.cross_validate_complaint_probability(
            train.complaint_design(x, sentiment_probs), y, general, folds
        )
        intents = _intents_by_fold(texts, probability, threshold, sentiment_probs)
        systems[f"{folds}-fold CV, all {len(y)} texts (intent == complaint)"] = [
            str(int(intent == "complaint")) for intent in intents
        ]
        _, held_out = datasets.complaint_split(y)
        shipped = classify_via_cli([texts[i] for i in held_out])
        gold_h = [str(y[i]) for i in held_out]
        pred_h = [str(int(o["intent"] == "complaint")) for o in shipped]
        rows.update(
            _binary_rows(
                gold_h,
                {
                    f"hubbub classify on the held-out {len(held_out)} (intent == complaint)": pred_h,
                    "majority class on the held-out part": ["0"] * len(gold_h),
                },
                ("0", "1"),
                "f1_complaint",
            )
        )
    systems["majority class (not complaint), all texts"] = ["0"] * len(y)
    rows = {
        **_binary_rows([str(v) for v in y], systems, ("0", "1"), "f1_complaint"),
        **rows,
    }
    rep.table(
        f"Complaint (intent) — complaints/train.csv (n={len(y)})",
        rows,
        ["macro_f1", "f1_complaint", "precision", "recall", "accuracy"],
    )
    cv_name = next((k for k in rows if k.startswith(f"{folds}-fold")), None)
    if cv_name is not None:
        rep.headline(
            "intent",
            "complaint macro-F1",
            rows[cv_name],
            "macro_f1",
            f"{folds}-fold CV of the intent output, complaint data",
            "majority",
            rows["majority class (not complaint), all texts"]["macro_f1"],
        )


def _intents_by_fold(
    texts: list[str], probability: np.ndarray, threshold: np.ndarray, sentiment: np.ndarray
) -> list[str]:
    """The intent output for cross-validated texts: the same rules `hubbub classify`
    applies (api._intents), each text with the threshold of the fold model that scored
    it, so the figure is the intent output's and not the complaint model's alone."""
    from hubbub.classify import rules
    from hubbub.classify.api import _intents

    out = [""] * len(texts)
    for value in np.unique(threshold):
        members = np.flatnonzero(threshold == value).tolist()
        decided = _intents(
            [rules.prepare(texts[i]) for i in members],
            probability[members].tolist(),
            sentiment[members].tolist(),
            float(value),
        )
        for i, intent in zip(members, decided, strict=True):
            out[i] = intent
    return out


def load_hand_labels() -> list[dict[str, str]]:
    ref = resources.files("hubbub.classify") / "eval" / "intent_labels.csv"
    # Text over the binary handle: Traversable.open's typed signature has no newline=.
    with io.TextIOWrapper(ref.open("rb"), encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def labelled_posts(root: Path) -> list[tuple[dict[str, str], PayloadPost]]:
    """Hand labels joined to their posts; raises KeyError naming any label with no post."""
    posts = {(p.file, p.post_id): p for p in iter_payload_posts(root)}
    return [(row, posts[(row["file"], row["post_id"])]) for row in load_hand_labels()]


def eval_hand_labels(root: Path, rep: Report) -> None:
    pairs = labelled_posts(root)
    texts = [p.text for _, p in pairs]
    # Through hubbub classify, with each post's language from its payload as users pass it.
    results = classify_via_cli(texts, [p.lang for _, p in pairs])
    gold = [row["intent"] for row, _ in pairs]
    pred = [str(r["intent"]) for r in results]
    counts = {lab: gold.count(lab) for lab in INTENTS}
    rep.note(
        f"\nHand labels: {len(pairs)} posts; " + ", ".join(f"{k} {v}" for k, v in counts.items())
    )
    rows = {
        "hubbub": summary(gold, pred, INTENTS),
        "majority class (other)": summary(gold, ["other"] * len(gold), INTENTS),
    }
    rep.table(
        "Intent — hand-labelled payload posts (macro over classes present)",
        rows,
        ["macro_f1", "macro_recall", "accuracy"],
    )
    pc = per_class(gold, pred, INTENTS)
    rep.table(
        "Intent per class — hubbub",
        {k: v for k, v in pc.items()},
        ["precision", "recall", "f1", "support"],
    )
    unsupported = sum(1 for p in pred if p == "unsupported")
    if unsupported:
        rep.note(f"{unsupported} labelled posts were judged non-English and got 'unsupported'.")

    y_spam = [int(row["spam"]) for row, _ in pairs]
    s_spam = [float(r["spam"]) for r in results]  # type: ignore[arg-type]
    gold_s = [str(v) for v in y_spam]
    rows = {}
    for name, p in (
        ("hubbub (spam ≥ 0.5)", [str(int(s >= 0.5)) for s in s_spam]),
        ("majority class (not spam)", ["0"] * len(y_spam)),
    ):
        s = per_class(gold_s, p, ("0", "1"))["1"]
        s["accuracy"] = summary(gold_s, p, ("0", "1"))["accuracy"]
        rows[name] = s
    rows["hubbub (spam ≥ 0.5)"]["auc"] = auc(y_spam, s_spam)
    rows["majority class (not spam)"]["auc"] = 0.5
    rep.table(
        f"Spam — hand-labelled payload posts ({sum(y_spam)} spam)",
        rows,
        ["precision", "recall", "f1", "auc", "accuracy"],
    )
    rep.headline(
        "spam",
        "F1",
        rows["hubbub (spam ≥ 0.5)"],
        "f1",
        f"{len(pairs)} hand-labelled posts through hubbub classify",
        "majority",
        rows["majority class (not spam)"]["f1"],
    )


def eval_language(root: Path, rep: Report) -> None:
    from hubbub.classify import language

    posts = [p for p in iter_payload_posts(root) if language.normalise_lang(p.lang)]
    first: dict[str, PayloadPost] = {}  # each text once, its first post, in order
    for p in posts:
        first.setdefault(p.text, p)
    unique = list(first.values())
    detected = [language.detect(p.text) for p in unique]
    given = [language.normalise_lang(p.lang) for p in unique]
    agree = float(np.mean([d == g for d, g in zip(detected, given, strict=True)]))
    en_given = [d == "en" for d, g in zip(detected, given, strict=True) if g == "en"]
    rep.note(
        f"\n## Language detection (English fast path, then py3langid) vs the network's own field\n\n"
        f"{len(unique)} distinct payload posts with a language field: agreement {agree:.3f}; "
        f"posts the network calls English detected as English: {np.mean(en_given):.3f} (n={len(en_given)})."
    )


def eval_speed(root: Path, rep: Report, runs: int = 3, n_texts: int = 60_000) -> None:
    """``hubbub classify`` as a whole process against VADER as a whole process, same
    60,000 texts, alternating runs (see bench/classify.py)."""
    if _vader() is None:
        rep.note("\nSpeed skipped: VADER is not installed (pip install -e '.[train]').")
        return
    texts, _ = datasets.semeval_sentiment(root)
    for task in ("offensive", "emotion"):
        more, _ = datasets.tweeteval(root, task, "train")
        texts += more
    texts = texts[:n_texts]
    measured = whole_process_speed(texts, runs)
    rows = {
        f"run {i} (load {r.load:.1f})": {
            "hubbub_texts_per_s": len(texts) / r.hubbub_seconds,
            "vader_texts_per_s": len(texts) / r.vader_seconds,
            "ratio": r.ratio,
        }
        for i, r in enumerate(measured, start=1)
    }
    rep.table(
        f"Speed — hubbub classify vs VADER, whole processes, {len(texts)} texts",
        rows,
        ["hubbub_texts_per_s", "vader_texts_per_s", "ratio"],
    )
    ratios = [r.ratio for r in measured]
    rep.speed = (min(ratios), max(ratios))
    rep.note(f"Ratio range: {min(ratios):.2f}–{max(ratios):.2f} over {len(measured)} runs.")


def run(root: Path | None = None, cv: bool = True, speed_runs: int = 3) -> Report:
    root = root or datasets.data_dir()
    rep = Report()
    eval_sentiment(root, rep)
    if cv:
        eval_complaint_cv(root, rep)
    eval_offensive(root, rep)
    eval_hand_labels(root, rep)
    eval_language(root, rep)
    if speed_runs:
        eval_speed(root, rep, speed_runs)
    return rep


def write_accuracy(rep: Report, path: Path) -> None:
    """The headline figures of this run as the package's accuracy.json."""
    data: dict[str, object] = {
        "measured": time.strftime("%Y-%m-%d"),
        "languages": sorted(SUPPORTED_LANGS),
        **rep.headlines,
    }
    if rep.speed is not None:
        data["speed_vs_vader"] = [round(rep.speed[0], 2), round(rep.speed[1], 2)]
    elif path.exists():
        # A run without speed runs (--speed-runs 0, e.g. after retraining weights only,
        # which leaves the per-text cost as it was) keeps the last measured figure.
        previous = json.loads(path.read_text(encoding="utf-8"))
        if "speed_vs_vader" in previous:
            data["speed_vs_vader"] = previous["speed_vs_vader"]
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Evaluate the classifiers against baselines.")
    parser.add_argument("--data", type=Path, default=None, help="shared data folder")
    parser.add_argument("--no-cv", action="store_true", help="skip the complaint cross-validation")
    parser.add_argument("--speed-runs", type=int, default=3, help="0 skips the speed runs")
    parser.add_argument(
        "--write-accuracy",
        action="store_true",
        help="write this run's headline figures to the package's models/accuracy.json",
    )
    args = parser.parse_args(argv)
    root = args.data or datasets.data_dir()
    if not root.is_dir():
        raise SystemExit(f"shared data not found at {root} (set HUBBUB_SHARED_DATA)")
    rep = run(root, cv=not args.no_cv, speed_runs=args.speed_runs)
    print("\n".join(rep.lines))
    if args.write_accuracy:
        target = Path(__file__).resolve().parent / "models" / "accuracy.json"
        write_accuracy(rep, target)
        print(f"\nwrote {target}")


if __name__ == "__main__":
    main()
