"""One validation of a tag (issue 7, case 2): what passes can always be
searched and is folded once for good; what the query language cannot search
is refused at every edge (HTTP and WebSocket are in tests/web)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from hubbub.query import parse
from hubbub.query.ast import Hashtag
from hubbub.settings import Settings
from hubbub.sources.spec import source_from_spec
from hubbub.tags import TagError, is_tag, parse_tag

# Each of these passed the old check and failed later (parser, second fold).
REFUSED = [
    "-",
    "(",
    ")",
    "*",
    ":",
    "a)",
    "\u200b",
    "\u00af",
    "\u0301",
    "_",
    "a-b",
    "",
    " ",
    "x" * 101,
]


@pytest.mark.parametrize("raw", REFUSED)
def test_refused_at_every_edge(raw: str) -> None:
    with pytest.raises(TagError):
        parse_tag(raw)
    with pytest.raises(ValueError):
        source_from_spec(f"sim:{raw}")
    with pytest.raises(TagError):
        Settings(rooms=(raw,)).room_tags()


def test_one_folded_form() -> None:
    assert parse_tag("#Łódź") == "lodz"
    assert parse_tag("  HubChat ") == "hubchat"
    assert parse_tag("ﬁ") == "fi" and parse_tag("Straße") == "strasse"
    assert Settings(rooms=("#ŁÓDŹ", "lodz")).room_tags() == ("lodz",)
    assert source_from_spec("sim:HubChat").name == "sim:HubChat"


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=30))
def test_whatever_passes_is_searchable_and_stable(raw: str) -> None:
    try:
        key = parse_tag(raw)
    except TagError:
        return
    assert parse_tag(key) == key and is_tag(key)
    assert parse("#" + key) == Hashtag(key)  # the query language finds exactly this room
    assert 1 <= len(key) <= 100


def test_serve_refuses_a_bad_configured_room(tmp_path) -> None:
    from hubbub.cli import main

    result = CliRunner().invoke(
        main,
        ["serve", "--db", str(tmp_path / "h.db")],
        env={"HUBBUB_ROOMS": "fine,a)", "HUBBUB_SECRET": "x" * 40},
    )
    assert result.exit_code == 2, result.output
    assert "not a hashtag" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(
        main, ["serve", "--db", str(tmp_path / "h.db"), "--source", "sim:a)"]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    result = CliRunner().invoke(main, ["simulate", "a)", "--limit", "1"])
    assert result.exit_code == 2 and "not a hashtag" in result.output
