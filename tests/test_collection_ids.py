"""Every pytest-xdist worker collects the tests itself, and the run stops before
any test if two workers find different ids (`make test` ran none when a
parameter held a free port picked at import). So a second, separate collection
of the same files must find every id this session has."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_a_second_collection_finds_the_same_test_ids(request: pytest.FixtureRequest) -> None:
    ours = {item.nodeid for item in request.session.items}
    files = sorted({nodeid.split("::", 1)[0] for nodeid in ours})
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    again = {line for line in done.stdout.splitlines() if "::" in line}
    assert sorted(ours - again) == []
