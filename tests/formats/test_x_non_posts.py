"""Recognised X objects that are not posts (lists, users, Spaces, counts) are skipped, not rejected."""

from __future__ import annotations

from hubbub.formats import Context
from hubbub.formats.x import detect_v1, detect_v2, parse_v1, parse_v2
from hubbub.post import Skipped

CTX = Context(source="test")


def test_v2_list_lookup_is_skipped() -> None:
    # GET /2/lists/:id with list.fields (the shape X documents)
    page = {
        "data": {
            "id": "1441162269824405510",
            "name": "Brand watch",
            "follower_count": 3,
            "member_count": 12,
            "private": False,
        }
    }
    assert detect_v2(page)
    assert parse_v2(page, CTX) == [Skipped("list")]


def test_v2_owned_lists_page_is_skipped_row_by_row() -> None:
    page = {
        "data": [
            {"id": "1451305624956858369", "name": "Chat hosts"},
            {"id": "1451305624956858370", "name": "Competitors"},
        ],
        "meta": {"result_count": 2},
    }
    assert detect_v2(page)
    assert parse_v2(page, CTX) == [Skipped("list"), Skipped("list")]


def test_v2_space_is_skipped() -> None:
    page = {"data": {"id": "1DXxyRYNejbKM", "state": "live", "title": "Q&A"}}
    assert detect_v2(page)
    assert parse_v2(page, CTX) == [Skipped("space")]


def test_v1_user_and_list_objects_are_skipped() -> None:
    user = {"id": 6253282, "id_str": "6253282", "screen_name": "TwitterAPI", "name": "X API"}
    lst = {
        "id": 574,
        "id_str": "574",
        "slug": "brand-watch",
        "name": "Brand watch",
        "member_count": 12,
        "mode": "public",
    }
    assert not detect_v2(user) and detect_v1(user)
    assert parse_v1(user, CTX) == [Skipped("user")]
    assert parse_v1([user, user], CTX) == [Skipped("user"), Skipped("user")]
    assert detect_v1(lst) and parse_v1(lst, CTX) == [Skipped("list")]


def test_an_unknown_object_is_still_rejected() -> None:
    assert not detect_v2({"data": {"id": "1", "colour": "blue"}})
    assert not detect_v1({"id": 1, "colour": "blue"})
