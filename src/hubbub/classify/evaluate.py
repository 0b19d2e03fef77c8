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
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from hubbub.classify import datasets
from hubbub.classify.api import classify_texts
from hubbub.classify.eval.payload_posts import PayloadPost, iter_payload_posts

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
    # TweetEval is English; the language is given so detection errors do not blur this score.
    ours = [c.sentiment for c in classify_texts(texts, ["en"] * len(texts))]
    rows = {"hubbub (hashed n-grams + lexicon, LR)": summary(gold, ours, names)}
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
        row[f1_key] = per_class(gold, pred, labels)[labels[1]]["f1"]
        rows[name] = row
    return rows


def eval_offensive(root: Path, rep: Report) -> None:
    texts, labels = datasets.tweeteval(root, "offensive", "val")
    gold = ["offensive" if x else "not" for x in labels]
    ours = [
        "offensive" if c.offensive else "not" for c in classify_texts(texts, ["en"] * len(texts))
    ]
    rows = _binary_rows(
        gold,
        {"hubbub (LR)": ours, "majority class (not offensive)": ["not"] * len(gold)},
        ("not", "offensive"),
        "f1_offensive",
    )
    rep.table(
        f"Offensive — TweetEval offensive val (n={len(texts)})",
        rows,
        ["macro_f1", "f1_offensive", "accuracy"],
    )


def eval_complaint_cv(root: Path, rep: Report, folds: int = 10) -> None:
    try:
        from hubbub.classify import train
    except ImportError:
        rep.note(
            "\nComplaint cross-validation skipped: needs scikit-learn (pip install -e '.[train]')."
        )
        return
    from sklearn.model_selection import StratifiedKFold

    from hubbub.classify.linear import load_models, ovr_proba

    texts, labels, _ = datasets.complaints(root)
    y = np.asarray(labels)
    models = load_models()
    # The C that train.py picked by 5-fold CV on these same texts (so this CV is a
    # little optimistic; the choice is among four values).
    with (resources.files("hubbub.classify") / "models" / "linear.npz").open("rb") as fh:
        complaint_c = float(np.load(fh)["complaint_c"])
    x = train.matrix(texts, models.idf, models.lexicon)
    # Stacked sentiment probabilities come from the shipped sentiment head, trained on
    # SemEval only, so no complaint label leaks into them.
    cols = [models.column(f"sentiment_{s}") for s in ("negative", "neutral", "positive")]
    z = np.asarray(x @ models.weights[:, cols]) + models.bias[cols]
    design = train.complaint_design(x, ovr_proba(z))
    pred = np.zeros_like(y)
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=train.SEED).split(design, y):
        pred[te] = train.fit_complaint(design[tr], y[tr], complaint_c).predict(design[te])
    rows = _binary_rows(
        [str(v) for v in y],
        {
            "hubbub (LR + stacked sentiment)": [str(v) for v in pred],
            "majority class (not complaint)": ["0"] * len(y),
        },
        ("0", "1"),
        "f1_complaint",
    )
    rep.table(
        f"Complaint — {folds}-fold CV on complaints/train.csv (n={len(y)})",
        rows,
        ["macro_f1", "f1_complaint", "accuracy"],
    )


def load_hand_labels() -> list[dict[str, str]]:
    ref = resources.files("hubbub.classify") / "eval" / "intent_labels.csv"
    with ref.open("r", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def labelled_posts(root: Path) -> list[tuple[dict[str, str], PayloadPost]]:
    """Hand labels joined to their posts; raises KeyError naming any label with no post."""
    posts = {(p.file, p.post_id): p for p in iter_payload_posts(root)}
    return [(row, posts[(row["file"], row["post_id"])]) for row in load_hand_labels()]


def eval_hand_labels(root: Path, rep: Report) -> None:
    pairs = labelled_posts(root)
    texts = [p.text for _, p in pairs]
    results = classify_texts(texts, [p.lang for _, p in pairs])
    gold = [row["intent"] for row, _ in pairs]
    pred = [r.intent for r in results]
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
    s_spam = [r.spam for r in results]
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


def eval_language(root: Path, rep: Report) -> None:
    from hubbub.classify import language

    posts = [p for p in iter_payload_posts(root) if language.normalise_lang(p.lang)]
    seen: set[str] = set()
    unique = [p for p in posts if not (p.text in seen or seen.add(p.text))]
    detected = [language.detect(p.text) for p in unique]
    given = [language.normalise_lang(p.lang) for p in unique]
    agree = float(np.mean([d == g for d, g in zip(detected, given, strict=True)]))
    en_given = [d == "en" for d, g in zip(detected, given, strict=True) if g == "en"]
    rep.note(
        f"\n## Language detection (English fast path, then py3langid) vs the network's own field\n\n"
        f"{len(unique)} distinct payload posts with a language field: agreement {agree:.3f}; "
        f"posts the network calls English detected as English: {np.mean(en_given):.3f} (n={len(en_given)})."
    )


def eval_speed(root: Path, rep: Report, repeat: int = 5) -> None:
    texts, _ = datasets.tweeteval(root, "sentiment", "val")
    batch = texts * repeat
    # Load the models and py3langid's (a text the English fast path leaves to it)
    # outside the clock: a service loads them once.
    classify_texts(batch[:10], ["en"] * 10)
    classify_texts(["Dzień dobry, dziękuję bardzo za pomoc"])
    rows: dict[str, dict[str, float]] = {}
    for name, langs in (
        ("hubbub, language given", ["en"] * len(batch)),
        ("hubbub, language detected", None),
    ):
        t = time.perf_counter()
        for start in range(0, len(batch), 512):
            classify_texts(
                batch[start : start + 512], langs[start : start + 512] if langs else None
            )
        rows[name] = {"texts_per_s": len(batch) / (time.perf_counter() - t)}
    vader = _vader()
    if vader is not None:
        t = time.perf_counter()
        for text in batch:
            vader(text)
        rows["VADER alone"] = {"texts_per_s": len(batch) / (time.perf_counter() - t)}
    rep.table(f"Speed — {len(batch)} tweets, one core, batches of 512", rows, ["texts_per_s"])


def run(root: Path | None = None, cv: bool = True) -> Report:
    root = root or datasets.data_dir()
    rep = Report()
    eval_sentiment(root, rep)
    if cv:
        eval_complaint_cv(root, rep)
    eval_offensive(root, rep)
    eval_hand_labels(root, rep)
    eval_language(root, rep)
    eval_speed(root, rep)
    return rep


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Evaluate the classifiers against baselines.")
    parser.add_argument("--data", type=Path, default=None, help="shared data folder")
    parser.add_argument("--no-cv", action="store_true", help="skip the complaint cross-validation")
    args = parser.parse_args(argv)
    root = args.data or datasets.data_dir()
    if not root.is_dir():
        raise SystemExit(f"shared data not found at {root} (set HUBBUB_SHARED_DATA)")
    print("\n".join(run(root, cv=not args.no_cv).lines))


if __name__ == "__main__":
    main()
