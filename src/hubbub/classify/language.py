"""Language of a post: the network's own field when it has one, else detected.

Detection uses ``py3langid`` (Lui & Baldwin's langid.py, repackaged with its
model inside the wheel: offline, numpy only).
"""

from __future__ import annotations

import importlib.util
import io
import lzma
import re
import threading
from array import array
from functools import cache
from pathlib import Path
from typing import Any

# Codes networks send that mean "no language" (X: und, qam = mentions only,
# qct = cashtags, qht = hashtags, qme = media links, qst = very short, zxx = no text).
_UNKNOWN = frozenset({"", "und", "qam", "qct", "qht", "qme", "qst", "zxx", "mul", "mis"})
# Old ISO 639-1 codes X still sends.
_RENAMED = {"in": "id", "iw": "he", "ji": "yi", "jw": "jv"}
# Words that are common in English and rare as words of other languages written in
# Latin script (so not "is", "was", "will", "on", "die", "for"…). Two different ones
# in a text whose letters are all ASCII decide English without running the n-gram model, which is
# the slowest step of classification (agreement with py3langid: docs/classifiers.md).
_ENGLISH_MARKERS = frozenset(
    [
        "the",
        "and",
        "you",
        "your",
        "this",
        "that",
        "with",
        "have",
        "has",
        "what",
        "just",
        "they",
        "their",
        "them",
        "would",
        "could",
        "about",
        "because",
        "really",
        "think",
        "people",
        "don't",
        "i'm",
        "it's",
        "can't",
        "didn't",
        "doesn't",
        "are",
        "were",
        "been",
        "there",
        "when",
        "where",
        "which",
        "who",
        "get",
        "got",
        "like",
        "know",
        "good",
        "going",
        "gonna",
        "want",
        "should",
        "some",
        "than",
        "then",
        "only",
        "also",
        "into",
        "after",
        "before",
        "tonight",
        "tomorrow",
        "today",
        "it",
        "not",
        "but",
        "if",
        "all",
        "out",
        "up",
        "how",
        "why",
        "new",
        "now",
        "she",
        "his",
        "him",
        "her",
        "our",
        "us",
        "one",
        "day",
        "love",
        "time",
        "see",
        "make",
        "she's",
        "he's",
        "that's",
        "you're",
        "i've",
        "i'll",
        "won't",
        "isn't",
        "wasn't",
    ]
)
_MARKERS_NEEDED = 2
_WORD = re.compile(r"[a-z']+")
_THREE_LETTERS = re.compile(r"[^\W\d_](?:[\W\d_]*[^\W\d_]){2}")
# A letter outside ASCII (emoji and curly quotes are not letters, so they pass).
_NON_ASCII_LETTER = re.compile(r"[^\W\d_a-zA-Z]")
_STRIP = re.compile(r"https?://\S+|www\.\S+|[@#$][\w.]+")
_LETTER = re.compile(r"[^\W\d_]")
# A detection below this normalised probability is a guess. On SemEval tweets (all
# English) the detector's non-English answers were nearly all below it, and on a
# short text it is usually one rare word deciding (``hello`` → Breton). Chosen on
# SemEval train and the payloads' posts with a network language, never on TweetEval.
CONFIDENT = 0.9
# Texts with at most this many letters (outside links, handles and tags) count as
# short: too little evidence to override the prior.
SHORT_LETTERS = 80


def normalise_lang(value: Any) -> str | None:
    """'en-US' → 'en', 'und' → None; a list (Bluesky ``langs``) gives its first entry."""
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if not isinstance(value, str):
        return None
    code = value.strip().lower().replace("_", "-").split("-", 1)[0]
    if code in _UNKNOWN or not code.isalpha() or len(code) not in (2, 3):
        return None
    return _RENAMED.get(code, code)


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    # Our own instance, not the module's global one, so no other caller can change its
    # languages. Normalised probabilities tell a confident answer from a guess.
    if _early is None:
        # Not `hubbub classify` (import, serve, workers): py3langid's own loader, which
        # streams through a temporary file. Decompressing in memory holds the 68 MB of
        # bytes beside the arrays built from them, and import's peak then passed its
        # 300 MB budget (tests/cli/test_import_memory.py: 315 MB); only the classify
        # command, where start-up time is the figure, takes that trade.
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    try:
        ptc, pc, classes, nextmove, row, output = _model_arrays(MODEL_DIR / MODEL_FILE)
    except (OSError, KeyError, ValueError, lzma.LZMAError):
        # A model layout this reader does not know: py3langid's own loader.
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return LanguageIdentifier(ptc, pc, classes, nextmove, output, norm_probs=True, tk_row=row)


class _EarlyRead:
    """The detector model's decompressed bytes, read in a thread started early.

    Decompressing the 68 MB model is most of the detector's load and lzma lets
    other threads run meanwhile, so ``hubbub classify`` starts it before it imports
    numpy and loads the classifiers (``start_reading_model``); the load then takes
    the bytes from here instead of decompressing again.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.raw: bytes | None = None
        self.thread = threading.Thread(target=self._read, name="langid-read", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            self.raw = lzma.decompress(self.path.read_bytes())
        except (OSError, lzma.LZMAError):
            self.raw = None  # the load reads the file itself and reports what is wrong

    def take(self, path: Path) -> bytes | None:
        self.thread.join()
        raw, self.raw = self.raw, None  # read once: 68 MB need not stay in memory
        return raw if path == self.path else None


_early: _EarlyRead | None = None


def start_reading_model() -> None:
    """Start decompressing the detector's model in a thread (no numpy needed for that)."""
    global _early
    if _early is not None:
        return
    spec = importlib.util.find_spec("py3langid")
    if spec is None or not spec.submodule_search_locations:
        return
    # py3langid.langid.MODEL_FILE, relative to the package (not imported here: it imports numpy).
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "model.npz.xz"
    if path.is_file():
        _early = _EarlyRead(path)


def _model_arrays(path: Path) -> tuple[Any, Any, list[str], array[int], array[int], list[int]]:
    """What ``py3langid.modelio.load_model`` returns, decompressed in memory.

    py3langid streams the 68 MB model through a temporary file and reads it back;
    in memory that write and read are spared, and the decompression (most of the
    load, and it lets other threads run) can overlap the rest of start-up
    (``workers.py``). Same arrays, so the same answers (tests/classify).
    """
    import numpy as np

    raw = _early.take(path) if _early is not None else None
    if raw is None:
        raw = lzma.decompress(path.read_bytes())
    with np.load(io.BytesIO(raw), allow_pickle=False) as data:
        return (
            np.asarray(data["ptc"]),
            np.asarray(data["pc"]),
            data["classes"].tolist(),
            _as_array(data["nextmove"]),
            _as_array(data["nextmove_row"]),
            data["out_feat"].tolist(),
        )


def _as_array(values: Any) -> array[int]:
    """An unsigned numpy array as a stdlib array: the DFA walk indexes it from Python."""
    out = array({2: "H", 4: "I", 8: "L"}[values.dtype.itemsize])
    out.frombytes(values.tobytes())
    return out


def preload() -> None:
    """Load the detector now (``hubbub classify``'s workers share it when forked after this)."""
    _identifier()


def detect(text: str, default: str | None = None) -> str:
    """ISO 639-1 code of ``text``, or 'und' when there are no words to judge.

    ``default`` is the prior for short texts: when the detector is not
    confident about a text of at most ``SHORT_LETTERS`` letters (or the text
    has a letter but too few to judge), ``default`` is the answer.
    """
    # Links, handles, hashtags and cashtags are not in any language; judge the rest.
    if "@" in text or "#" in text or "$" in text or "http" in text or "www." in text:
        body = _STRIP.sub(" ", text)
    else:
        body = text  # nothing to strip: skip the regex pass (most posts)
    if not _THREE_LETTERS.search(body):
        return default if default and _LETTER.search(body) else "und"
    if len(_ENGLISH_MARKERS.intersection(_WORD.findall(body.lower()))) >= _MARKERS_NEEDED and (
        body.isascii() or not _NON_ASCII_LETTER.search(body)
    ):
        return "en"
    lang, probability = _identifier().classify(body)
    if (
        default
        and lang != default
        and probability < CONFIDENT
        and len(_LETTER.findall(body)) <= SHORT_LETTERS
    ):
        return default
    return str(lang)


def resolve(text: str, given: Any, default: str | None = None) -> str:
    """The network's language when it gave one, else detected (``default`` as the short-text prior)."""
    return normalise_lang(given) or detect(text, default)
