"""Readers for the shared labelled data (training and evaluation only).

The data lives outside the repository (``../shared/data``, or wherever
``HUBBUB_SHARED_DATA`` points); nothing here is needed at run time.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

SENTIMENT_INDEX = {"negative": 0, "neutral": 1, "positive": 2}
# Share of the complaint data held out of every training run and choice.
COMPLAINT_HOLDOUT = 0.2
_SPLIT_SEED = 0


def data_dir() -> Path:
    env = os.environ.get("HUBBUB_SHARED_DATA")
    if env:
        return Path(env)
    # src/hubbub/classify/datasets.py → the repository root is three levels above src/.
    return Path(__file__).resolve().parents[3].parent / "shared" / "data"


def semeval_sentiment(root: Path) -> tuple[list[str], list[int]]:
    texts: list[str] = []
    labels: list[int] = []
    with (root / "semeval_sentiment" / "train.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            texts.append(row["text"])
            labels.append(SENTIMENT_INDEX[row["label"]])
    return texts, labels


def tweeteval(root: Path, task: str, split: str) -> tuple[list[str], list[int]]:
    folder = root / "tweeteval" / task
    # One text per line; split on "\n" only, because tweets may hold other line separators.
    texts = (folder / f"{split}_text.txt").read_text(encoding="utf-8").split("\n")
    labels = [int(x) for x in (folder / f"{split}_labels.txt").read_text().split()]
    return texts[: len(labels)], labels


def complaints(root: Path) -> tuple[list[str], list[int], list[str]]:
    texts: list[str] = []
    labels: list[int] = []
    domains: list[str] = []
    with (root / "complaints" / "train.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            texts.append(row["text"])
            labels.append(int(row["label"]))
            domains.append(row["domain"])
    return texts, labels, domains


def complaint_split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held-out) indexes of the complaint data: a fixed stratified 20% that no
    training run or choice sees; the evaluation measures the shipped model on it.
    numpy only, so the tests can find the held-out part without scikit-learn."""
    labels = np.asarray(labels)
    rng = np.random.RandomState(_SPLIT_SEED)
    held: list[np.ndarray] = []
    for value in np.unique(labels):
        members = np.flatnonzero(labels == value)
        held.append(rng.permutation(members)[: round(len(members) * COMPLAINT_HOLDOUT)])
    held_out = np.sort(np.concatenate(held))
    kept = np.setdiff1d(np.arange(len(labels)), held_out)
    return kept, held_out
