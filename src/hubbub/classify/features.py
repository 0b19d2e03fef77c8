"""Turn texts into the sparse feature rows every linear classifier here reads.

One featuriser serves training (``train.py`` builds a SciPy matrix from its
output) and run time (``linear.py`` multiplies it with numpy), so the two
can never drift apart. Only numpy and the stdlib are used.

Features, in three blocks of one index space:

* word uni- and bigrams of normalised tokens, hashed into ``N_WORD`` slots;
* character 2–5-grams of the normalised text, hashed into ``N_CHAR`` slots;
* a few dense lexicon/surface features (``DENSE_NAMES``).

Hashes are CRC-32 (tokens) and a fixed multiplicative rolling hash (characters):
the same on every machine and Python process, unlike ``hash()``.
Hashed counts are weighted ``log(1 + tf) * idf`` and each block is L2-normalised,
which is what scikit-learn's ``TfidfTransformer(sublinear_tf=True)`` does per block.
"""

from __future__ import annotations

import html
import math
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

WORD_BITS = 18
CHAR_BITS = 18
N_WORD = 1 << WORD_BITS
N_CHAR = 1 << CHAR_BITS
N_HASHED = N_WORD + N_CHAR
DENSE_NAMES = (
    "lex_pos",
    "lex_neg",
    "lex_net",
    "lex_n_pos",
    "lex_n_neg",
    "emoticon_pos",
    "emoticon_neg",
    "exclamation",
    "question",
    "allcaps",
)
N_DENSE = len(DENSE_NAMES)
N_FEATURES = N_HASHED + N_DENSE

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\w+")
_REPEAT = re.compile(r"(.)\1{2,}")
_TOKEN = re.compile(r"[#$]?[\w']+|[^\w\s]")
_EMO_POS = re.compile(r"(?:[:;=]-?[)\]dp]|<3|\(-?[:;=])(?!\w)", re.IGNORECASE)
_EMO_NEG = re.compile(r"(?:[:;=]'?-?[(\[/\\]|\)-?[:;=])")
_CAPS_RUN = re.compile(r"[^\W\d_a-z]{3}")
_NEGATORS = frozenset(
    [f"{w}n't" for w in ("do", "does", "did", "is", "was", "are", "were", "wo", "would", "should")]
    + [f"{w}n't" for w in ("could", "ca", "ai", "has", "have", "had", "must", "need")]
    + ["can't", "won't", "ain't"]
    + [
        "not",
        "no",
        "never",
        "none",
        "nobody",
        "nothing",
        "nowhere",
        "neither",
        "nor",
        "cannot",
        "cant",
        "dont",
        "doesnt",
        "didnt",
        "isnt",
        "wasnt",
        "arent",
        "werent",
        "wont",
        "wouldnt",
        "shouldnt",
        "couldnt",
        "aint",
        "hasnt",
        "havent",
        "hadnt",
    ]
)
# VADER's constant for how much a negation flips a word's valence.
_NEGATION_SCALAR = -0.74

# 64-bit mixing constants (from SplitMix64/Murmur3 finalisers): spread the
# rolling hash over all bits before taking it modulo the table size.
_MUL = np.uint64(0x9E3779B97F4A7C15)
_MIX = np.uint64(0xBF58476D1CE4E5B9)
_SHIFT = np.uint64(31)
_BIGRAM = np.uint64(0x100000001B3)
_WORD_MASK = np.uint64(N_WORD - 1)
_CHAR_MASK = np.uint64(N_CHAR - 1)
_HASHED_BITS = (N_HASHED - 1).bit_length()


def normalise(text: str) -> str:
    """Lower-case, unescape, and replace what varies but means the same (links, handles)."""
    if "&" in text:
        text = html.unescape(text)
    # Phones type ’ for ': one spelling of "don't" for the n-grams and the negation rule.
    text = text.lower().replace("\u2019", "'")
    # Cheap membership tests spare two regex passes on most posts.
    if "http" in text or "www." in text:
        text = _URL.sub(" httpurl ", text)
    if "@" in text:
        text = _MENTION.sub(" @user ", text)
    # "soooo goood" → "soo good": elongation is kept as a signal but not as new words.
    return _REPEAT.sub(r"\1\1", text)


def tokens(norm: str) -> list[str]:
    return _TOKEN.findall(norm)


@lru_cache(maxsize=1 << 17)
def _token_hash(token: str) -> int:
    return zlib.crc32(token.encode("utf-8", "surrogatepass"))


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Word → valence in [-4, 4] (VADER's lexicon, shipped as an artifact)."""

    valence: dict[str, float]


def dense_features(raw: str, toks: list[str], lexicon: Lexicon) -> list[float]:
    get = lexicon.valence.get
    values = [get(t, 0.0) for t in toks]
    if not _NEGATORS.isdisjoint(toks):
        # VADER's rule: a negation within the three words before flips (and damps) a word.
        negate = 0
        for i, tok in enumerate(toks):
            if tok in _NEGATORS:
                negate = 3
                values[i] = 0.0
            elif negate:
                values[i] *= _NEGATION_SCALAR
                negate -= 1
    positives = [v for v in values if v > 0]
    negatives = [v for v in values if v < 0]
    pos = sum(positives)
    neg = -sum(negatives)
    # Every emoticon the patterns know holds one of these; most posts have none.
    emoticons = ":" in raw or ";" in raw or "=" in raw or "<" in raw
    caps = 0.0
    # An all-caps word needs three letters in a row that are not lower-case ASCII;
    # one search rules most posts out before splitting them into words.
    if _CAPS_RUN.search(raw):
        words = [w for w in raw.split() if len(w) > 2 and w.isalpha()]
        caps = sum(1 for w in words if w.isupper()) / len(words) if words else 0.0
    return [
        pos / 4.0,
        neg / 4.0,
        math.tanh((pos - neg) / 4.0),
        min(len(positives), 5) / 5.0,
        min(len(negatives), 5) / 5.0,
        float(emoticons and bool(_EMO_POS.search(raw))),
        float(emoticons and bool(_EMO_NEG.search(raw))),
        float("!" in raw),
        float("?" in raw),
        caps,
    ]


@dataclass(frozen=True, slots=True)
class Rows:
    """A batch of feature rows: hashed columns in CSR form plus a dense block.

    Row ``i`` has hashed entries ``indices/values[indptr[i]:indptr[i+1]]`` and
    dense features ``dense[i]`` (columns ``N_HASHED ..``). Keeping the dense
    block apart spares a sort of every entry per batch.
    """

    indptr: np.ndarray  # int64, len n+1
    indices: np.ndarray  # int64 column ids < N_HASHED
    values: np.ndarray  # float32
    dense: np.ndarray  # float32 [n, N_DENSE]

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1


def _char_hashes(norms: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hashed character 2–5-grams of every text, as (row ids, column ids)."""
    padded = [" " + s + " " for s in norms]
    lengths = np.fromiter((len(s) for s in padded), dtype=np.int64, count=len(padded))
    codes = np.frombuffer("".join(padded).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    codes = codes.astype(np.uint64) + np.uint64(1)
    row_of = np.repeat(np.arange(len(padded), dtype=np.int64), lengths)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    h = codes.copy()
    for n in range(2, 6):
        # h[i] now covers codes[i : i + n]; numpy wraps uint64 arithmetic silently.
        h = h[:-1] * _MUL + codes[n - 1 :]
        ok = row_of[: len(h)] == row_of[n - 1 :]
        mixed = h[ok] * _MIX + np.uint64(n)
        mixed ^= mixed >> _SHIFT
        rows.append(row_of[: len(h)][ok])
        cols.append((mixed & _CHAR_MASK).astype(np.int64) + N_WORD)
    if not rows:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(rows), np.concatenate(cols)


def _word_hashes(all_tokens: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    rows: list[int] = []
    hashes: list[int] = []
    for i, toks in enumerate(all_tokens):
        rows.extend([i] * len(toks))
        hashes.extend(map(_token_hash, toks))
    h = np.asarray(hashes, dtype=np.uint64)
    r = np.asarray(rows, dtype=np.int64)
    same = r[:-1] == r[1:] if len(r) else np.empty(0, bool)
    bigram = h[:-1][same] * _BIGRAM + h[1:][same]
    bigram ^= bigram >> _SHIFT
    cols = np.concatenate([h & _WORD_MASK, (bigram * _MIX) & _WORD_MASK])
    return np.concatenate([r, r[:-1][same]]), cols.astype(np.int64)


def featurise(texts: list[str], idf: np.ndarray, lexicon: Lexicon) -> Rows:
    """Feature rows for ``texts``; ``idf`` has one weight per hashed column."""
    norms = [normalise(t) for t in texts]
    toks = [tokens(s) for s in norms]
    w_rows, w_cols = _word_hashes(toks)
    c_rows, c_cols = _char_hashes(norms)
    rows = np.concatenate([w_rows, c_rows])
    cols = np.concatenate([w_cols, c_cols])
    # Count repeats of (row, column) once: the unique keys come out sorted by row, then column.
    keys, counts = np.unique((rows << _HASHED_BITS) | cols, return_counts=True)
    rows = keys >> _HASHED_BITS
    cols = keys & (N_HASHED - 1)
    vals = (np.log1p(counts) * idf[cols]).astype(np.float64)
    block = rows * 2 + (cols >= N_WORD)
    sq = np.bincount(block, weights=vals * vals, minlength=2 * len(texts))
    vals /= np.sqrt(sq[block])

    n = len(texts)
    dense = np.asarray(
        [dense_features(t, tk, lexicon) for t, tk in zip(texts, toks, strict=True)],
        dtype=np.float32,
    ).reshape(n, N_DENSE)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return Rows(indptr, cols, vals.astype(np.float32), dense)


def document_frequency(
    texts: list[str], lexicon: Lexicon, batch: int = 4096
) -> tuple[np.ndarray, int]:
    """How many texts contain each hashed column (for idf); used by training only."""
    df = np.zeros(N_HASHED, dtype=np.int64)
    ones = np.ones(N_HASHED, dtype=np.float64)
    for start in range(0, len(texts), batch):
        part = featurise(texts[start : start + batch], ones, lexicon)
        df += np.bincount(part.indices, minlength=N_HASHED)
    return df, len(texts)


def idf_from_df(df: np.ndarray, n_docs: int) -> np.ndarray:
    # scikit-learn's smooth idf: ln((1 + n) / (1 + df)) + 1
    return (np.log((1.0 + n_docs) / (1.0 + df)) + 1.0).astype(np.float32)
