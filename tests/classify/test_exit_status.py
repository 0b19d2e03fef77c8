"""``hubbub classify`` ends as ``hubbub import`` does when lines were left
behind: every row written as before, then one line on standard error counting
the lines that could not be classified, and exit status 1. Run as a user runs
it, a real process."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import orjson

from hubbub.classify.workers import CHUNK, classify_chunk

LINES = [
    '{"id": "a1", "text": "Thank you so much, the support team was brilliant!"}',
    "{not json",
    '["a list"]',
    "",
    '{"id": "x", "body": "no text key"}',
    '{"id": 7, "text": "my order never arrived, worst service ever"}',
]


def _classify(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "hubbub.cli", "classify", *args],
        input=stdin,
        capture_output=True,
        timeout=300,
    )


def _rows_as_before(lines: list[str]) -> bytes:
    """What the command wrote before it had an exit status for broken lines."""
    return classify_chunk((1, [line + "\n" for line in lines], "jsonl", "en"))


def test_broken_lines_give_their_rows_one_summary_line_and_exit_1() -> None:
    done = _classify("--format", "jsonl", "-", stdin=("\n".join(LINES) + "\n").encode())
    assert done.stdout == _rows_as_before(LINES)
    rows = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert [r["line"] for r in rows if "error" in r] == [2, 3, 5]
    assert done.stderr.decode() == (
        "standard input: 3 lines could not be classified (lines 2, 3, 5); their rows say why\n"
    )
    assert done.returncode == 1


def test_every_line_classified_is_exit_0_and_silent(tmp_path: Path) -> None:
    good = [LINES[0], "", LINES[5]]
    done = _classify("--format", "jsonl", "-", stdin=("\n".join(good) + "\n").encode())
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout == _rows_as_before(good)
    # Text mode: every line is a text, a JSON-looking one too.
    path = tmp_path / "texts.txt"
    path.write_text("{not json\nhello\n", encoding="utf-8")
    done = _classify(str(path))
    assert (done.returncode, done.stderr, len(done.stdout.splitlines())) == (0, b"", 2)


def test_counted_over_every_worker_chunk_and_named_by_file(tmp_path: Path) -> None:
    lines = [
        "{broken" if i % 100 == 3 else orjson.dumps({"id": i, "text": f"post {i}"}).decode()
        for i in range(3 * CHUNK + 10)  # more than two chunks: worker processes start
    ]
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one = _classify("--format", "jsonl", "--workers", "1", str(path))
    two = _classify("--format", "jsonl", "--workers", "2", str(path))
    assert two.stdout == one.stdout
    broken = [i + 1 for i, line in enumerate(lines) if line == "{broken"]
    assert len(broken) == 31
    for done in (one, two):
        assert done.returncode == 1
        assert done.stderr.decode() == (
            f"{path}: 31 lines could not be classified (lines 4, 104, 204, 304, 404, …); "
            "their rows say why\n"
        )
    errors = [orjson.loads(r) for r in two.stdout.splitlines() if r.startswith(b'{"error"')]
    assert [e["line"] for e in errors] == broken


def test_an_id_that_looks_like_an_error_is_no_error() -> None:
    line = orjson.dumps({"id": {"error": "x", "line": 1}, "text": "all good here"}).decode()
    done = _classify("--format", "jsonl", "-", stdin=(line + "\n").encode())
    assert (done.returncode, done.stderr) == (0, b"")
    assert orjson.loads(done.stdout)["id"] == {"error": "x", "line": 1}


def test_a_cut_input_says_both_what_it_left_and_where_it_was_cut(tmp_path: Path) -> None:
    lines = "".join(
        "{broken\n" if i % 50 == 0 else f'{{"text": "thank you, great service {i}"}}\n'
        for i in range(3000)
    ).encode()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(gzip.compress(lines)[:3000])
    done = _classify("--format", "jsonl", str(cut))
    rows = [orjson.loads(line) for line in done.stdout.splitlines()]
    errors = [r["line"] for r in rows if "error" in r]
    assert done.returncode == 1 and len(rows) > 100 and errors[:2] == [1, 51]
    first = ", ".join(str(n) for n in errors[:5])
    assert done.stderr.decode().splitlines() == [
        f"{cut}: {len(errors)} lines could not be classified (lines {first}, …); "
        "their rows say why",
        f"Error: {cut}: the gzip data is cut short here: the lines before it were read",
    ]
