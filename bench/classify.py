"""Classifier speed as users get it: ``hubbub classify`` on 60,000 texts as a whole
process (start-up, model loading, reading, language detection, JSONL out) against
VADER alone as a whole process on the same file, in the same run.

Texts: the first 60,000 of SemEval 2013-2016 train, TweetEval offensive train and
TweetEval emotion train from ../shared/data (real tweets, one per line). VADER
comes from the optional ``train`` extra; its process reads the file and scores
every line. Runs alternate, so load on a shared machine hits both; each run's
ratio is against the VADER run next to it, and its load average is printed.

    .venv/bin/python bench/classify.py [--runs 3] [--texts 60000]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def corpus(limit: int) -> list[str]:
    from hubbub.classify import datasets

    texts, _ = datasets.semeval_sentiment(SHARED)
    for task in ("offensive", "emotion"):
        more, _ = datasets.tweeteval(SHARED, task, "train")
        texts += more
    return texts[:limit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--texts", type=int, default=60_000)
    args = parser.parse_args()
    if not (SHARED / "semeval_sentiment").is_dir():
        print(f"shared data not found at {SHARED}", file=sys.stderr)
        return 2
    try:
        import vaderSentiment  # noqa: F401
    except ImportError:
        print("VADER is not installed: pip install -e '.[train]'", file=sys.stderr)
        return 2
    from hubbub.classify.process import whole_process_speed

    texts = corpus(args.texts)
    print(f"{len(texts)} texts, whole processes, {args.runs} runs, {os.cpu_count()} CPUs")
    runs = whole_process_speed(texts, args.runs)
    for i, run in enumerate(runs, start=1):
        print(
            f"run {i}: load {run.load:.1f} | VADER {len(texts) / run.vader_seconds:,.0f}/s"
            f" | hubbub classify {len(texts) / run.hubbub_seconds:,.0f}/s | ratio {run.ratio:.2f}"
        )
    ratios = [r.ratio for r in runs]
    print(f"hubbub classify / VADER: {min(ratios):.2f}-{max(ratios):.2f} over {len(runs)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
