"""Import's memory does not grow with the file (issue 7, case 9).

twarc2 writes one search page per line, so every real page file starts with a
line far longer than 64 KB; the reader used to take that as a sign of one big
document and read the whole file: 141 MB peak for 15 MB, 396 MB for 60 MB.
Here each import runs as its own process and its peak resident memory is read
from the kernel (``wait4``'s rusage of that child alone).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.cli.twarc2_pages import PageWriter

pytestmark = pytest.mark.slow

MB = 1024 * 1024
BUDGET = 300 * MB
SPREAD = 40 * MB


def _import_peak(db: Path, path: Path, tmp_path: Path) -> tuple[int, dict]:
    """Run ``hubbub import`` on ``path``; its peak RSS in bytes and its report."""
    out_path = tmp_path / f"{path.stem}.out"
    err_path = tmp_path / f"{path.stem}.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "hubbub.cli", "import", "--json", "--db", str(db), str(path)],
            stdout=out,
            stderr=err,
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, err_path.read_text()[-3000:]
    # Linux reports ru_maxrss in kilobytes.
    return usage.ru_maxrss * 1024, orjson.loads(out_path.read_bytes())


def test_peak_memory_is_flat_in_the_file_size(tmp_path: Path) -> None:
    pages = PageWriter()
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    small_posts = pages.write_to_size(small, 15 * MB)
    large_posts = pages.write_to_size(large, 60 * MB)
    with large.open("rb") as f:
        first_line = f.readline()
    assert len(first_line) > 64 * 1024  # like every real twarc2 page file

    small_peak, small_report = _import_peak(tmp_path / "small.db", small, tmp_path)
    large_peak, large_report = _import_peak(tmp_path / "large.db", large, tmp_path)

    assert small_report["imported"] == small_posts and small_report["rejected"] == 0
    assert large_report["imported"] == large_posts and large_report["rejected"] == 0
    figures = f"15 MB file: {small_peak / MB:.0f} MB peak; 60 MB file: {large_peak / MB:.0f} MB"
    print(figures)
    assert abs(large_peak - small_peak) < SPREAD, figures
    assert max(small_peak, large_peak) < BUDGET, figures
