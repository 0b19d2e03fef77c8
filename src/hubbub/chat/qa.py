"""Questions and answers of a chat, worked out from its stored posts.

Pure functions: the room's Q&A view (``/api/rooms/{tag}/qa``) and the recap
both call ``build_qa`` over every stored post of the chat, so they cannot
disagree, and neither depends on what one browser happened to load.

The rules:

- A question is a post starting with ``Qn`` (``Q1:``, ``Q1 ``, ``q1.``; after
  any leading @mentions, which X puts in front of replies) written by a host,
  or by anyone when the room has no hosts.
- An answer is a post starting with ``An``, or a reply to one of question n's
  posts. A post starting with ``An`` counts for n even when it replies to
  another question: what the author wrote beats where the client threaded it.
- Reposts are never questions or answers (they repeat someone else's words).
- A host who cross-posts Q1 to three networks asked one question: every Q1
  post of a host belongs to question 1; replies to any of them are answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from hubbub.post import Post
from hubbub.query.tokens import fold

# Leading mentions (".@name" too, the old X trick to make a reply public),
# then Q or A, the number, and no letter or digit right after it: "Q1:",
# "q1.", "A2 " and "A3" at the end count; "A1a", "Q10x" and "a 1" do not.
_PREFIX_RE = re.compile(r"^\s*(?:\.?@\S+\s+)*([QqAa])(\d{1,3})(?!\w)")
_PUNCT_AFTER_RE = re.compile(r"^\s*[:.)\-–—]?\s*")
_SPACE_RE = re.compile(r"\s+")

# (network, folded handle): how rooms name their hosts.
HostKey = tuple[str, str]
PostKey = tuple[str, str]  # (network, post id)


def qa_prefix(text: str) -> tuple[str, int] | None:
    """``("Q", n)`` or ``("A", n)`` when ``text`` starts with Qn / An."""
    m = _PREFIX_RE.match(text)
    if m is None:
        return None
    return m.group(1).upper(), int(m.group(2))


def is_host(post: Post, hosts: frozenset[HostKey]) -> bool:
    if post.author.id.startswith("web:guest:"):
        return False  # a guest's chosen name must not borrow a host's rights
    return (post.author.network, fold(post.author.handle.lstrip("@"))) in hosts


def question_text(text: str, tag: str) -> str:
    """The question's own words: no leading mentions, no ``Qn:`` prefix, no
    chat hashtag; runs of whitespace become one space."""
    m = _PREFIX_RE.match(text)
    rest = text[m.end() :] if m else text
    rest = _PUNCT_AFTER_RE.sub("", rest, count=1)
    wanted = fold(tag.lstrip("#"))
    words = [w for w in _SPACE_RE.split(rest) if not _is_tag(w, wanted)]
    return " ".join(w for w in words if w)


def _is_tag(word: str, folded_tag: str) -> bool:
    if not word.startswith("#"):
        return False
    # "#chat," and "#chat." at the end of a sentence are the hashtag too.
    return fold(word[1:].rstrip(".,;:!?)")) == folded_tag


@dataclass(frozen=True, slots=True)
class Question:
    number: int
    posts: tuple[Post, ...]  # the host's Qn posts, earliest first (cross-posts)
    answers: tuple[Post, ...]  # earliest first

    @property
    def post(self) -> Post:
        return self.posts[0]


@dataclass(frozen=True, slots=True)
class QA:
    questions: tuple[Question, ...]  # by number
    # Answers naming a question nobody asked (yet): "A7" with no Q7.
    orphans: dict[int, tuple[Post, ...]]

    def question(self, number: int) -> Question | None:
        for q in self.questions:
            if q.number == number:
                return q
        return None


def _order(post: Post) -> tuple[object, ...]:
    return (post.created_at, post.network, post.id)


def build_qa(posts: Iterable[Post], hosts: frozenset[HostKey] = frozenset()) -> QA:
    """Group a chat's posts into questions and answers (see the module doc)."""
    live = sorted((p for p in posts if not p.deleted and p.repost_of is None), key=_order)
    question_posts: dict[int, list[Post]] = {}
    asked_by: dict[PostKey, int] = {}  # question post → its number
    for post in live:
        prefix = qa_prefix(post.text)
        if prefix is None or prefix[0] != "Q":
            continue
        if hosts and not is_host(post, hosts):
            continue
        question_posts.setdefault(prefix[1], []).append(post)
        asked_by[(post.network, post.id)] = prefix[1]
        # A Mastodon reply names its parent by the server's local id
        # ("SERVER/LOCALID", "*/LOCALID" when the server is unknown), one of
        # the question's aliases, not by the uri the post is keyed by.
        for alias in post.aliases:
            asked_by.setdefault((post.network, alias), prefix[1])
            asked_by.setdefault((post.network, "*/" + alias.split("/", 1)[-1]), prefix[1])

    answers: dict[int, list[Post]] = {}
    for post in live:
        if (post.network, post.id) in asked_by:
            continue
        prefix = qa_prefix(post.text)
        number: int | None = None
        if prefix is not None and prefix[0] == "A":
            number = prefix[1]
        elif post.reply_to is not None:
            number = asked_by.get((post.network, post.reply_to))
        if number is not None:
            answers.setdefault(number, []).append(post)

    questions = tuple(
        Question(n, tuple(question_posts[n]), tuple(answers.get(n, ())))
        for n in sorted(question_posts)
    )
    orphans = {n: tuple(a) for n, a in sorted(answers.items()) if n not in question_posts}
    return QA(questions, orphans)
