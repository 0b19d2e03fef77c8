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
from itertools import chain

import numpy as np

WORD_BITS = 18
CHAR_BITS = 18
N_WORD = 1 << WORD_BITS
N_CHAR = 1 << CHAR_BITS
N_HASHED = N_WORD + N_CHAR
# featurise() reads a column's block from its top bit, which needs equal blocks.
assert N_WORD == N_CHAR
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


def _token_hash(token: str) -> int:
    return zlib.crc32(token.encode("utf-8", "surrogatepass"))


class _TokenHashes(dict[str, int]):
    """token -> CRC-32, filled on first sight.

    ``map(cache.__getitem__, tokens)`` stays in C for every token seen before
    (most of them: words repeat), where an ``lru_cache`` wrapper paid its own
    bookkeeping on every call (about 40% of the hashing step). Cleared when it gets big,
    so a long stream of new words cannot grow it without bound.
    """

    LIMIT = 1 << 18

    def __missing__(self, token: str) -> int:
        if len(self) >= self.LIMIT:
            self.clear()
        value = self[token] = _token_hash(token)
        return value


_TOKEN_HASHES = _TokenHashes()


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Word → valence in [-4, 4] (VADER's lexicon, shipped as an artifact)."""

    valence: dict[str, float]


def dense_features(raw: str, toks: list[str], lexicon: Lexicon) -> list[float]:
    """The dense features of one text (``DENSE_NAMES``); ``featurise`` does a batch at once."""
    return [float(v) for v in dense_block([raw], [toks], lexicon)[0]]


def dense_block(texts: list[str], all_tokens: list[list[str]], lexicon: Lexicon) -> np.ndarray:
    """Dense features of every text, float64 ``[n, N_DENSE]``.

    The lexicon sums are taken for the whole batch with ``np.bincount``, which
    adds each row's values in token order just as a per-text ``sum()`` did
    (plain double additions), so the features are the same to the last bit;
    only the negation rule and the surface tests still loop per text.
    """
    n = len(texts)
    get = lexicon.valence.get
    values = [get(t, 0.0) for t in chain.from_iterable(all_tokens)]
    lengths = np.fromiter(map(len, all_tokens), dtype=np.int64, count=n)
    offset = 0
    for toks in all_tokens:
        if not _NEGATORS.isdisjoint(toks):
            # VADER's rule: a negation within the three words before flips (and damps) a word.
            negate = 0
            for i, tok in enumerate(toks, offset):
                if tok in _NEGATORS:
                    negate = 3
                    values[i] = 0.0
                elif negate:
                    values[i] *= _NEGATION_SCALAR
                    negate -= 1
        offset += len(toks)
    v = np.asarray(values, dtype=np.float64)
    row = np.repeat(np.arange(n), lengths)
    positive = v > 0
    negative = v < 0
    pos = np.bincount(row, weights=np.where(positive, v, 0.0), minlength=n)
    # Negating each value before adding is exact, so this is -sum(negatives) bit for bit.
    neg = np.bincount(row, weights=np.where(negative, -v, 0.0), minlength=n)
    out = np.zeros((n, N_DENSE), dtype=np.float64)
    out[:, 0] = pos / 4.0
    out[:, 1] = neg / 4.0
    # math.tanh, not np.tanh: numpy's vectorised tanh may differ in the last bit.
    out[:, 2] = [math.tanh(x) for x in ((pos - neg) / 4.0).tolist()]
    out[:, 3] = np.minimum(np.bincount(row[positive], minlength=n), 5) / 5.0
    out[:, 4] = np.minimum(np.bincount(row[negative], minlength=n), 5) / 5.0
    for i, raw in enumerate(texts):
        # Every emoticon the patterns know holds one of these; most posts have none.
        if ":" in raw or ";" in raw or "=" in raw or "<" in raw:
            out[i, 5] = bool(_EMO_POS.search(raw))
            out[i, 6] = bool(_EMO_NEG.search(raw))
        # An all-caps word needs three letters in a row that are not lower-case ASCII;
        # one search rules most posts out before splitting them into words.
        if _CAPS_RUN.search(raw):
            words = [w for w in raw.split() if len(w) > 2 and w.isalpha()]
            if words:
                out[i, 9] = sum(1 for w in words if w.isupper()) / len(words)
    out[:, 7] = ["!" in raw for raw in texts]
    out[:, 8] = ["?" in raw for raw in texts]
    return out


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


def _char_keys(norms: list[str], row_keys: np.ndarray) -> np.ndarray:
    """Hashed character 2–5-grams of every text, as ``row << _HASHED_BITS | column`` keys.

    ``row_keys[i]`` is ``i << _HASHED_BITS``. Building the key here, rather than
    separate row and column arrays, spares a pass and lets one sort count repeats.
    """
    padded = [" " + s + " " for s in norms]
    lengths = np.fromiter(map(len, padded), dtype=np.int64, count=len(padded))
    codes = np.frombuffer("".join(padded).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    codes = codes.astype(np.uint64) + np.uint64(1)
    # Every character column is offset by N_WORD (a single bit above _CHAR_MASK), so
    # fold it into the row key once instead of adding it to every column.
    row_of = np.repeat(row_keys | np.uint64(N_WORD), lengths)
    # room[i]: characters from position i to the end of its own text; an n-gram
    # starting at i stays inside the text when room[i] >= n (one compare with a scalar).
    ends = np.repeat(np.cumsum(lengths), lengths)
    room = ends - np.arange(len(codes), dtype=np.int64)
    keys: list[np.ndarray] = []
    h = codes
    for n in range(2, 6):
        # h[i] now covers codes[i : i + n]; numpy wraps uint64 arithmetic silently.
        h = h[:-1] * _MUL + codes[n - 1 :]
        ok = room[: len(h)] >= n
        mixed = h[ok] * _MIX + np.uint64(n)
        mixed ^= mixed >> _SHIFT
        mixed &= _CHAR_MASK
        mixed |= row_of[: len(h)][ok]
        keys.append(mixed)
    return np.concatenate(keys) if keys else np.empty(0, np.uint64)


def _word_keys(all_tokens: list[list[str]], row_keys: np.ndarray) -> np.ndarray:
    """Hashed word uni- and bigrams of every text, as ``row << _HASHED_BITS | column`` keys."""
    lengths = np.fromiter(map(len, all_tokens), dtype=np.int64, count=len(all_tokens))
    # One map over every token of the batch, not a Python loop per text.
    h = np.fromiter(
        map(_TOKEN_HASHES.__getitem__, chain.from_iterable(all_tokens)),
        dtype=np.uint64,
        count=int(lengths.sum()),
    )
    r = np.repeat(row_keys, lengths)
    same = r[:-1] == r[1:]
    bigram = h[:-1][same] * _BIGRAM + h[1:][same]
    bigram ^= bigram >> _SHIFT
    bigram *= _MIX
    bigram &= _WORD_MASK
    bigram |= r[:-1][same]
    h &= _WORD_MASK
    h |= r
    return np.concatenate([h, bigram])


def _count_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys (sorted) and how often each occurs: ``np.unique(return_counts=True)``.

    Done by hand on a sorted copy because np.unique's extra bookkeeping cost as
    much as the sort; the keys and counts are the same.
    """
    keys = np.sort(keys)
    first = np.empty(len(keys), dtype=bool)
    first[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.diff(starts, append=len(keys))
    return keys[starts], counts


def featurise(texts: list[str], idf: np.ndarray, lexicon: Lexicon) -> Rows:
    """Feature rows for ``texts``; ``idf`` has one weight per hashed column."""
    n = len(texts)
    norms = [normalise(t) for t in texts]
    toks = [tokens(s) for s in norms]
    row_keys = np.arange(n, dtype=np.uint64) << np.uint64(_HASHED_BITS)
    keys = np.concatenate([_word_keys(toks, row_keys), _char_keys(norms, row_keys)])
    if n << _HASHED_BITS <= 1 << 32:
        # A batch of up to 8,192 texts fits its keys in 32 bits, which sort twice as fast.
        keys = keys.astype(np.uint32)
    # Count repeats of (row, column) once: the unique keys come out sorted by row, then column.
    keys, counts = _count_keys(keys)
    cols = (keys & (N_HASHED - 1)).astype(np.int64)
    # The bit above the word columns tells the word block (0) from the character
    # block (1) (the two are the same size), so key >> WORD_BITS is row * 2 + block.
    block = (keys >> WORD_BITS).astype(np.intp)
    vals = np.log1p(counts) * np.take(idf, cols)
    # bincount adds in entry order (as before), so each norm is the same to the last bit.
    sq = np.bincount(block, weights=vals * vals, minlength=2 * n)
    vals /= np.sqrt(sq)[block]

    dense = dense_block(texts, toks, lexicon).astype(np.float32)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(block, minlength=2 * n).reshape(n, 2).sum(axis=1), out=indptr[1:])
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
