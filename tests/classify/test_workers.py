"""`hubbub classify` on several processes answers byte for byte as on one, in input order,
and the batched rule scans count exactly what one scan per text counts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from hubbub.classify import rules
from hubbub.classify.workers import CHUNK
from tests.processes import children_of, running

REPO = Path(__file__).resolve().parents[2]
POSTS = [
    "my order never arrived, worst service ever @acme",
    "Can anyone recommend a good laptop for video editing?",
    "Thank you so much, the support team was brilliant!",
    "GIVEAWAY!!! dm me for free crypto https://t.co/x #win #nft #btc #eth",
    "Bardzo dziękuję za szybką pomoc!",
    "hello",
    "",
]


def _input_lines(n: int) -> list[bytes]:
    """JSONL with ids, given languages, broken lines and blank lines spread over chunks."""
    lines: list[bytes] = []
    for i in range(n):
        if i % 97 == 5:
            lines.append(b"{not json")
        elif i % 131 == 7:
            lines.append(b"")
        elif i % 151 == 9:
            lines.append(orjson.dumps({"id": i, "body": "no text"}))
        else:
            obj: dict[str, object] = {"id": i, "text": f"{POSTS[i % len(POSTS)]} {i}"}
            if i % 5 == 0:
                obj["lang"] = "pl" if i % 2 else "en"
            lines.append(orjson.dumps(obj))
    return lines


def _classify(args: list[str], stdin: bytes, exit_code: int = 0) -> bytes:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, "-c", "from hubbub.launch import run; run()", "classify", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == exit_code, done.stderr
    return done.stdout


def test_workers_answer_as_one_process_in_input_order_from_a_pipe() -> None:
    lines = _input_lines(3 * CHUNK + 123)  # more than two chunks: the workers start
    stdin = b"\n".join(lines) + b"\n"
    # Exit 1: the broken lines could not be classified.
    one = _classify(["--format", "jsonl", "--workers", "1", "-"], stdin, exit_code=1)
    two = _classify(["--format", "jsonl", "--workers", "2", "-"], stdin, exit_code=1)
    assert two == one
    out = [orjson.loads(line) for line in two.splitlines()]
    blank = sum(1 for line in lines if not line)
    assert len(out) == len(lines) - blank
    errors = [o for o in out if "error" in o]
    # Error objects name their line in the whole input, not in a chunk.
    assert [e["line"] for e in errors] == [
        i + 1 for i, line in enumerate(lines) if line and (line == b"{not json" or b"body" in line)
    ]
    ids = [o["id"] for o in out if "id" in o]
    assert ids == sorted(ids)


def test_text_mode_from_a_file_with_workers(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_text(
        "".join(f"{POSTS[i % len(POSTS)]} {i}\n" for i in range(2 * CHUNK + 1)), encoding="utf-8"
    )
    one = _classify(["--workers", "1", str(path)], b"")
    two = _classify(["--workers", "2", str(path)], b"")
    assert two == one
    assert len(two.splitlines()) == 2 * CHUNK + 1


def test_batched_scans_count_what_one_scan_per_text_counts() -> None:
    texts = [
        "",
        "crypto",
        "nft crypto nft",
        "bitcoincrypto btc",  # no match inside a word
        "50 % off now",
        "50",
        "% off",  # a match must not join the end of one text to the start of the next
        "starting @ 275 starting@ restarting @ home",
        "\x00crypto\x00 nft\x00",  # the separator inside a text
        "thank you for the great service, you are amazing",
        "looking for a good phone, any recommendations?",
        "best pizza ever",
        "best",
        "ever",
        "ΣΑΣ crypto",
    ]
    prepared = [rules.prepare(t) for t in texts]
    for pattern in (rules._SPAM_WORDS, rules._LEAD, rules._PRAISE):
        assert rules.batch_counts(pattern, [p.body for p in prepared]) == [
            len(pattern.findall(p.body)) for p in prepared
        ]
    assert rules.spam_scores(prepared) == [rules.spam_score(p) for p in prepared]
    assert rules.lead_signals(prepared) == [rules.lead_signal(p) for p in prepared]
    assert rules.praise_signals(prepared) == [rules.praise_signal(p) for p in prepared]


def test_detector_model_read_in_memory_is_py3langids_own() -> None:
    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE
    from py3langid.modelio import load_model

    from hubbub.classify.language import _model_arrays

    ours = _model_arrays(MODEL_DIR / MODEL_FILE)
    theirs = load_model(MODEL_DIR / MODEL_FILE)
    for a, b in zip(ours, theirs, strict=True):
        assert type(a) is type(b)
        assert getattr(a, "typecode", None) == getattr(b, "typecode", None)
        assert getattr(a, "dtype", None) == getattr(b, "dtype", None)
        assert np.array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_stops_the_workers_quietly(tmp_path: Path) -> None:
    """A terminated ``hubbub classify`` used to leave its workers running, each
    printing a BrokenPipeError (found by a newcomer review)."""
    import signal
    import time

    source = tmp_path / "many.txt"
    source.write_bytes(b"\n".join(line for line in _input_lines(40 * CHUNK)) + b"\n")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from hubbub.launch import run; run()", "classify", "--workers", "3"]
        + ["--format", "jsonl", str(source)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    deadline = time.monotonic() + 120
    workers: set[int] = set()
    while time.monotonic() < deadline and len(workers) < 3 and proc.poll() is None:
        workers = children_of(proc.pid)
        time.sleep(0.02)
    assert len(workers) >= 3, "the workers never started"
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert b"Traceback" not in err, err.decode(errors="replace")[-2000:]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(running(w) for w in workers):
        time.sleep(0.1)
    assert not any(running(w) for w in workers), "a worker outlived the command"
