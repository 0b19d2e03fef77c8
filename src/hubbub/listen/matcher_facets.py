"""A post's facts as one set of *feature keys*, for the compiled matcher.

Every leaf of a query (see :mod:`hubbub.query.ast`) is the presence of one
key in this set, spelled so that kinds cannot collide:

============================  ======================================
node                          key
============================  ======================================
``Term(t)``                   ``t`` (tokens are letters/digits only)
``Phrase(t1, …, tn)``         the tuple ``(t1, …, tn)``
``Hashtag(tag)``              ``"#" + tag``
``Mention(handle)``           ``"@" + handle``
``From(handle)``              ``"from:" + handle``
``Lang(code)``                ``"lang:" + code``
``Network(name)``             ``"network:" + name``
``IsReply()`` …               ``"is:reply"``, ``"is:repost"``, ``"has:links"``, ``"has:media"``
``Since(at)`` / ``Until(at)``  ``("since:", at)`` / ``("until:", at)``
============================  ======================================

:func:`atom_key` gives a leaf's key and :class:`FeatureExtractor` a post's
key set; a leaf is true of a post exactly when its key is in the post's set,
by the rules of :mod:`hubbub.query.evaluate` (the forms come from
``handle_forms``/``lang_forms`` there, so there is one definition of each rule).

Text is tokenised word by word through a bounded cache: ``fold`` works
character by character (casefold, NFKD, dropping marks), and whitespace folds
to whitespace, so ``tokenize(text)`` is the concatenation of ``tokenize(w)``
for ``w`` in ``text.split()`` (tested with random text against ``tokenize``).
Words repeat (Zipf), so most words cost one dict lookup instead of a fold.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import datetime
from itertools import chain, compress
from operator import not_

from hubbub.post import NETWORKS, Post, utc
from hubbub.query import ast
from hubbub.query.evaluate import handle_forms, lang_forms
from hubbub.query.tokens import _TOKEN_RE, fold, tokenize

Key = str | tuple[str, ...] | tuple[str, datetime]

_NETWORK_KEYS = {name: "network:" + name for name in NETWORKS}

# Past this many cached words the cache starts again: a stream's vocabulary
# (URLs, typos, handles) grows without bound, its common words come back fast.
# About 10 MB at this size (two dict entries and a tuple a word), per matcher.
WORD_CACHE_LIMIT = 50_000


def atom_key(node: ast.Node) -> Key | None:
    """The feature key of a leaf node; ``None`` for ``And``/``Or``/``Not``."""
    match node:
        case ast.Term(token=token):
            return token
        case ast.Phrase(tokens=tokens):
            return tokens
        case ast.Hashtag(tag=tag):
            return "#" + tag
        case ast.Mention(handle=handle):
            return "@" + handle
        case ast.From(handle=handle):
            return "from:" + handle
        case ast.Lang(code=code):
            return "lang:" + code
        case ast.Network(name=name):
            return "network:" + name
        case ast.IsReply():
            return "is:reply"
        case ast.IsRepost():
            return "is:repost"
        case ast.HasLinks():
            return "has:links"
        case ast.HasMedia():
            return "has:media"
        case ast.Since(at=at):
            return ("since:", at)
        case ast.Until(at=at):
            return ("until:", at)
    return None


class WordTokens:
    """``tokenize`` with a per-word cache (see the module docstring for why
    splitting on whitespace first gives the same tokens).

    Every word is cached as its tuple of tokens, for the tokens in order
    (``chain`` of one ``map()``, in C); the words that are one token (most)
    are also cached as that token, so a post's token *set* is ``set()`` of
    one ``map()``, without building the tuples' chain."""

    __slots__ = ("_one", "_all")

    def __init__(self) -> None:
        self._one: dict[str, str] = {}
        self._all: dict[str, tuple[str, ...]] = {}

    def _learn(self, word: str) -> tuple[str, ...]:
        if len(self._all) >= WORD_CACHE_LIMIT:
            self._one.clear()
            self._all.clear()
        tokens = self._all[word] = tuple(tokenize(word))
        if len(tokens) == 1:
            self._one[word] = tokens[0]
        return tokens

    def token_set(self, words: list[str]) -> set[str]:
        """The set of the tokens of ``words`` (``text.split()``)."""
        found: set[str | None] = set(map(self._one.get, words))
        if None in found:
            found.discard(None)
            cached = self._all
            new: list[str] = []
            # Tokens are never empty strings, so not_() picks the words that
            # are not cached as one token: both steps stay in C.
            for word in compress(words, map(not_, map(self._one.get, words))):
                tokens = cached.get(word)
                if tokens is None:
                    new.append(word)
                else:
                    found.update(tokens)
            for tokens in self._learn_all(new):
                found.update(tokens)
        return found  # type: ignore[return-value]

    def _learn_all(self, words: list[str]) -> list[tuple[str, ...]]:
        """``_learn`` for several words with one ``fold`` of them joined by
        newlines (fold's fixed cost is most of a short word's): fold works
        character by character and keeps a newline, so the folded text splits
        back into the words' folds, unless some fold made a newline itself;
        then, told by the count, each word is folded alone."""
        if len(words) < 2:
            return [self._learn(word) for word in words]
        folded = fold("\n".join(words)).split("\n")
        if len(folded) != len(words):
            return [self._learn(word) for word in words]
        if len(self._all) + len(words) >= WORD_CACHE_LIMIT:
            self._one.clear()
            self._all.clear()
        out = []
        for word, text in zip(words, folded, strict=True):
            # tokenize() is _TOKEN_RE.findall(fold(text)): the fold is done.
            tokens = self._all[word] = tuple(_TOKEN_RE.findall(text))
            if len(tokens) == 1:
                self._one[word] = tokens[0]
            out.append(tokens)
        return out

    def ordered(self, words: list[str]) -> list[str]:
        """The tokens of ``words`` in order."""
        parts = list(map(self._all.get, words))
        if None in parts:
            for i, tokens in enumerate(parts):
                if tokens is None:
                    parts[i] = self._learn(words[i])
        return list(chain.from_iterable(parts))  # type: ignore[arg-type]

    def __call__(self, text: str) -> list[str]:
        """``tokenize(text)``: the tokens in order."""
        return self.ordered(text.split())


def has_phrase(tokens: list[str], phrase: list[str]) -> bool:
    """``evaluate.contains_phrase``, searching for the first token in C."""
    first, width = phrase[0], len(phrase)
    start = 0
    try:
        while True:
            at = tokens.index(first, start)
            if tokens[at : at + width] == phrase:
                return True
            start = at + 1
    except ValueError:
        return False


class FeatureExtractor:
    """Builds a post's feature key set, computing only the kinds of facet some
    query asks about (``keys`` is every atom key of the compiled queries)."""

    def __init__(self, keys: Iterable[Key]) -> None:
        keyset = set(keys)
        self.tokens = WordTokens()
        phrases = [k for k in keyset if isinstance(k, tuple) and isinstance(k[1], str)]
        # A phrase is looked for only in posts that have all of its tokens;
        # then the tokens are searched for it in order.
        self.phrases: dict[str, list[tuple[Key, frozenset[str], list[str]]]] = {}
        for phrase in phrases:
            words = [str(t) for t in phrase]
            # Keyed by its longest token: long words are the rarer ones, so
            # fewer posts get as far as the order check.
            trigger = max(words, key=len)
            self.phrases.setdefault(trigger, []).append((phrase, frozenset(words), words))
        self.phrase_first = frozenset(self.phrases)  # the trigger tokens
        self.text = any(isinstance(k, str) and k.isalnum() for k in keyset) or bool(phrases)
        self.tags = any(isinstance(k, str) and k.startswith("#") for k in keyset)
        self.mentions = any(isinstance(k, str) and k.startswith("@") for k in keyset)
        self.authors = any(isinstance(k, str) and k.startswith("from:") for k in keyset)
        self.langs = any(isinstance(k, str) and k.startswith("lang:") for k in keyset)
        dates = [k for k in keyset if isinstance(k, tuple) and isinstance(k[1], datetime)]
        self.since = sorted(at for kind, at in dates if kind == "since:")
        self.until = sorted(at for kind, at in dates if kind == "until:")
        # Facet values repeat (authors, languages, popular tags): their keys
        # are cached per kind and value, bounded like the word cache.
        self._forms: dict[str, dict[str, tuple[str, ...]]] = {
            kind: {} for kind in ("#", "@", "from:", "lang:")
        }

    def _keys_of(self, kind: str, value: str) -> tuple[str, ...]:
        """The keys of one facet value (``kind`` is ``#``, ``@``, ``from:`` or ``lang:``)."""
        cache = self._forms[kind]
        found = cache.get(value)
        if found is None:
            if kind == "#":
                found = ("#" + fold(value),)
            elif kind == "lang:":
                found = tuple(kind + code for code in lang_forms(value))
            else:
                found = tuple(kind + form for form in handle_forms(value))
            if len(cache) >= WORD_CACHE_LIMIT:
                cache.clear()
            cache[value] = found
        return found

    def features(self, post: Post) -> set[Key]:
        """The post's key set."""
        found: set[Key]
        if self.text and not post.deleted and post.text:
            # A deleted post has no text to match (evaluate.py): no text keys.
            words = post.text.split()
            found = self.tokens.token_set(words)  # type: ignore[assignment]
            if self.phrase_first:
                tokens: list[str] | None = None
                for first in self.phrase_first.intersection(found):
                    for phrase, needed, ordered in self.phrases[first]:
                        if needed.issubset(found):
                            if tokens is None:
                                tokens = self.tokens.ordered(words)
                            if has_phrase(tokens, ordered):
                                found.add(phrase)
        else:
            found = set()
        add = found.add
        add(_NETWORK_KEYS.get(post.network) or "network:" + post.network)
        if post.reply_to is not None:
            add("is:reply")
        if post.repost_of is not None:
            add("is:repost")
        if post.links:
            add("has:links")
        if post.media_count > 0:
            add("has:media")
        keys_of, forms = self._keys_of, self._forms
        if self.tags and post.hashtags:
            cached = forms["#"]
            for tag in post.hashtags:
                found.update(cached.get(tag) or keys_of("#", tag))
        if self.mentions and post.mentions:
            cached = forms["@"]
            for mention in post.mentions:
                found.update(cached.get(mention) or keys_of("@", mention))
        if self.authors:
            handle = post.author.handle
            found.update(forms["from:"].get(handle) or keys_of("from:", handle))
        if self.langs and post.langs:
            cached = forms["lang:"]
            for lang in post.langs:
                found.update(cached.get(lang) or keys_of("lang:", lang))
        if self.since or self.until:
            at = utc(post.created_at)
            # since:D holds for every D <= at; until:D for every D > at.
            found.update(("since:", d) for d in self.since[: bisect_right(self.since, at)])
            found.update(("until:", d) for d in self.until[bisect_right(self.until, at) :])
        return found
