"""Classifier speed as users get it: ``hubbub classify`` on 60,000 texts as a whole
process (start-up, model loading, reading, language detection, JSONL out) against
VADER alone as a whole process on the same file, in the same run.

Texts: the first 60,000 of SemEval 2013-2016 train, TweetEval offensive train and
TweetEval emotion train from ../shared/data (real tweets, one per line). VADER
comes from the optional ``train`` extra; its process reads the file and scores
every line. Runs alternate, so load on a shared machine hits both; each run's
ratio is against the VADER run next to it, and its load average is printed.

    .venv/bin/python bench/classify.py [--runs 3] [--texts 60000] [--workers N]

Each run also prints both processes' CPU seconds (user + system, workers
included), which other people's load moves less than the wall time.
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
    parser.add_argument(
        "--workers", type=int, default=None, help="passed to hubbub classify (default: its own)"
    )
    args = parser.parse_args()
    if not (SHARED / "semeval_sentiment").is_dir():
        print(f"shared data not found at {SHARED}", file=sys.stderr)
        return 2
    try:
        import vaderSentiment  # noqa: F401
    except ImportError:
        print("VADER is not installed: pip install -e '.[train]'", file=sys.stderr)
        return 2
    from hubbub.classify.process import SpeedRun, whole_process_speed

    texts = corpus(args.texts)
    extra = [] if args.workers is None else ["--workers", str(args.workers)]
    print(
        f"{len(texts)} texts, whole processes, {args.runs} runs, {os.cpu_count()} CPUs,"
        f" hubbub classify {' '.join(extra) or '(default workers)'}"
    )
    print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")

    def show(run: SpeedRun) -> None:
        print(
            f"run: load {run.load:.1f} | VADER {len(texts) / run.vader_seconds:,.0f}/s"
            f" ({run.vader_cpu:.1f} CPU s) | hubbub classify {len(texts) / run.hubbub_seconds:,.0f}/s"
            f" ({run.hubbub_cpu:.1f} CPU s) | ratio {run.ratio:.2f}",
            flush=True,
        )

    runs = whole_process_speed(texts, args.runs, on_run=show, extra=extra)
    ratios = [r.ratio for r in runs]
    print(f"hubbub classify / VADER: {min(ratios):.2f}-{max(ratios):.2f} over {len(runs)} runs")
    cpu = [r.hubbub_cpu / r.vader_cpu for r in runs]
    print(f"CPU seconds, hubbub classify / VADER: {min(cpu):.2f}-{max(cpu):.2f}")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
