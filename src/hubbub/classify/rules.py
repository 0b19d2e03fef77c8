"""Hand-written signals for what has no public training data: question, lead, praise, spam.

Each is a small set of patterns or weights, written from the intent rules in
``docs/classifiers.md`` (not fitted to the hand-labelled evaluation set, which
stays an honest test). English only.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

# "Not after a letter or digit": the same as a leading \b for these word lists, but
# Python's engine scans it about a third faster than \b before a long alternation.
_WORD_START = r"(?<![a-z0-9_])"
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_HANDLE = re.compile(r"@\w+")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A text as every rule reads it: lower-cased, links removed (and counted)."""

    body: str
    urls: int


# Joins the texts of a batch for one regex scan (``batch_counts``). None of the
# batched patterns can consume it (they use no ".", "\\S" or negated class outside
# a lookbehind), so no match spans two texts; before a text it reads as a non-word
# character, like the start of a string, and after one like its end.
_SEPARATOR = "\x00"


def batch_counts(pattern: re.Pattern[str], bodies: list[str]) -> list[int]:
    """``len(pattern.findall(body))`` for every body, from one scan of the joined batch.

    Only for the patterns named where they are defined: those that cannot match
    the separator and have no ``^``/``$``. One call over the batch spares the
    per-call cost of tens of thousands of small scans.
    """
    counts = [0] * len(bodies)
    if not bodies:
        return counts
    ends = list(accumulate(len(b) + 1 for b in bodies))
    for match in pattern.finditer(_SEPARATOR.join(bodies)):
        counts[bisect_right(ends, match.start())] += 1
    return counts


def prepare(text: str) -> Prepared:
    lower = text.lower()
    if "http" in lower or "www." in lower:
        urls = len(_URL.findall(lower))
        return Prepared(_URL.sub(" ", lower), urls)
    return Prepared(lower, 0)


# --- question -------------------------------------------------------------
_WH_START = re.compile(
    r"(?:^|[.!?\n]\s*)(?:what|how|why|when|where|who|whom|which|whose|is|are|was|were|can|could|"
    r"do|does|did|will|would|should|shall|may|has|have|had|any|anyone|anybody|someone|somebody)\b",
)
_ASKS = re.compile(
    _WORD_START
    + r"(?:anyone know|does anyone|do you know|can you (?:help|tell|explain)|please (?:help|advise|"
    r"explain|tell)|need (?:some )?help|how (?:do|can|to) i|any (?:idea|ideas|update|news|view|"
    r"views|opportunity)|is there (?:a|any) way|wondering (?:if|whether|how|what))\b",
)


def question_score(p: Prepared) -> float:
    """0..1: how much the text reads as an inquiry that expects an answer.

    A question mark alone is not enough (headlines and rhetoric use it too):
    it needs an interrogative sentence start, or an explicit ask phrase.
    """
    body = p.body
    score = 0.0
    if "?" in body:
        score += 0.3
        if _WH_START.search(_HANDLE.sub(" ", body).strip()):
            score += 0.4
    if _ASKS.search(body):
        score += 0.5
    return min(score, 1.0)


# --- lead: intent to buy, or asking for a recommendation -----------------------
# _LEAD, _PRAISE and _SPAM_WORDS are scanned a batch at a time (batch_counts): keep
# them free of ".", "\\S", negated classes outside lookbehinds, "^" and "$".
_LEAD = re.compile(
    _WORD_START
    + r"(?:recommend(?:ation|ations)?|suggest(?:ion|ions)?|looking for (?:a|an|some|good|the best|"
    r"recommendations?)|where (?:can|do|should) i (?:buy|get|find|order)|(?:want|wanting|need|planning|"
    r"going) to (?:buy|order|purchase|get a new|upgrade|switch)|thinking (?:of|about) (?:buying|"
    r"getting|switching|upgrading)|should i (?:buy|get|go with|switch|choose|pick|order|hold|sell)|"
    r"in the market for|(?:best|good|cheapest|reliable) \w+(?: \w+)? (?:for|to buy|near me)|"
    r"how much (?:is|does|for|do you charge)|price (?:of|for)|quote for|"
    r"(?:do|does|can) (?:you|they) (?:ship|deliver|sell|offer)|wtb|take my money|sign me up|"
    r"which (?:one )?(?:should|would) (?:i|you) (?:buy|get|choose|recommend))\b",
)


def lead_signal(p: Prepared) -> bool:
    return bool(_LEAD.search(p.body))


# --- praise: positive feedback about a product, service or someone's work ------
_PRAISE = re.compile(
    _WORD_START
    + r"(?:well done|great (?:job|work|service|call|product|app|team|support|food|show|game|"
    r"performance|experience|action)|good job|nice (?:job|work|one)|top marks|kudos|bravo|"
    r"hats off|shout ?out to|thanks? (?:you )?(?:so much )?(?:for|to)|thank you|love (?:my|the|your|"
    r"this|these|it|how)|loving (?:my|the|your|this)|(?:is|was|are|were|looks?|so|absolutely|"
    r"really) (?:amazing|awesome|brilliant|excellent|fantastic|superb|outstanding|great|perfect|"
    r"wonderful|delicious|beautiful)|best (?:\w+ )?(?:ever|in town|around)|highly recommend|"
    r"(?:five|5)[- ]stars?|legend(?:ary)?|solid (?:list|work|pick|choice)|excellent|brilliant|"
    r"impressed|masterpiece|goat)\b",
)


def praise_signal(p: Prepared) -> bool:
    return bool(_PRAISE.search(p.body))


# --- spam -----------------------------------------------------------------------
_SPAM_WORDS = re.compile(
    _WORD_START
    + r"(?:giveaway|give away|airdrop|free (?:call|tips?|signals?|money|followers|gift|crypto|nft|"
    r"entry)|dm (?:me|us|for)|link in (?:bio|profile)|click (?:here|the link|below)|follow ?back|"
    r"followback|follo\w* ?for ?follo\w*|f4f|promo ?code|coupon|discount|\d+\s?% off|"
    r"limited (?:time|offer)|buy now|order now|shop now|huge (?:returns|gain|profit)|"
    r"guaranteed|earn \$?\d+|passive income|whatsapp|telegram|crypto|nft|bitcoin|btc|usdt|"
    r"forex|signals?|target|stop ?loss|wts|for sale|price in|shipping|starting (?:at|from)|"
    r"check (?:out|our)|subscribe|retweet to win|rt to win|win a|winner|sasaeng|kkt)\b"
    # "Starting @ ₹275": '@' is not a word character, so the closing \b above can
    # never follow it; this alternative needs none.
    r"|" + _WORD_START + r"starting ?@",
)
# The sigil comes first and the "not after a word character" test after it (a
# two-character lookbehind), so the engine can jump from sigil to sigil instead of
# trying a lookbehind at every position; the matches are the same.
_CASHTAG = re.compile(r"\$(?<![\w$]\$)[a-z]{1,6}\b")
_HASHTAG = re.compile(r"#(?<!\w#)\w+")
_MONEY = re.compile(r"[₹$€£]\s?\d|\b(?:rs\.?|inr|usd|sgd)\s?\d")
_MONEY_CODES = ("rs", "inr", "usd", "sgd")
# Every money pattern ends in a digit: a text without one cannot match.
_DIGIT = re.compile(r"\d")


def _has_money_code(body: str) -> bool:
    return any(code in body for code in _MONEY_CODES)


_HYPE_CHARS = "\U0001f680\U0001f4b0\U0001f4b5\U0001f4b8\U0001f3af\u2705\U0001f525\U0001f381"


def spam_score(p: Prepared) -> float:
    """0..1 spam likelihood from links, tag stuffing, cashtags, money talk and promo words.

    Weights are set by hand (no labelled spam posts to fit them on): one promo
    phrase with a link is enough to pass 0.5; an ordinary post with a link is not.
    """
    return _spam(p, len(_SPAM_WORDS.findall(p.body)))


def spam_scores(prepared: list[Prepared]) -> list[float]:
    """``spam_score`` of each text; the promo phrases found in one scan (``batch_counts``)."""
    promos = batch_counts(_SPAM_WORDS, [p.body for p in prepared])
    return [_spam(p, promo) for p, promo in zip(prepared, promos, strict=True)]


def lead_signals(prepared: list[Prepared]) -> list[bool]:
    """``lead_signal`` of each text, from one scan (``batch_counts``)."""
    return [n > 0 for n in batch_counts(_LEAD, [p.body for p in prepared])]


def praise_signals(prepared: list[Prepared]) -> list[bool]:
    """``praise_signal`` of each text, from one scan (``batch_counts``)."""
    return [n > 0 for n in batch_counts(_PRAISE, [p.body for p in prepared])]


def _spam(p: Prepared, promo: int) -> float:
    body = p.body
    urls = p.urls
    # Cheap membership tests first: most posts have no tags, cashtags or money.
    hashtags = len(_HASHTAG.findall(body)) if "#" in body else 0
    cashtags = len(_CASHTAG.findall(body)) if "$" in body else 0
    money = 0
    if (
        "$" in body or "₹" in body or "€" in body or "£" in body or _has_money_code(body)
    ) and _DIGIT.search(body):
        money = len(_MONEY.findall(body))
    # Single characters: counting each is findall over their class, without the regex.
    hype = sum(map(body.count, _HYPE_CHARS)) if not body.isascii() else 0
    words = max(1, len(body.split()))
    z = (
        -3.2
        + 0.7 * min(urls, 3)
        + 0.35 * max(0, hashtags - 3)
        + 1.2 * max(0.0, hashtags / words - 0.3)
        + 0.6 * min(cashtags, 6)
        + 1.4 * min(promo, 3)
        + 0.8 * min(money, 2)
        + 0.3 * min(hype, 5)
    )
    return 1.0 / (1.0 + math.exp(-z))
