"""Readers for the shared labelled data (training and evaluation only).

The data lives outside the repository (``../shared/data``, or wherever
``HUBBUB_SHARED_DATA`` points); nothing here is needed at run time.
"""

from __future__ import annotations

import csv
import hashlib
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


# Hand labels for SemEval train tweets (row number in train.csv, a hash of the text,
# complaint 0/1): ids only, so no tweet text enters the repository.
LABELLED_GENERAL = Path(__file__).resolve().parent / "labelled" / "semeval_complaints.tsv"


def labelled_general_complaints(
    root: Path, labels_file: Path = LABELLED_GENERAL
) -> tuple[list[str], list[int]]:
    """General tweets labelled complaint or not by hand, with the evaluation set's rules
    (docs/classifiers.md, "Hand-labelled evaluation set"); a training set, never evaluated on.

    Each label names its tweet by row and checks it by the first 8 hex digits of the
    SHA-1 of its text, so a changed data file fails loudly (file and line) instead of
    pairing labels with the wrong tweets."""
    texts, _ = semeval_sentiment(root)
    out_texts: list[str] = []
    out_labels: list[int] = []
    with labels_file.open(encoding="utf-8", newline="") as fh:
        for line_no, line in enumerate(fh, start=1):
            if line_no == 1 or not line.strip():
                continue  # the header
            row, sha, label = line.rstrip("\n").split("\t")
            index = int(row)
            if not 0 <= index < len(texts):
                raise ValueError(f"{labels_file}:{line_no}: row {index} is not in train.csv")
            if hashlib.sha1(texts[index].encode(), usedforsecurity=False).hexdigest()[:8] != sha:
                raise ValueError(f"{labels_file}:{line_no}: row {index}'s text has changed")
            if label not in ("0", "1"):
                raise ValueError(f"{labels_file}:{line_no}: label {label!r} is not 0 or 1")
            out_texts.append(texts[index])
            out_labels.append(int(label))
    return out_texts, out_labels


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
