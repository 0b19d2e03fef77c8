"""The Q&A rules on hand-made posts: each rule of hubbub.chat.qa once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hubbub.chat.qa import build_qa, qa_prefix, question_text
from hubbub.post import Author, Post

T0 = datetime(2026, 5, 14, 18, tzinfo=UTC)
_n = iter(range(1, 10_000))


def post(text: str, handle: str = "someone", network: str = "x", **kw: object) -> Post:
    n = next(_n)
    return Post(
        network=network,
        id=kw.pop("id", f"{network}-{n}"),  # type: ignore[arg-type]
        author=Author(network, f"id-{handle}", handle),
        text=text,
        created_at=T0 + timedelta(seconds=n),
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Q1: what?", ("Q", 1)),
        ("Q1 what?", ("Q", 1)),
        ("q1. what?", ("Q", 1)),
        ("A12 yes", ("A", 12)),
        ("a3) yes", ("A", 3)),
        ("@host @other A2 yes", ("A", 2)),
        (".@host Q4 hm", ("Q", 4)),
        ("A1", ("A", 1)),
        ("A1a more", None),
        ("a 1 star review", None),
        ("Q10x", None),
        ("about Q1", None),
    ],
)
def test_prefixes(text: str, expected: tuple[str, int] | None) -> None:
    assert qa_prefix(text) == expected


def test_question_text_drops_prefix_and_the_chat_hashtag_only() -> None:
    assert question_text("Q1: What got you   started? #Chat #other", "chat") == (
        "What got you started? #other"
    )
    assert question_text("@a q2. Why? #CHAT.", "#chat") == "Why?"


def test_hosts_ask_and_everyone_answers() -> None:
    hosts = frozenset({("x", "host")})
    q1 = post("Q1: first? #c", "host")
    q2 = post("Q2 second #c", "host")
    fake = post("Q3: not a host #c", "guest")
    a1 = post("A1 yes #c", "ann")
    reply = post("no prefix #c", "bob", reply_to=q2.id)
    a3_reply_to_q1 = post("A2 threaded under Q1 #c", "cat", reply_to=q1.id)
    repost = post("RT Q1: first?", "dan", repost_of=q1.id)
    repost_a = post("A1 reposted", "eve", repost_of=a1.id)
    reply_to_answer = post("agree #c", "fay", reply_to=a1.id)
    orphan = post("A9 to nothing", "gil")
    qa = build_qa(
        [q1, q2, fake, a1, reply, a3_reply_to_q1, repost, repost_a, reply_to_answer, orphan],
        hosts,
    )
    assert [q.number for q in qa.questions] == [1, 2]
    assert [a.id for a in qa.questions[0].answers] == [a1.id]
    assert [a.id for a in qa.questions[1].answers] == [reply.id, a3_reply_to_q1.id]
    assert [a.id for a in qa.orphans[9]] == [orphan.id]


def test_anyone_asks_when_no_host_is_known() -> None:
    q = post("Q1: anyone? #c", "someone")
    qa = build_qa([q, post("A1 me #c", "x2")])
    assert [(x.number, len(x.answers)) for x in qa.questions] == [(1, 1)]


def test_a_cross_posted_question_is_one_question() -> None:
    hosts = frozenset({("x", "host"), ("bluesky", "host.bsky.social")})
    qx = post("Q1: hi #c", "host")
    qb = post("Q1: hi #c", "host.bsky.social", network="bluesky")
    reply_b = post("answer on bluesky", "b", network="bluesky", reply_to=qb.id)
    qa = build_qa([qx, qb, reply_b], hosts)
    assert len(qa.questions) == 1
    assert [p.id for p in qa.questions[0].posts] == [qx.id, qb.id]
    assert [p.id for p in qa.questions[0].answers] == [reply_b.id]


def test_a_guest_borrowing_a_hosts_name_does_not_ask() -> None:
    hosts = frozenset({("web", "host")})
    guest = Post("web", "web:1", Author("web", "web:guest:abc", "host"), "Q1: fake", T0)
    assert build_qa([guest], hosts).questions == ()
