"""Import's memory does not grow with the file (issue 7, case 9).

twarc2 writes one search page per line, so every real page file starts with a
line far longer than 64 KB; the reader used to take that as a sign of one big
document and read the whole file: 141 MB peak for 15 MB, 396 MB for 60 MB.
Here each import runs as its own process and its peak resident memory is read
from the kernel (``wait4``'s rusage of that process alone, forked by a small
launcher so pytest's own size does not count). A saved query that
matches most posts makes the import match and classify them too, so the
budget includes the classifiers' models, as it does for a real user.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from tests.cli.twarc2_pages import PageWriter

pytestmark = pytest.mark.slow

MB = 1024 * 1024
BUDGET = 300 * MB
SPREAD = 40 * MB


# A child's peak resident size (ru_maxrss) starts at its parent's size at
# fork: a child forked straight from a pytest process that has grown to 400 MB
# over a full run reports 400 MB whatever it does. So a small launcher process
# forks the import and reports that grandchild's own peak.
_LAUNCHER = """
import os, subprocess, sys
with open(sys.argv[1], "wb") as out, open(sys.argv[2], "wb") as err:
    child = subprocess.Popen(sys.argv[3:], stdout=out, stderr=err)
    _pid, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def _import_peak(db: Path, path: Path, tmp_path: Path) -> tuple[int, dict]:
    """Run ``hubbub import`` on ``path``; its peak RSS in bytes and its report."""
    out_path = tmp_path / f"{path.stem}.out"
    err_path = tmp_path / f"{path.stem}.err"
    command = [sys.executable, "-m", "hubbub.cli", "import", "--json", "--db", str(db), str(path)]
    launched = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, str(out_path), str(err_path), *command],
        capture_output=True,
        timeout=600,
        check=True,
    )
    returncode, max_rss_kb = (int(v) for v in launched.stdout.split())
    assert returncode == 0, err_path.read_text()[-3000:]
    # Linux reports ru_maxrss in kilobytes.
    return max_rss_kb * 1024, orjson.loads(out_path.read_bytes())


def _listening_db(path: Path) -> Path:
    done = subprocess.run(
        [sys.executable, "-m", "hubbub.cli", "listen", "add", "brand", "the OR a OR to"]
        + ["--db", str(path)],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return path


def _classified(db: Path) -> int:
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM post_classes")).scalar_one()
    engine.dispose()
    return count


def test_peak_memory_is_flat_in_the_file_size(tmp_path: Path) -> None:
    pages = PageWriter()
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    small_posts = pages.write_to_size(small, 15 * MB)
    large_posts = pages.write_to_size(large, 60 * MB)
    with large.open("rb") as f:
        first_line = f.readline()
    assert len(first_line) > 64 * 1024  # like every real twarc2 page file

    small_db, large_db = _listening_db(tmp_path / "small.db"), _listening_db(tmp_path / "large.db")
    small_peak, small_report = _import_peak(small_db, small, tmp_path)
    large_peak, large_report = _import_peak(large_db, large, tmp_path)

    assert small_report["imported"] == small_posts and small_report["rejected"] == 0
    assert large_report["imported"] == large_posts and large_report["rejected"] == 0
    # The models were loaded and used: most posts were matched and classified.
    assert _classified(small_db) > small_posts // 2
    assert _classified(large_db) > large_posts // 2
    figures = f"15 MB file: {small_peak / MB:.0f} MB peak; 60 MB file: {large_peak / MB:.0f} MB"
    print(figures)
    assert abs(large_peak - small_peak) < SPREAD, figures
    assert max(small_peak, large_peak) < BUDGET, figures
