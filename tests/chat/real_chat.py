"""A fixed chat built at test time from the real payloads in ../shared/data
(never copied into the repository): real authors and their real words,
arranged into a one-hour chat on #hubbubchat whose every count is written
down while it is built (``Expected``), independently of hubbub.chat."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hubbub.formats import Context, FormatError, parse_record
from hubbub.formats.reader import records
from hubbub.post import Post
from tests.conftest import PAYLOADS

TAG = "hubbubchat"
DAY = date(2026, 5, 14)
START = datetime(2026, 5, 14, 18, 0, tzinfo=UTC)
FILES = (
    "x_v2_twarc2/brexit.jsonl",
    "x_v2_twarc2/2sets.jsonl",
    "x_v2_twarc2/geo_tweets.jsonl",
    "x_v2_twarc2/many_urls.jsonl",
    "bluesky_jetstream/jetstream_v1_capture_2026-07-04.jsonl",
    "bluesky_xrpc/app.bsky.feed.searchPosts_q-redistricting.json",
    "mastodon/localhost_api_v1_timelines_tag_hoot.json",
    "mastodon/status_entity_example.json",
)


def real_posts() -> dict[str, list[Post]]:
    """One real post per distinct author, by network, in file order."""
    out: dict[str, list[Post]] = {}
    seen: set[tuple[str, str]] = set()
    for name in FILES:
        path: Path = PAYLOADS / name
        for record in records(path.read_bytes()):
            if record.error is not None:
                continue
            try:
                _fmt, items = parse_record(record.value, Context(source=name))
            except FormatError:
                continue
            for item in items:
                if not isinstance(item, Post) or item.repost_of or not item.text.strip():
                    continue
                if f"#{TAG}" in item.text.lower() or (item.network, item.author.id) in seen:
                    continue
                seen.add((item.network, item.author.id))
                out.setdefault(item.network, []).append(item)
    return out


@dataclass
class Expected:
    answers: dict[int, list[str]] = field(default_factory=dict)  # question → answer ids
    question_text: dict[int, str] = field(default_factory=dict)
    participants: set[tuple[str, str]] = field(default_factory=set)  # (network, author id)
    earlier: set[tuple[str, str]] = field(default_factory=set)  # posted with the tag before DAY


@dataclass
class Chat:
    posts: list[Post]
    hosts: list[tuple[str, str]]  # (network, handle)
    expected: Expected


def build_chat() -> Chat:
    """The chat, with what every count must be (see the comments inline)."""
    pool = real_posts()
    xs, skies, mastos = pool.get("x", []), pool.get("bluesky", []), pool.get("mastodon", [])
    assert len(xs) >= 30 and len(skies) >= 8 and mastos, (len(xs), len(skies), len(mastos))
    host_x, host_sky = xs[0], skies[0]
    people = xs[1:] + skies[1:] + mastos  # everyone but the host's two accounts
    exp = Expected()
    posts: list[Post] = []
    clock = iter(START + timedelta(seconds=20 * i) for i in range(10_000))

    def say(base: Post, text: str, *, on_day: bool = True, **changes: object) -> Post:
        post = dataclasses.replace(
            base,
            id=f"{base.id}#chat{len(posts)}",
            text=f"{text} #{TAG}",
            hashtags=(TAG,),
            created_at=next(clock) if on_day else changes.pop("at"),  # type: ignore[arg-type]
            reply_to=None,
            repost_of=None,
            quote_of=None,
            metrics={},
            deleted=False,
            edit_ids=(),
            version_id=None,
            aliases=(),
            embedded=False,
            url=None,
        )
        post = dataclasses.replace(post, **changes)
        posts.append(post)
        if on_day:
            exp.participants.add((post.network, post.author.id))
        return post

    def words(base: Post) -> str:
        return " ".join(base.text.split())

    # Earlier chats: five people (and the host) posted with the tag before the day.
    for base in [host_x, *people[:5]]:
        say(base, words(base), on_day=False, at=datetime(2026, 5, 7, 18, 5, tzinfo=UTC))
        exp.earlier.add((base.network, base.author.id))
    # The day after: counts for nothing on DAY.
    say(people[6], "A1 too late", on_day=False, at=datetime(2026, 5, 15, 9, 0, tzinfo=UTC))

    questions: dict[int, list[Post]] = {}
    for n, source in zip((1, 2, 3, 4), xs[-4:], strict=True):
        q = say(host_x, f"Q{n}: {words(source)}")
        questions[n] = [q]
        exp.question_text[n] = words(source)
        exp.answers[n] = []
    # The host cross-posts Q2 on Bluesky: the same question, one more post of it.
    questions[2].append(say(host_sky, f"Q2 {exp.question_text[2]}"))
    # Someone who is not a host writes "Q5": not a question while hosts are known.
    say(people[7], f"Q5: {words(people[7])}")

    for i, base in enumerate(people[:24]):
        n = 1 + i % 3  # questions 1-3 get answers; 4 stays unanswered
        if i % 4 == 0 and base.network == "x":
            # A reply to the question without a prefix (on X a reply starts with @host).
            a = say(base, f"@{host_x.author.handle} {words(base)}", reply_to=questions[n][0].id)
        elif i % 4 == 1:
            a = say(base, f"a{n}. {words(base)}", metrics={"likes": i, "reposts": 1})
        elif i % 4 == 2:
            # "A3" replying to Q1's post counts for 3, not 1.
            if base.network == "x":
                a = say(base, f"A3 {words(base)}", reply_to=questions[1][0].id)
                n = 3
            else:
                a = say(base, f"A{n} {words(base)}")
        else:
            a = say(base, f"A{n} {words(base)}")
        exp.answers[n].append(a.id)
    # A Bluesky reply to the host's Bluesky Q2 post answers question 2.
    sky_reply = say(skies[-1], words(skies[-1]), reply_to=questions[2][1].id)
    exp.answers[2].append(sky_reply.id)
    # Reposts of a question are never questions or answers (their authors take part).
    say(
        people[25],
        f"RT @{host_x.author.handle}: Q1: {exp.question_text[1]}",
        repost_of=questions[1][0].id,
    )
    # A reply to an answer is not an answer; neither is chatter, nor "A1a".
    first_answer = next(p for p in posts if p.id == exp.answers[1][0])
    if first_answer.network == people[26].network:
        say(people[26], f"agreed! {words(people[26])}", reply_to=first_answer.id)
    else:
        say(people[26], f"agreed! {words(people[26])}")
    say(people[27], f"A1a {words(people[27])}")
    say(people[28], f"hello all, {words(people[28])}")
    return Chat(posts, [("x", host_x.author.handle), ("bluesky", host_sky.author.handle)], exp)
