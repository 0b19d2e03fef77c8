"""Run ``hubbub classify`` as users do (a separate process) for the evaluation and the
speed benchmark, and VADER alone as a whole process for the speed baseline.

Evaluation and benchmark only (``evaluate.py``, ``bench/classify.py``); nothing at
run time imports this.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

_VADER = """
import sys
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
analyzer = SentimentIntensityAnalyzer()
with open(sys.argv[1], encoding="utf-8") as fh:
    for line in fh:
        analyzer.polarity_scores(line.rstrip("\\n"))
"""


def hubbub_command() -> list[str]:
    """The installed ``hubbub`` script beside this interpreter, else ``python -m hubbub.cli``."""
    script = Path(sys.executable).with_name("hubbub")
    return [str(script)] if script.exists() else [sys.executable, "-m", "hubbub.cli"]


def one_line(text: str) -> str:
    """A text as one input line (``hubbub classify`` reads one text per line)."""
    return " ".join(text.split())


def classify_via_cli(
    texts: Sequence[str], langs: Sequence[str | None] | None = None, extra: Sequence[str] = ()
) -> list[dict[str, object]]:
    """What ``hubbub classify --format jsonl`` answers for each text (language from
    the payload field ``lang`` when given, detected otherwise)."""
    lines = []
    for i, text in enumerate(texts):
        obj: dict[str, object] = {"id": i, "text": text}
        if langs is not None and langs[i]:
            obj["lang"] = langs[i]
        lines.append(orjson.dumps(obj))
    done = subprocess.run(
        [*hubbub_command(), "classify", "--format", "jsonl", *extra, "-"],
        input=b"\n".join(lines) + b"\n",
        capture_output=True,
        check=True,
    )
    out = [orjson.loads(line) for line in done.stdout.splitlines()]
    if len(out) != len(texts) or any("error" in o for o in out):
        raise RuntimeError("hubbub classify did not answer every text")
    return out


@dataclass(frozen=True, slots=True)
class SpeedRun:
    load: float  # 1-minute load average when the run started
    vader_seconds: float
    hubbub_seconds: float
    # CPU seconds (user + system, the process and its children): what each run
    # cost the machine, which moves less with other people's load than the wall time.
    vader_cpu: float = 0.0
    hubbub_cpu: float = 0.0

    @property
    def ratio(self) -> float:
        """hubbub's speed as a multiple of VADER's (> 1: faster)."""
        return self.vader_seconds / self.hubbub_seconds


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one whole process and the processes it waited for."""
    cpu = _children_cpu()
    began = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began, _children_cpu() - cpu


def whole_process_speed(
    texts: Sequence[str],
    runs: int,
    on_run: Callable[[SpeedRun], None] | None = None,
    extra: Sequence[str] = (),
) -> list[SpeedRun]:
    """Alternating whole-process runs of VADER and ``hubbub classify [extra]`` on one
    file (``on_run`` hears each run as it ends)."""
    out: list[SpeedRun] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "texts.txt"
        path.write_text("\n".join(one_line(t) for t in texts) + "\n", encoding="utf-8")
        for _ in range(runs):
            load = os.getloadavg()[0]
            vader, vader_cpu = _timed([sys.executable, "-c", _VADER, str(path)])
            hubbub, hubbub_cpu = _timed([*hubbub_command(), "classify", *extra, str(path)])
            out.append(SpeedRun(load, vader, hubbub, vader_cpu, hubbub_cpu))
            if on_run is not None:
                on_run(out[-1])
    return out
