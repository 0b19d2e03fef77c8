"""The recap of a fixed chat built from real payloads (tests/chat/real_chat.py)
against the counts written down while building it; the PDF read back."""

from __future__ import annotations

import io
from collections import Counter

import pytest

from hubbub.chat.recap import build_recap
from hubbub.chat.recap_output import render_recap
from hubbub.store import Ingest, Store
from tests.chat.real_chat import DAY, TAG, build_chat
from tests.conftest import require_shared_data


def load_chat(store: Store):
    from hubbub.web.rooms import RoomRepo

    chat = build_chat()
    store.ingest([Ingest(p) for p in chat.posts])
    rooms = RoomRepo(store, "default")
    for network, handle in chat.hosts:
        rooms.set_person(TAG, "host", network, handle)
    return chat


def test_recap_counts_match_the_chat_as_built(store: Store) -> None:
    require_shared_data()
    chat = load_chat(store)
    exp = chat.expected
    r = build_recap(store, TAG, day=DAY)
    assert r["day"] == DAY.isoformat()
    assert [q["number"] for q in r["questions"]] == [1, 2, 3, 4]
    for q in r["questions"]:
        assert q["text"] == exp.question_text[q["number"]]
        assert q["answer_count"] == len(exp.answers[q["number"]]), q["number"]
        assert sorted(q["answers"]) == sorted(exp.answers[q["number"]])
    assert sum(len(a) for a in exp.answers.values()) >= 25
    assert [q["number"] for q in r["unanswered"]] == [4]
    assert r["participants"]["total"] == len(exp.participants)
    assert r["participants"]["by_network"] == dict(Counter(n for n, _a in exp.participants))
    new = exp.participants - exp.earlier
    assert r["new_voices"]["total"] == len(new)
    assert {(p["network"], p["author_id"]) for p in r["new_voices"]["people"]} == new
    # Top answers: only answers with engagement, most engaged first.
    engaged = [a for a in r["top_answers"]]
    assert engaged and all(a["engagement"] > 0 for a in engaged)
    assert [a["engagement"] for a in engaged] == sorted(
        (a["engagement"] for a in engaged), reverse=True
    )
    s = r["sentiment"]
    assert s["positive"] + s["neutral"] + s["negative"] + s["unsupported"] == r["posts"]
    assert r["reach"]["authors"] == len(exp.participants)


def test_default_day_is_the_latest_with_posts(store: Store) -> None:
    require_shared_data()
    load_chat(store)
    # The chat's posts include one the day after: that is the latest day.
    assert build_recap(store, TAG)["day"] == "2026-05-15"


@pytest.mark.slow
def test_every_format_carries_each_question(store: Store) -> None:
    require_shared_data()
    from pypdf import PdfReader

    load_chat(store)
    r = build_recap(store, TAG, day=DAY)
    texts = [q["text"] for q in r["questions"]]
    md = render_recap(r, "md").decode()
    html = render_recap(r, "html").decode()
    pdf = render_recap(r, "pdf")
    for text in texts:
        assert text in md
    assert "<script" not in html.lower() and "http-equiv" not in html.lower()
    extracted = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )
    for text in texts:
        assert " ".join(text.split()) in extracted, text
