"""``sim:TAG`` — a built-in, deterministic simulator of a live hashtag chat.

It emits the payloads the real networks send (X API v2 filtered-stream lines,
Bluesky Jetstream commit events, Mastodon streaming ``update`` messages), so
everything downstream runs through the real parsers, exactly as with live
connectors.

Timing: a chat has its own clock ("chat seconds"): an intro, then question
``Qn`` every ``QUESTION_INTERVAL`` chat seconds; ``speed`` compresses it (at
speed 10 a question comes every 15 s). ``rate`` is posts per (wall) second on
average, whatever the speed: posts come in waves (each question opens one),
the quieter part of a wave making up for its burst. Timestamps in the payloads are ``start`` plus the
wall offset, so a live room sees posts "from now", never from the future.

Determinism: ``schedule(tag, seed, rate, speed, start)`` is a pure generator;
the same arguments give the same payloads byte for byte. Post ids derive from
the timestamps, so a restarted demo (new ``start``) makes new posts rather
than replays the store would drop as duplicates.
"""

from __future__ import annotations

import asyncio
import html
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from hubbub.formats import Context
from hubbub.sources.base import Clock, RawItem, Sleep
from hubbub.sources.sim_cast import (
    ANSWERS,
    APPS,
    BRAND,
    CHIT_CHAT,
    CLOSERS,
    COMPLAINER,
    COMPLAINTS,
    CROSS_POSTER,
    CW_TEXTS,
    GUEST_ANSWERS,
    HOST_REACTIONS,
    MASTODON_SERVER,
    OPENERS,
    POLISH,
    POLISH_ANSWERS,
    POLISH_CHIT_CHAT,
    POLISH_SIDE_REPLIES,
    QUESTIONS,
    SALES_ASKER,
    SALES_QUESTIONS,
    SENSITIVE_TEXTS,
    SIDE_REPLIES,
    SPAM_TEXTS,
    SPAMMER,
    Cast,
    Persona,
    cast_for,
    cid_for,
    digest_int,
    sim_roles,
    tid,
)
from hubbub.sources.sim_render import Seg, bsky_facets, iso, masto_html, plain_text, x_entities
from hubbub.tags import parse_tag

__all__ = ["SimEvent", "SimSource", "schedule", "sim_roles"]

QUESTION_INTERVAL = 150.0  # chat seconds between questions ("every few minutes")
# Bursts: posts come in waves of about BURST_CYCLE wall seconds (a question
# always starts one): the first BURST_SHARE of a wave at BURST_FACTOR × the
# rate, the rest slower, so any window of a few waves averages ``rate``.
BURST_CYCLE = 10.0
BURST_SHARE = 0.2
BURST_FACTOR = 3.0
_CALM_FACTOR = (1.0 - BURST_SHARE * BURST_FACTOR) / (1.0 - BURST_SHARE)
_X_EPOCH_MS = 1288834974657  # Twitter snowflake epoch

# Kinds of crowd post after Q1, with weights. Rarer roles are also forced into
# the first minutes (see _FORCED) so a short run already shows every one.
_WEIGHTS: dict[str, int] = {
    "answer": 44,
    "guest_answer": 7,
    "host_reaction": 5,
    "side_reply": 12,
    "repost": 9,
    "chit_chat": 6,
    "crosspost": 3,
    "polish": 4,
    "spam": 2,
    "complaint": 2,
    "sales": 2,
    "cw": 2,
    "sensitive": 1,
}
_FORCED = (
    "answer", "repost", "crosspost", "polish", "guest_answer", "spam", "side_reply",
    "complaint", "sales", "cw", "host_reaction", "sensitive",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SimEvent:
    """One simulated post: when (seconds after start), and the payload."""

    offset: float
    network: str
    fmt: str  # hubbub.formats name of ``value``
    value: dict[str, Any]
    kind: str  # the role it plays: "question", "answer", "spam", ...
    author: str  # persona key
    question: int | None = None  # the question it answers or asks


@dataclass(slots=True)
class _Posted:
    """What later posts need to reply to or repost this one."""

    network: str
    person: Persona
    kind: str
    question: int | None
    post_id: str  # X tweet id, Bluesky at-uri, Mastodon local id on the stream server
    cid: str = ""
    uri: str = ""  # Mastodon status uri
    root: tuple[str, str] | None = None  # Bluesky thread root (uri, cid)
    conversation: str = ""  # X conversation id
    tweet: dict[str, Any] | None = None  # X tweet object, for retweet includes
    text: str = ""


@dataclass(slots=True)
class _State:
    rng: random.Random
    cast: Cast
    tag: str
    start: datetime
    # Mixed into ids so two simulated chats (other tags) never share a post id.
    salt: int = 0
    seq: int = 0
    question: int = 0
    questions: dict[str, _Posted] = field(default_factory=dict)  # network → current Q post
    recent: deque[_Posted] = field(default_factory=lambda: deque(maxlen=60))


# --------------------------------------------------------------------------- payloads


def _x_user(person: Persona) -> dict[str, Any]:
    return {
        "id": person.x_id,
        "name": person.name,
        "username": person.x_username,
        "created_at": "2016-04-12T09:30:00.000Z",
        "description": person.bio,
        "verified": False,
        "protected": False,
        "profile_image_url": f"https://pbs.twimg.com/profile_images/{person.x_id}/avatar_normal.jpg",
        "public_metrics": {
            "followers_count": person.followers,
            "following_count": 180 + digest_int(person.key) % 900,
            "tweet_count": 1000 + digest_int("tc", person.key) % 20000,
            "listed_count": 3,
        },
    }


def _x_payload(
    st: _State, person: Persona, segs: list[Seg], when: datetime, *,
    reply_to: _Posted | None = None, retweet_of: _Posted | None = None, sensitive: bool = False,
) -> tuple[dict[str, Any], _Posted]:  # fmt: skip
    millis = int(when.timestamp() * 1000)
    tweet_id = str(((millis - _X_EPOCH_MS) << 22) | ((st.salt % 1024) << 12) | (st.seq % 4096))
    users = {person.x_id: _x_user(person)}
    includes_tweets: list[dict[str, Any]] = []
    refs: list[dict[str, str]] = []
    if retweet_of is not None and retweet_of.tweet is not None:
        original = retweet_of.tweet
        text = f"RT @{retweet_of.person.x_username}: {original['text']}"
        entities = {
            "mentions": [
                {
                    "start": 3,
                    "end": 4 + len(retweet_of.person.x_username),
                    "username": retweet_of.person.x_username,
                    "id": retweet_of.person.x_id,
                }
            ]
        }
        shift = len(text) - len(original["text"])
        for name in ("hashtags", "urls"):
            shifted = [
                {**e, "start": e["start"] + shift, "end": e["end"] + shift}
                for e in original.get("entities", {}).get(name, [])
            ]
            if shifted:
                entities[name] = shifted
        refs.append({"type": "retweeted", "id": retweet_of.post_id})
        includes_tweets.append(original)
        users[retweet_of.person.x_id] = _x_user(retweet_of.person)
    else:
        text, entities = x_entities(segs, st.cast, st.seq)
    tweet: dict[str, Any] = {
        "id": tweet_id,
        "text": text,
        "author_id": person.x_id,
        "created_at": iso(when),
        "conversation_id": tweet_id,
        "lang": "pl" if person.lang == "pl" else "en",
        "edit_history_tweet_ids": [tweet_id],
        "possibly_sensitive": sensitive,
        "reply_settings": "everyone",
        "public_metrics": {
            "retweet_count": 0,
            "reply_count": 0,
            "like_count": 0,
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": 0,
        },  # fmt: skip
    }
    if entities:
        tweet["entities"] = entities
    if reply_to is not None:
        refs.append({"type": "replied_to", "id": reply_to.post_id})
        tweet["in_reply_to_user_id"] = reply_to.person.x_id
        tweet["conversation_id"] = reply_to.conversation or reply_to.post_id
    if refs:
        tweet["referenced_tweets"] = refs
    includes: dict[str, Any] = {"users": list(users.values())}
    if includes_tweets:
        includes["tweets"] = includes_tweets
    value = {
        "data": tweet,
        "includes": includes,
        "matching_rules": [
            {"id": str(1700000000000000000 + digest_int(st.tag) % 10**15), "tag": f"#{st.tag}"}
        ],
    }
    posted = _Posted(
        "x",
        person,
        "",
        None,
        tweet_id,
        conversation=tweet["conversation_id"],
        tweet=tweet,
        text=text,
    )
    return value, posted


def _bsky_payload(
    st: _State, person: Persona, segs: list[Seg], when: datetime, *, reply_to: _Posted | None = None
) -> tuple[dict[str, Any], _Posted]:
    micros = int(when.timestamp() * 1_000_000)
    rkey = tid(micros, st.salt + st.seq)
    text, facets = bsky_facets(segs, st.cast)
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "createdAt": iso(when),
        "langs": [person.lang],
        "text": text,
    }
    if facets:
        record["facets"] = facets
    root = None
    if reply_to is not None:
        parent = {"cid": reply_to.cid, "uri": reply_to.post_id}
        root_uri, root_cid = reply_to.root or (reply_to.post_id, reply_to.cid)
        root = (root_uri, root_cid)
        record["reply"] = {"parent": parent, "root": {"cid": root_cid, "uri": root_uri}}
    cid = cid_for(person.did, rkey, text)
    value = {
        "did": person.did,
        # Jetstream sees the commit a moment after the client wrote it.
        "time_us": micros + 150_000 + digest_int("lag", st.seq) % 700_000,
        "kind": "commit",
        "commit": {
            "rev": tid(micros + 1, st.seq + 1),
            "operation": "create",
            "collection": "app.bsky.feed.post",
            "rkey": rkey,
            "record": record,
            "cid": cid,
        },
    }
    uri = f"at://{person.did}/app.bsky.feed.post/{rkey}"
    return value, _Posted("bluesky", person, "", None, uri, cid=cid, root=root, text=text)


def _masto_payload(
    st: _State, person: Persona, segs: list[Seg], when: datetime, *,
    reply_to: _Posted | None = None, spoiler: str = "",
) -> tuple[dict[str, Any], _Posted]:  # fmt: skip
    millis = int(when.timestamp() * 1000)
    local_id = str((millis << 16) | ((st.salt % 64) << 10) | (st.seq % 1024))
    # A remote author's status has its own id on its home server.
    home_id = (
        local_id
        if person.masto_host == MASTODON_SERVER
        else str((millis << 16) | ((st.salt % 64) << 10) | ((st.seq * 7 + 511) % 1024))
    )
    content, mentions, tags = masto_html(segs, st.cast)
    account_url = f"https://{person.masto_host}/@{person.masto_user}"
    status: dict[str, Any] = {
        "id": local_id,
        "created_at": iso(when),
        "in_reply_to_id": reply_to.post_id if reply_to else None,
        "in_reply_to_account_id": reply_to.person.masto_account_id if reply_to else None,
        "sensitive": bool(spoiler),
        "spoiler_text": spoiler,
        "visibility": "public",
        "language": person.lang,
        "uri": f"https://{person.masto_host}/users/{person.masto_user}/statuses/{home_id}",
        "url": f"{account_url}/{home_id}",
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "edited_at": None,
        "content": content,
        "reblog": None,
        "application": {"name": APPS[digest_int("app", person.key) % len(APPS)], "website": None},
        "account": {
            "id": person.masto_account_id,
            "username": person.masto_user,
            "acct": person.masto_acct,
            "display_name": person.name,
            "locked": False,
            "bot": person is SPAMMER,
            "discoverable": True,
            "group": False,
            "created_at": "2022-11-05T00:00:00.000Z",
            "note": f"<p>{html.escape(person.bio)}</p>" if person.bio else "",
            "url": account_url,
            "uri": f"https://{person.masto_host}/users/{person.masto_user}",
            "avatar": f"https://files.{person.masto_host}/avatars/{person.masto_user}.png",
            "followers_count": person.followers,
            "following_count": 200,
            "statuses_count": 1500,
            "emojis": [],
            "fields": [],
        },
        "media_attachments": [],
        "mentions": mentions,
        "tags": tags,
        "emojis": [],
        "card": None,
        "poll": None,
    }
    # The WebSocket streaming API sends the status as a JSON *string*.
    value = {
        "stream": ["hashtag", st.tag.lower()],
        "event": "update",
        "payload": orjson.dumps(status).decode(),
    }
    posted = _Posted(
        "mastodon",
        person,
        "",
        None,
        local_id,
        uri=status["uri"],
        text=plain_text(segs, st.cast, "mastodon"),
    )
    return value, posted


_FMT = {"x": "x-v2", "bluesky": "bluesky", "mastodon": "mastodon"}


def _emit(
    st: _State, network: str, person: Persona, segs: list[Seg], offset: float, kind: str, *,
    question: int | None = None, reply_to: _Posted | None = None,
    retweet_of: _Posted | None = None, spoiler: str = "", sensitive: bool = False,
) -> SimEvent:  # fmt: skip
    when = st.start + timedelta(seconds=offset)
    if network == "x":
        value, posted = _x_payload(
            st, person, segs, when, reply_to=reply_to, retweet_of=retweet_of, sensitive=sensitive
        )
    elif network == "bluesky":
        value, posted = _bsky_payload(st, person, segs, when, reply_to=reply_to)
    else:
        value, posted = _masto_payload(st, person, segs, when, reply_to=reply_to, spoiler=spoiler)
    posted.kind, posted.question = kind, question
    st.seq += 1
    if kind == "question":
        st.questions[network] = posted
    if kind not in ("spam", "repost"):
        st.recent.append(posted)
    return SimEvent(offset, network, _FMT[network], value, kind, person.key, question)


# --------------------------------------------------------------------------- the script


def _tag(st: _State) -> Seg:
    # People type a tag in different cases; rooms compare tags folded.
    roll = st.rng.random()
    return ("#", st.tag.lower() if roll < 0.15 and st.tag.lower() != st.tag else st.tag)


def _pick(st: _State, people: tuple[Persona, ...] | list[Persona]) -> Persona:
    return people[st.rng.randrange(len(people))]


def _network(st: _State, person: Persona) -> str:
    return person.networks[st.rng.randrange(len(person.networks))]


def _intro(st: _State) -> Iterator[tuple[str, Persona, list[Seg], str, dict[str, Any]]]:
    host, guests = st.cast.host, st.cast.guests
    for network in host.networks:
        segs: list[Seg] = [
            ("t", "Welcome to "),
            ("#", st.tag),
            ("t", "! I'm your host today, and our guest"),
        ]
        segs.append(("t", "s are " if len(guests) > 1 else " is "))
        for i, guest in enumerate(guests):
            if i:
                segs.append(("t", " and "))
            segs += [("t", f"{guest.name} ("), ("@", guest.key), ("t", ")")]
        segs.append(
            (
                "t",
                ". Questions come as Q1, Q2…, answer with A1, A2… and keep the hashtag in every post.",
            )
        )
        yield network, host, segs, "intro", {}
    for guest in guests:
        segs = [("t", "Thrilled to be the guest today, thanks for having me "), ("@", host.key),
                ("t", "! "), ("#", st.tag)]  # fmt: skip
        yield _network(st, guest), guest, segs, "guest_intro", {}
    for person in (st.cast.by_key(POLISH), _pick(st, st.cast.crowd)):
        text = st.rng.choice(POLISH_CHIT_CHAT if person.lang == "pl" else CHIT_CHAT)
        yield _network(st, person), person, [("t", text + " "), _tag(st)], "chit_chat", {}


def _answer_text(st: _State, person: Persona, n: int) -> str:
    if person.lang == "pl":
        return st.rng.choice(POLISH_ANSWERS)
    body = st.rng.choice(ANSWERS[(n - 1) % len(ANSWERS)])
    opener = st.rng.choice(OPENERS)
    text = opener + (body[0].upper() + body[1:] if not opener else body)
    return text + st.rng.choice(CLOSERS)


def _crowd_post(st: _State, kind: str) -> list[tuple[str, Persona, list[Seg], str, dict[str, Any]]]:
    """One crowd action (a cross-post is two posts)."""
    rng, cast, n = st.rng, st.cast, st.question
    question_posts = st.questions
    if kind in ("answer", "polish", "guest_answer"):
        if kind == "polish":
            person = cast.by_key(POLISH)
        elif kind == "guest_answer":
            person = _pick(st, cast.guests)
        else:
            person = _pick(st, cast.crowd)
        network = _network(st, person)
        text = rng.choice(GUEST_ANSWERS) if kind == "guest_answer" else _answer_text(st, person, n)
        style = rng.random()
        question = question_posts.get(network)
        # Answers carry an An prefix, are replies to the question, or both.
        reply = question if question is not None and style < 0.6 else None
        prefix = f"A{n}: " if style >= 0.2 or reply is None else ""
        segs: list[Seg] = [("t", prefix + text + " "), _tag(st)]
        if network == "x" and reply is not None:
            segs.insert(0, ("@", reply.person.key))  # an X reply starts with the parent's handle
            segs.insert(1, ("t", " "))
        return [(network, person, segs, "answer", {"reply_to": reply, "question": n})]
    if kind == "host_reaction" or kind == "side_reply":
        candidates = [p for p in st.recent if p.kind in ("answer", "chit_chat")]
        if kind == "side_reply":
            candidates = [p for p in candidates if p.person is not cast.host]
        if not candidates:
            return _crowd_post(st, "answer")
        parent = candidates[-1 - rng.randrange(min(len(candidates), 8))]
        if kind == "host_reaction":
            person, text = cast.host, rng.choice(HOST_REACTIONS)
        else:
            people = [
                p for p in cast.crowd if parent.network in p.networks and p is not parent.person
            ]
            person = _pick(st, people)
            text = rng.choice(POLISH_SIDE_REPLIES if person.lang == "pl" else SIDE_REPLIES)
        segs = [("@", parent.person.key), ("t", " " + text + " "), _tag(st)]
        return [
            (parent.network, person, segs, kind, {"reply_to": parent, "question": parent.question})
        ]
    if kind == "repost":
        # People retweet questions and answers, not "great point" replies.
        originals = [
            p for p in st.recent
            if p.network == "x" and p.tweet is not None and len(p.text) < 250
            and p.kind in ("answer", "crosspost", "intro")
        ] + [q for q in question_posts.values() if q.network == "x"]  # fmt: skip
        if not originals:
            return _crowd_post(st, "answer")
        original = originals[-1 - rng.randrange(min(len(originals), 10))]
        people = [p for p in cast.crowd if "x" in p.networks and p is not original.person]
        return [
            (
                "x",
                _pick(st, people),
                [],
                "repost",
                {"retweet_of": original, "question": original.question},
            )
        ]
    if kind == "crosspost":
        person = cast.by_key(CROSS_POSTER)
        segs = [("t", f"A{n}: " + _answer_text(st, person, n) + " "), ("#", st.tag)]
        return [(net, person, segs, "crosspost", {"question": n}) for net in ("x", "mastodon")]
    if kind == "spam":
        segs = [("t", rng.choice(SPAM_TEXTS) + " "), ("url", "https://free-followers.example/promo?ref=2931"),
                ("t", " "), ("#", st.tag), ("t", " #followback #giveaway")]  # fmt: skip
        return [("x", SPAMMER, segs, "spam", {})]
    if kind == "complaint":
        segs = [("@", BRAND.key), ("t", " " + rng.choice(COMPLAINTS) + " "), ("#", st.tag)]
        return [("x", cast.by_key(COMPLAINER), segs, "complaint", {})]
    if kind == "sales":
        person = cast.by_key(SALES_ASKER)
        return [
            ("x", person, [("t", rng.choice(SALES_QUESTIONS) + " "), ("#", st.tag)], "sales", {})
        ]
    if kind == "cw":
        warning, text = rng.choice(CW_TEXTS)
        people = [p for p in cast.crowd if "mastodon" in p.networks]
        segs = [("t", text + " "), ("#", st.tag)]
        return [("mastodon", _pick(st, people), segs, "cw", {"spoiler": warning})]
    if kind == "sensitive":
        people = [p for p in cast.crowd if "x" in p.networks]
        segs = [("t", rng.choice(SENSITIVE_TEXTS) + " "), ("#", st.tag)]
        return [("x", _pick(st, people), segs, "sensitive", {"sensitive": True})]
    # chit_chat
    person = _pick(st, cast.crowd)
    text = rng.choice(POLISH_CHIT_CHAT if person.lang == "pl" else CHIT_CHAT)
    return [(_network(st, person), person, [("t", text + " "), _tag(st)], "chit_chat", {})]


def schedule(
    tag: str,
    seed: int = 1,
    rate: float = 2.0,
    speed: float = 1.0,
    start: datetime | None = None,
) -> Iterator[SimEvent]:
    """The simulated chat, forever: events with their offset in seconds after
    ``start``. Pure: no clock, no sleeping (``SimSource`` paces it)."""
    if rate <= 0 or speed <= 0:
        raise ValueError("rate and speed must be positive")
    start = start or datetime.now(UTC)
    tag = tag.lstrip("#")
    st = _State(
        random.Random(f"sim:{seed}"),
        cast_for(seed),
        tag,
        start,
        salt=digest_int("ids", tag.lower(), seed),
    )
    offset = 0.0
    next_question = 0.0  # chat seconds; Q1 follows the intro at once
    forced = deque(_FORCED)
    kinds, weights = list(_WEIGHTS), list(_WEIGHTS.values())
    pending: deque[tuple[str, Persona, list[Seg], str, dict[str, Any]]] = deque(_intro(st))

    # Waves tile the question interval exactly, so questions keep their pace.
    interval = QUESTION_INTERVAL / speed
    cycle = interval / max(1, round(interval / BURST_CYCLE))
    last_question = 0.0  # wall offset of the latest question

    def next_offset() -> float:
        # A Poisson process whose intensity follows the waves: spend a unit
        # exponential draw across the phases (drawing each gap at the current
        # phase's rate would let long calm gaps skip bursts, lowering the average).
        budget = st.rng.expovariate(1.0)
        at = offset
        while True:
            position = (at - last_question) % cycle
            burst_end = BURST_SHARE * cycle
            if position < burst_end:
                intensity, left = rate * BURST_FACTOR, burst_end - position
            else:
                intensity, left = rate * _CALM_FACTOR, cycle - position
            left = max(left, 1e-6)  # float rounding at a phase edge must still advance
            if budget <= intensity * left:
                return at + budget / intensity
            budget -= intensity * left
            at += left

    while True:
        if not pending:
            if offset * speed >= next_question:
                st.question += 1
                next_question = offset * speed + QUESTION_INTERVAL
                last_question = offset
                n = st.question
                text = f"Q{n}: {QUESTIONS[(n - 1) % len(QUESTIONS)]} "
                for network in st.cast.host.networks:
                    pending.append(
                        (
                            network,
                            st.cast.host,
                            [("t", text), ("#", st.tag)],
                            "question",
                            {"question": n},
                        )
                    )
            else:
                # Every third post after Q1 is a forced role until each has shown up.
                if forced and st.seq % 3 == 0:
                    kind = forced.popleft()
                else:
                    kind = st.rng.choices(kinds, weights)[0]
                pending.extend(_crowd_post(st, kind))
        network, person, segs, kind, extra = pending.popleft()
        yield _emit(st, network, person, segs, offset, kind, **extra)
        offset = next_offset()


# --------------------------------------------------------------------------- the source


class SimSource:
    """``sim:TAG`` as a Source: ``schedule`` paced in real time (or by an
    injected clock), ending after ``limit`` posts when given."""

    def __init__(
        self,
        tag: str,
        *,
        rate: float = 2.0,
        seed: int = 1,
        speed: float = 1.0,
        limit: int | None = None,
        start: datetime | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        tag = tag.strip().lstrip("#")
        parse_tag(tag)  # the room it feeds: TagError (a ValueError) says what is wrong
        if rate <= 0 or speed <= 0:
            raise ValueError("sim: rate and speed must be positive")
        self.tag, self.rate, self.seed, self.speed = tag, rate, seed, speed
        self.limit, self.start = limit, start
        self.name = f"sim:{tag}"
        self._sleep, self._clock = sleep, clock

    def items(self, start: datetime | None = None) -> Iterator[RawItem]:
        """The RawItems without pacing (``hubbub simulate`` and tests)."""
        start = start or self.start or datetime.now(UTC)
        events = schedule(self.tag, self.seed, self.rate, self.speed, start)
        for index, event in enumerate(events):
            if self.limit is not None and index >= self.limit:
                return
            yield self._raw(event, index, start)

    def identity_items(self, start: datetime) -> list[RawItem]:
        """Jetstream identity events naming the handle of every Bluesky persona."""
        cast = cast_for(self.seed)
        people = (cast.host, *cast.guests, *cast.crowd, SPAMMER, BRAND)
        micros = int(start.timestamp() * 1_000_000)
        ctx = Context(source=self.name, fetched_at=start)
        items = []
        for n, person in enumerate(p for p in people if "bluesky" in p.networks):
            event = {
                "did": person.did,
                "time_us": micros + n,
                "kind": "identity",
                "identity": {
                    "did": person.did,
                    "handle": person.bsky_handle,
                    "seq": n + 1,
                    "time": start.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                },
            }
            items.append(RawItem(event, ctx, fmt="bluesky"))
        return items

    def _raw(self, event: SimEvent, index: int, start: datetime) -> RawItem:
        ctx = Context(
            source=self.name,
            fetched_at=start + timedelta(seconds=event.offset),
            server=MASTODON_SERVER if event.network == "mastodon" else None,
        )
        return RawItem(event.value, ctx, fmt=event.fmt, cursor=str(index + 1))

    async def __aiter__(self) -> AsyncIterator[RawItem]:
        start = self.start or datetime.now(UTC)
        began = self._clock()
        # A Jetstream client learns handles from identity events; the store
        # keeps them so Bluesky authors show a handle rather than a DID.
        for item in self.identity_items(start):
            yield item
        events = schedule(self.tag, self.seed, self.rate, self.speed, start)
        for index, event in enumerate(events):
            if self.limit is not None and index >= self.limit:
                return
            delay = began + event.offset - self._clock()
            if delay > 0:
                await self._sleep(delay)
            # Behind schedule (a slow consumer): no sleep, so the average rate holds.
            yield self._raw(event, index, start)
