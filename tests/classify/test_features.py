"""The featuriser must give the same columns in every process: the shipped weights depend on it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from hubbub.classify.features import N_HASHED, Lexicon, featurise, normalise

REPO = Path(__file__).resolve().parents[2]
TEXT = "Loving the new update from @acme!!! https://t.co/abc #happy don’t stop"


def _columns() -> list[int]:
    rows = featurise([TEXT], np.ones(N_HASHED, dtype=np.float32), Lexicon({"loving": 2.9}))
    return rows.indices.tolist()


def test_hashing_is_the_same_in_another_process() -> None:
    code = (
        "import numpy as np; from hubbub.classify.features import *;"
        f"r = featurise([{TEXT!r}], np.ones(N_HASHED, dtype=np.float32), Lexicon({{'loving': 2.9}}));"
        "print(r.indices.tolist())"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == str(_columns())


def test_rows_are_normalised_and_dense_block_is_kept_apart() -> None:
    rows = featurise([TEXT, ""], np.ones(N_HASHED, dtype=np.float32), Lexicon({"loving": 2.9}))
    assert rows.n_rows == 2
    assert rows.dense.shape[0] == 2 and rows.dense[0, 0] > 0  # the lexicon saw "loving"
    first = rows.values[rows.indptr[0] : rows.indptr[1]]
    # word block and character block are each L2-normalised: total squared norm 2
    assert abs(float((first.astype(np.float64) ** 2).sum()) - 2.0) < 1e-4
    assert int(rows.indices.max()) < N_HASHED


def test_normalise_replaces_links_handles_and_elongation() -> None:
    assert normalise("Soooo GOOD @Acme https://x.co/a don’t") == "soo good  @user  httpurl  don't"
