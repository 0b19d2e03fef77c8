"""Train and measure the bot / fake score (``python -m hubbub.audience.train_bots``).

Needs the optional ``train`` extra (scikit-learn). Reads
``../shared/data/bots/cresci2017_train.csv`` and writes the model the
package ships (``models/bot_model.json``: gradient-boosted trees as plain
arrays, evaluated without scikit-learn) and its measured accuracy
(``models/bot_accuracy.json``), which the command and the pages show.

Measurement, so that no figure is tuned on what it reports:
- 10-fold stratified cross-validation over the whole file; in each fold the
  threshold is chosen on that fold's training part only (inner
  cross-validated predictions), then applied to its held-out tenth;
- the baseline the issue names: logistic regression on five log-scaled
  counts (posts, followers, following, likes, lists), same folds;
- the shipped model: trained on the whole file, threshold chosen by inner
  cross-validation on the whole file;
- every figure is of the score users get: the model combined with the rule
  score (``bot_model.combined``).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from hubbub.audience.bot_model import RULE_FLOOR, red_flags
from hubbub.audience.features import FEATURES, featurise
from hubbub.audience.profile import _x_v1, parse_time

HERE = Path(__file__).parent
MODEL = HERE / "models" / "bot_model.json"
ACCURACY = HERE / "models" / "bot_accuracy.json"
DATA = (
    Path(__file__).resolve().parents[3].parent / "shared" / "data" / "bots" / "cresci2017_train.csv"
)
SEED = 20261130
TREES = 300
DEPTH = 3


def load(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels, the baseline's five counts, and each account's rule score."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    features, labels, baseline, rules = [], [], [], []
    for row in rows:
        profile = _x_v1(row, parse_time(row.get("crawled_at")))
        features.append(featurise(profile))
        rules.append(red_flags(profile)[0])
        labels.append(int(row["label_bot"]))
        baseline.append(
            [
                float(np.log1p(float(row.get(k) or 0)))
                for k in (
                    "statuses_count",
                    "followers_count",
                    "friends_count",
                    "favourites_count",
                    "listed_count",
                )
            ]
        )
    return np.array(features), np.array(labels), np.array(baseline), np.array(rules)


def _model() -> Any:
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(n_estimators=TREES, max_depth=DEPTH, random_state=SEED)


def _best_threshold(y: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    candidates = np.unique(np.round(scores, 3))
    best = max(candidates, key=lambda t: f1_score(y, scores >= t))
    return float(best)


def _inner_threshold(x: np.ndarray, y: np.ndarray) -> float:
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    inner = StratifiedKFold(5, shuffle=True, random_state=SEED)
    scores = cross_val_predict(_model(), x, y, cv=inner, method="predict_proba")[:, 1]
    return _best_threshold(y, scores)


def _combined(model_scores: np.ndarray, rules: np.ndarray) -> np.ndarray:
    return np.maximum(model_scores, np.where(rules >= RULE_FLOOR, rules, 0.0))


def evaluate(x: np.ndarray, y: np.ndarray, base: np.ndarray, rules: np.ndarray) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score, precision_score, recall_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    folds = StratifiedKFold(10, shuffle=True, random_state=SEED)
    ours = np.zeros_like(y)
    baseline = np.zeros_like(y)
    for train, test in folds.split(x, y):
        threshold = _inner_threshold(x[train], y[train])
        model = _model().fit(x[train], y[train])
        scores = _combined(model.predict_proba(x[test])[:, 1], rules[test])
        ours[test] = scores >= threshold
        lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        baseline[test] = lr.fit(base[train], y[train]).predict(base[test])
    return {
        "f1_suspicious": round(float(f1_score(y, ours)), 4),
        "precision_suspicious": round(float(precision_score(y, ours)), 4),
        "recall_suspicious": round(float(recall_score(y, ours)), 4),
        "baseline_f1_suspicious": round(float(f1_score(y, baseline)), 4),
        "rule_flagged_genuine": int(((rules >= RULE_FLOOR) & (y == 0)).sum()),
        "rule_flagged_bots": int(((rules >= RULE_FLOOR) & (y == 1)).sum()),
        "folds": 10,
        "accounts": int(len(y)),
        "bots": int(y.sum()),
    }


def export(model: Any, threshold: float) -> dict[str, Any]:
    trees = []
    for estimator in model.estimators_[:, 0]:
        t = estimator.tree_
        trees.append(
            {
                "feature": t.feature.tolist(),
                "threshold": [round(float(v), 6) for v in t.threshold],
                "left": t.children_left.tolist(),
                "right": t.children_right.tolist(),
                "value": [round(float(v), 6) for v in t.value[:, 0, 0]],
            }
        )
    prior = model.init_.class_prior_[1]
    return {
        "features": list(FEATURES),
        "learning_rate": model.learning_rate,
        "init_logit": float(np.log(prior / (1 - prior))),
        "threshold": threshold,
        "trees": trees,
    }


def main(path: Path = DATA) -> None:
    x, y, base, rules = load(path)
    figures = evaluate(x, y, base, rules)
    threshold = _inner_threshold(x, y)
    model = _model().fit(x, y)
    MODEL.parent.mkdir(parents=True, exist_ok=True)
    MODEL.write_text(json.dumps(export(model, threshold), separators=(",", ":")), encoding="utf-8")
    figures["threshold"] = threshold
    # Probabilities scikit-learn gives for a spread of accounts: the shipped
    # evaluator (bot_model.py) must reproduce them (tests/audience checks).
    rng = np.random.default_rng(SEED)
    sample = rng.choice(len(y), size=12, replace=False)
    figures["checks"] = [
        {"features": [round(float(v), 6) for v in x[i]], "probability": round(float(p), 6)}
        for i, p in zip(sample, model.predict_proba(x[sample])[:, 1], strict=True)
    ]
    ACCURACY.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    json.dump({k: v for k, v in figures.items() if k != "checks"}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)
