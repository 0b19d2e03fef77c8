"""Choose the SemEval train tweets that were labelled complaint or not by hand
(``src/hubbub/classify/labelled/semeval_complaints.tsv``; docs/classifiers.md,
"Hand-labelled general tweets"). The rule was fixed before any labelling:

- distinct texts (case and spacing folded), four words or more, no retweets;
- the 900 the shipped complaint model of 2026-12-01 (commit 707a6ce) scored
  highest, i.e. the hard cases, and 900 drawn at random from the rest;
- shuffled and cut into three files of 600 (``row, sha, text``), one per labeller.

Re-running it with later models picks a different top 900; the labels file, not
this script, is what training reads.

    python research/general_complaint_sample.py OUT_DIR
"""

from __future__ import annotations

import hashlib
import random
import sys
from pathlib import Path

import numpy as np

from hubbub.classify import datasets
from hubbub.classify.linear import load_models, score_texts

HARD = 900
RANDOM = 900
PARTS = 3
SEED = 20261201


def main(out: Path) -> None:
    texts, _ = datasets.semeval_sentiment(datasets.data_dir())
    seen: set[str] = set()
    candidates: list[int] = []
    for i, text in enumerate(texts):
        key = " ".join(text.lower().split())
        if key in seen or text.startswith("RT @") or len(text.split()) < 4:
            continue
        seen.add(key)
        candidates.append(i)
    scores = score_texts([texts[i] for i in candidates], load_models()).complaint
    order = np.argsort(-scores)
    hard = [candidates[j] for j in order[:HARD]]
    rest = [candidates[j] for j in order[HARD:]]
    rng = random.Random(SEED)
    chosen = hard + rng.sample(rest, RANDOM)
    rng.shuffle(chosen)
    size = len(chosen) // PARTS
    for part in range(PARTS):
        with (out / f"part{part}.tsv").open("w", encoding="utf-8") as fh:
            for i in chosen[part * size : (part + 1) * size]:
                sha = hashlib.sha1(texts[i].encode(), usedforsecurity=False).hexdigest()[:8]
                fh.write(f"{i}\t{sha}\t{' '.join(texts[i].split())}\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
