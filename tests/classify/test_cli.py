"""The `hubbub classify` contract: one JSON object per input line, in order, errors in place."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
from click.testing import CliRunner

from hubbub.cli.classify import classify

REPO = Path(__file__).resolve().parents[2]
KEYS = {"sentiment", "sentiment_score", "intent", "spam", "offensive", "lang"}


def _run(args: list[str], stdin: str, exit_code: int = 0) -> list[dict]:
    result = CliRunner().invoke(classify, args, input=stdin)
    assert result.exit_code == exit_code, result.output
    return [orjson.loads(line) for line in result.stdout.splitlines()]


def test_text_mode_one_object_per_line_blank_line_is_a_text() -> None:
    out = _run(
        ["-"], "I love this phone, best purchase ever\n\nmy order never arrived, worst service\n"
    )
    assert len(out) == 3
    assert all(set(o) == KEYS for o in out)
    assert out[0]["sentiment"] == "positive"
    assert out[2]["sentiment"] == "negative"
    assert out[1]["lang"] == "und"  # an empty text has no language, but still gets a row


def test_jsonl_keeps_ids_order_and_errors_in_place() -> None:
    lines = [
        '{"id": "a1", "text": "Thank you so much, the support team was brilliant!"}',
        "{not json",
        "",
        '{"id": 7, "lang": "en-US", "text": "Can anyone recommend a good laptop for video editing?"}',
        '{"id": "x", "body": "no text key"}',
        '["a list"]',
        '{"id": "pl", "lang": "pl", "text": "Bardzo dziękuję za szybką pomoc!"}',
    ]
    # Lines that could not be classified make the exit status 1 (see test_exit_status.py).
    out = _run(["--format", "jsonl", "-"], "\n".join(lines) + "\n", exit_code=1)
    assert [o.get("id") for o in out] == ["a1", None, 7, None, None, "pl"]
    assert out[1]["line"] == 2 and "error" in out[1]
    assert out[3]["line"] == 5 and "text" in out[3]["error"]
    assert out[4]["line"] == 6
    assert set(out[0]) == KEYS | {"id"}
    assert out[2]["lang"] == "en"
    assert out[5]["sentiment"] == "unsupported" and out[5]["intent"] == "unsupported"
    assert out[5]["lang"] == "pl"


def test_file_argument_and_batches_longer_than_one_batch(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_text(
        "".join(f"post number {i}, great stuff\n" for i in range(1100)), encoding="utf-8"
    )
    out = _run([str(path)], "")
    assert len(out) == 1100
    assert all(set(o) == KEYS for o in out)


def test_installed_entry_point_as_a_subprocess() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from hubbub.cli import main; main()",
            "classify",
            "--format",
            "jsonl",
            "-",
        ],
        input='{"id": 1, "text": "worst airline ever, lost my bag again"}\nbroken\n',
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr  # line 2 could not be classified
    out = [orjson.loads(line) for line in proc.stdout.splitlines()]
    assert out[0]["id"] == 1 and out[0]["sentiment"] == "negative"
    assert out[1] == {"error": out[1]["error"], "line": 2}


def test_a_gzip_input_cut_short_keeps_its_rows_and_says_so(tmp_path: Path) -> None:
    """Click took gzip's EOFError for Ctrl-C: the command said "Aborted!" and
    nothing else. It now reads input as `hubbub import` does (formats.sniff)."""
    import gzip

    lines = "".join(f"thank you, great service {i}\n" for i in range(3000)).encode()
    cut = tmp_path / "cut.txt.gz"
    cut.write_bytes(gzip.compress(lines)[:3000])
    done = subprocess.run(
        [sys.executable, "-m", "hubbub.cli", "classify", str(cut)],
        capture_output=True,
        timeout=120,
    )
    rows = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 1 and len(rows) > 100
    assert done.stderr.decode() == (
        f"Error: {cut}: the gzip data is cut short here: the lines before it were read\n"
    )
