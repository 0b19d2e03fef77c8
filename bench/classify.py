"""Classifier speed: the full set (sentiment, intent, spam, offensive, language)
against VADER alone, on the same texts, in one run.

Texts: TweetEval sentiment ``val`` from ../shared/data (2,000 real tweets),
repeated. VADER comes from the optional ``train`` extra
(``pip install -e '.[train]'``); without it the script says so and stops.
Models are loaded before the clock starts (a service loads them once).

    .venv/bin/python bench/classify.py [--repeat 5] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
BATCH = 512


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="times the 2,000 texts are repeated")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not (SHARED / "tweeteval").is_dir():
        print(f"shared data not found at {SHARED}", file=sys.stderr)
        return 2
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        print("VADER is not installed: pip install -e '.[train]'", file=sys.stderr)
        return 2
    from hubbub.classify import classify_texts
    from hubbub.classify.datasets import tweeteval

    texts, _ = tweeteval(SHARED, "sentiment", "val")
    batch = texts * args.repeat
    vader = SentimentIntensityAnalyzer()
    classify_texts(batch[:10], ["en"] * 10)  # load the models outside the clock
    classify_texts(["Dzień dobry, dziękuję bardzo za pomoc"])  # and the language model

    def full(langs: list[str] | None) -> float:
        began = time.perf_counter()
        for start in range(0, len(batch), BATCH):
            classify_texts(
                batch[start : start + BATCH], langs[start : start + BATCH] if langs else None
            )
        return len(batch) / (time.perf_counter() - began)

    def vader_only() -> float:
        began = time.perf_counter()
        for text in batch:
            vader.polarity_scores(text)
        return len(batch) / (time.perf_counter() - began)

    given, detected, base = [], [], []
    for _ in range(args.runs):
        base.append(vader_only())
        given.append(full(["en"] * len(batch)))
        detected.append(full(None))
    vader_rate = statistics.median(base)
    print(f"{len(batch)} tweets, one core, batches of {BATCH}; median of {args.runs} runs")
    print(f"VADER alone (sentiment only):            {vader_rate:,.0f} texts/s")
    for name, rates in (("language given by the network", given), ("language detected", detected)):
        rate = statistics.median(rates)
        print(f"full set, {name + ':':31s} {rate:,.0f} texts/s  ratio {rate / vader_rate:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
