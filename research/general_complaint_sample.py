"""Choose the SemEval train tweets that were labelled complaint or not by hand
(``src/hubbub/classify/labelled/semeval_complaints.tsv``; docs/classifiers.md,
"Hand-labelled general tweets"). Each round's rule was fixed before any of its
labelling:

- distinct texts (case and spacing folded), four words or more, no retweets,
  none labelled in an earlier round;
- round 1: the 900 the shipped complaint model of 2026-12-01 (commit 707a6ce)
  scored highest, i.e. the hard cases, and 900 drawn at random from the rest;
  shuffled and cut into three files of 600;
- round 2: the 1,200 the shipped model of commit a3058ff (trained on round 1)
  scored highest, and 600 at random from the rest; shuffled and cut into four
  files of 450. The hard cases are where the model still errs: angry posts
  about politics and media, which the payload posts showed it calls complaints.

Each file holds ``row, sha, text`` lines, one file per labeller. Re-running a
round with later models picks different tweets; the labels file, not this
script, is what training reads.

    python research/general_complaint_sample.py ROUND OUT_DIR
"""

from __future__ import annotations

import hashlib
import random
import sys
from pathlib import Path

import numpy as np

from hubbub.classify import datasets
from hubbub.classify.linear import load_models, score_texts

# round: (hard, random, parts, seed)
ROUNDS = {1: (900, 900, 3, 20261201), 2: (1200, 600, 4, 20261202)}


def _labelled_rows() -> set[int]:
    with datasets.LABELLED_GENERAL.open(encoding="utf-8") as fh:
        return {int(line.split("\t")[0]) for n, line in enumerate(fh) if n and line.strip()}


def main(round_no: int, out: Path) -> None:
    hard_n, random_n, parts, seed = ROUNDS[round_no]
    texts, _ = datasets.semeval_sentiment(datasets.data_dir())
    done = _labelled_rows() if round_no > 1 else set()
    seen: set[str] = set()
    candidates: list[int] = []
    for i, text in enumerate(texts):
        key = " ".join(text.lower().split())
        if key in seen or text.startswith("RT @") or len(text.split()) < 4:
            continue
        seen.add(key)
        if i not in done:
            candidates.append(i)
    scores = score_texts([texts[i] for i in candidates], load_models()).complaint
    order = np.argsort(-scores)
    hard = [candidates[j] for j in order[:hard_n]]
    rest = [candidates[j] for j in order[hard_n:]]
    rng = random.Random(seed)
    chosen = hard + rng.sample(rest, random_n)
    rng.shuffle(chosen)
    size = len(chosen) // parts
    for part in range(parts):
        with (out / f"part{part}.tsv").open("w", encoding="utf-8") as fh:
            for i in chosen[part * size : (part + 1) * size]:
                sha = hashlib.sha1(texts[i].encode(), usedforsecurity=False).hexdigest()[:8]
                fh.write(f"{i}\t{sha}\t{' '.join(texts[i].split())}\n")


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
