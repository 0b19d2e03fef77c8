"""Top keywords and two-word phrases of a set of posts.

A keyword is a token (``hubbub.query.tokens.tokenize``, the one definition of
a word) that is not a stopword, not a number, longer than one character, and
not one of the query's own words (every post matching "acme" says acme).
Counts are *posts* containing the word, not occurrences, so one post
repeating a word twenty times does not top the list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from hubbub.query.tokens import fold

# Small hand-written lists (folded, so Polish words lose their diacritics the
# way tokens do). Also networks' own noise: rt, via, amp (from &amp;), https.
_ENGLISH = """
a about above after again against all am an and any are aren as at be because been before
being below between both but by can cannot could couldn did didn do does doesn doing don down
during each few for from further had hadn has hasn have haven having he her here hers herself
him himself his how i if in into is isn it its itself just let ll me more most mustn my myself
no nor not now of off on once only or other ought our ours ourselves out over own re same shan
she should shouldn so some such than that the their theirs them themselves then there these they
this those through to too under until up ve very was wasn we were weren what when where which
while who whom why will with won would wouldn you your yours yourself yourselves also get got
like one would s t d m o y im its dont cant will just amp rt via http https www com co
"""
_POLISH = """
a aby ale albo ani az bo by byc byl byla bylo byly bede beda bez chce ci co coraz czy czyli
dla do dzis gdy gdzie go i ich ile im inne ja jak jakie jako je jednak jego jej jest jestem
jeszcze jesli juz ka kiedy kto ktora ktore ktory ktorzy ku lub ma maja mam mi mnie moze mozna
my na nad nam nas nawet nic nie niz no o od oraz po pod poza przed przez przy sa sie sobie
son ta tak takze tam te tego tej ten teraz tez to tu tutaj tych tylko tym u w we wiec wszystko
z za ze zeby
"""
STOPWORDS: frozenset[str] = frozenset(fold(w) for w in (_ENGLISH + _POLISH).split())


def is_keyword(token: str, exclude: frozenset[str] | set[str] = frozenset()) -> bool:
    return (
        len(token) > 1 and not token.isdigit() and token not in STOPWORDS and token not in exclude
    )


def top_keywords(
    token_lists: Iterable[list[str]], exclude: set[str], limit: int = 20
) -> list[dict[str, object]]:
    counts: Counter[str] = Counter()
    for tokens in token_lists:
        counts.update({tok for tok in tokens if is_keyword(tok, exclude)})
    return [{"term": term, "count": n} for term, n in _ranked(counts, limit)]


def top_phrases(
    token_lists: Iterable[list[str]], exclude: set[str], limit: int = 20
) -> list[dict[str, object]]:
    """Two consecutive keywords (both pass :func:`is_keyword`, except that a
    query word may be one of the two: "acme support" is worth seeing)."""
    counts: Counter[str] = Counter()
    for tokens in token_lists:
        seen: set[str] = set()
        for first, second in zip(tokens, tokens[1:], strict=False):
            if first in exclude and second in exclude:
                continue
            if is_keyword(first) and is_keyword(second):
                seen.add(f"{first} {second}")
        counts.update(seen)
    # A phrase seen once is noise, not a topic.
    return [{"phrase": p, "count": n} for p, n in _ranked(counts, limit) if n >= 2]


def _ranked(counts: Counter[str], limit: int) -> list[tuple[str, int]]:
    # Ties broken alphabetically so reports are reproducible.
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
