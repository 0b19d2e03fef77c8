"""The batch featuriser must give exactly the features of the simple per-text one.

The shipped weights were trained on features computed text by text (np.unique over
int64 keys, a Python loop for the lexicon features). ``featurise`` now builds them
for a whole batch at once for speed; this keeps that simple version as a reference
and checks the two agree to the last bit.
"""

from __future__ import annotations

import json
import math
import zlib

import numpy as np
import pytest

from hubbub.classify import features as F
from hubbub.classify.datasets import data_dir
from hubbub.classify.linear import load_models

TEXTS = [
    "",
    " ",
    "a",
    "Loving the new update from @acme!!! https://t.co/abc #happy don’t stop",
    "I don't like it, not good at all :( never again",
    "WHY IS MY ORDER LATE??? third email, NO reply :-(",
    "Dzień dobry, dziękuję bardzo za pomoc 😀😀 <3",
    "$TSLA to the moon 🚀🚀 ₹275 rs 50 &amp; more &lt;3 =)",
    "soooo goooood\n\nnot bad, not bad at all ;)",
    "\ud800 lone surrogate",
    "A" * 3000,
]


def _reference(texts: list[str], idf: np.ndarray, lexicon: F.Lexicon) -> F.Rows:
    rows_l: list[np.ndarray] = []
    cols_l: list[np.ndarray] = []
    norms = [F.normalise(t) for t in texts]
    toks = [F.tokens(s) for s in norms]
    # word uni- and bigrams
    r, h = [], []
    for i, tk in enumerate(toks):
        r.extend([i] * len(tk))
        h.extend(zlib.crc32(t.encode("utf-8", "surrogatepass")) for t in tk)
    hh = np.asarray(h, dtype=np.uint64)
    rr = np.asarray(r, dtype=np.int64)
    same = rr[:-1] == rr[1:] if len(rr) else np.empty(0, bool)
    bigram = hh[:-1][same] * F._BIGRAM + hh[1:][same]
    bigram ^= bigram >> F._SHIFT
    rows_l += [rr, rr[:-1][same]]
    cols_l += [
        (hh & F._WORD_MASK).astype(np.int64),
        ((bigram * F._MIX) & F._WORD_MASK).astype(np.int64),
    ]
    # character 2-5-grams
    padded = [" " + s + " " for s in norms]
    lengths = np.array([len(s) for s in padded], dtype=np.int64)
    codes = np.frombuffer("".join(padded).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    codes = codes.astype(np.uint64) + np.uint64(1)
    row_of = np.repeat(np.arange(len(padded), dtype=np.int64), lengths)
    hc = codes.copy()
    for n in range(2, 6):
        hc = hc[:-1] * F._MUL + codes[n - 1 :]
        ok = row_of[: len(hc)] == row_of[n - 1 :]
        mixed = hc[ok] * F._MIX + np.uint64(n)
        mixed ^= mixed >> F._SHIFT
        rows_l.append(row_of[: len(hc)][ok])
        cols_l.append((mixed & F._CHAR_MASK).astype(np.int64) + F.N_WORD)
    rows = np.concatenate(rows_l)
    cols = np.concatenate(cols_l)
    keys, counts = np.unique((rows << F._HASHED_BITS) | cols, return_counts=True)
    rows = keys >> F._HASHED_BITS
    cols = keys & (F.N_HASHED - 1)
    vals = (np.log1p(counts) * idf[cols]).astype(np.float64)
    block = rows * 2 + (cols >= F.N_WORD)
    sq = np.bincount(block, weights=vals * vals, minlength=2 * len(texts))
    vals /= np.sqrt(sq[block])
    dense = np.asarray(
        [_dense(t, tk, lexicon) for t, tk in zip(texts, toks, strict=True)], dtype=np.float32
    ).reshape(len(texts), F.N_DENSE)
    indptr = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=len(texts)), out=indptr[1:])
    return F.Rows(indptr, cols, vals.astype(np.float32), dense)


def _dense(raw: str, toks: list[str], lexicon: F.Lexicon) -> list[float]:
    values = [lexicon.valence.get(t, 0.0) for t in toks]
    negate = 0
    for i, tok in enumerate(toks):
        if tok in F._NEGATORS:
            negate = 3
            values[i] = 0.0
        elif negate:
            values[i] *= F._NEGATION_SCALAR
            negate -= 1
    positives = [v for v in values if v > 0]
    negatives = [v for v in values if v < 0]
    pos, neg = sum(positives), -sum(negatives)
    words = [w for w in raw.split() if len(w) > 2 and w.isalpha()]
    caps = sum(1 for w in words if w.isupper()) / len(words) if words else 0.0
    return [
        pos / 4.0,
        neg / 4.0,
        math.tanh((pos - neg) / 4.0),
        min(len(positives), 5) / 5.0,
        min(len(negatives), 5) / 5.0,
        float(bool(F._EMO_POS.search(raw))),
        float(bool(F._EMO_NEG.search(raw))),
        float("!" in raw),
        float("?" in raw),
        caps,
    ]


def _texts() -> list[str]:
    texts = list(TEXTS)
    naughty = data_dir() / "naughty" / "blns.json"
    if naughty.is_file():
        texts += json.loads(naughty.read_text(encoding="utf-8"))
    return texts


@pytest.mark.parametrize("batch", [1, 7, 512])
def test_featurise_matches_the_per_text_reference_bit_for_bit(batch: int) -> None:
    models = load_models()
    texts = _texts()
    for start in range(0, len(texts), batch):
        part = texts[start : start + batch]
        got = F.featurise(part, models.idf, models.lexicon)
        want = _reference(part, models.idf, models.lexicon)
        for name in ("indptr", "indices", "values", "dense"):
            a, b = getattr(got, name), getattr(want, name)
            assert a.dtype == b.dtype and np.array_equal(a, b), (name, start)
