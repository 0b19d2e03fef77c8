"""Report figures on a hand-built dataset, each computed here independently."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from hubbub.analyze import PeriodError, Selection, build_report, render_csv, render_html
from hubbub.analyze.volume import robust_spikes, volume_series
from hubbub.store import Store
from tests.analyze.conftest import HOSTILE, SINCE, UNTIL, build_small


@pytest.fixture
def small(store: Store) -> Store:
    build_small(store)
    return store


@pytest.mark.parametrize(
    "selection",
    [Selection("query", "acme"), Selection("saved", "acme"), Selection("group", "brand")],
)
def test_scorecard_figures(small: Store, selection: Selection) -> None:
    r = build_report(small, selection, since=SINCE, until=UNTIL)
    assert r["mentions"] == 6  # posts 1-6; 9 is before, 10 at the (exclusive) end
    # 24 h before UNTIL: mentions 1, 2, 3, 5 of posts 1, 2, 3, 5, 7, 8.
    assert (r["strength"]["mentions"], r["strength"]["posts"]) == (4, 6)
    assert r["strength"]["value"] == round(4 / 6, 4)
    assert r["sentiment"] == {
        "positive": 3,
        "neutral": 1,
        "negative": 2,
        "unsupported": 0,
        "ratio": 1.5,
    }
    # alice wrote 3 of the 6: passion 3/6 from one author.
    assert r["passion"] == {"value": 0.5, "authors": 1, "mentions": 3}
    assert r["reach"] == {"value": round(4 / 6, 4), "authors": 4, "mentions": 6}
    assert r["top_keywords"][0] == {"term": "phones", "count": 2}
    assert "acme" not in {k["term"] for k in r["top_keywords"]}
    assert r["top_users"][0]["handle"] == "alice" and r["top_users"][0]["mentions"] == 3
    assert r["top_hashtags"] == [{"tag": "acme", "count": 1}]
    assert r["sources"]["networks"] == [
        {"name": "x", "count": 4},
        {"name": "bluesky", "count": 1},
        {"name": "mastodon", "count": 1},
    ]
    assert r["sources"]["clients"] == [{"name": "Web", "count": 6}]


def test_share_of_voice_and_5w(small: Store) -> None:
    r = build_report(small, Selection("saved", "acme"), since=SINCE, until=UNTIL)
    sov = r["share_of_voice"]
    assert sov["brand"] == {"mentions": 6, "share": round(6 / 7, 4)}
    assert sov["competitors"] == {"mentions": 1, "share": round(1 / 7, 4)}
    assert [(q["name"], q["mentions"]) for q in sov["queries"]] == [("acme", 6), ("globex", 1)]
    who = {w["handle"]: (w["followers"], w["mentions"]) for w in r["who"]}
    assert who == {"alice": (100, 3), "bob": (50, 1), "carol": (20, 1), "dave": (None, 1)}
    # Europe/Warsaw is UTC+2 in May: 10:00Z and 2024-05-05 10:00Z are 12h local.
    hours = r["when"]["by_hour"]
    assert (hours[12], hours[13], hours[15], hours[11], sum(hours)) == (2, 2, 1, 1, 6)
    assert r["when"]["by_weekday"] == {
        "Mon": 0,
        "Tue": 0,
        "Wed": 1,
        "Thu": 1,
        "Fri": 3,
        "Sat": 0,
        "Sun": 1,
    }
    assert r["when"]["timezone"] == "Europe/Warsaw" and r["when"]["bucket"] == "day"
    assert sum(v["mentions"] for v in r["when"]["volume"]) == 6
    assert r["where"]["languages"] == [{"lang": "en", "count": 6}]
    assert r["why"]["intents"] == {
        "complaint": 2,
        "question": 0,
        "lead": 1,
        "praise": 2,
        "other": 1,
        "unsupported": 0,
    }
    assert [e["id"] for e in r["why"]["examples"]["complaint"]] == ["1", "2"]  # most engaged first
    assert r["how"]["kinds"] == {"original": 6, "reply": 0, "repost": 0, "quote": 0}
    ext = r["extent"]
    assert (ext["potential_impressions"], ext["authors"], ext["authors_with_followers"]) == (
        170,
        4,
        3,
    )
    assert ext["engagement"] == {"likes": 14, "reposts": 1, "replies": 2, "quotes": 1, "total": 18}


def test_dates_in_workspace_time_zone_and_errors(small: Store) -> None:
    # 2024-05-10 local midnight is 2024-05-09 22:00Z: post 3 (13:00Z on the 9th) is in.
    r = build_report(small, Selection("query", "acme"), since="2024-05-09", until="2024-05-10")
    assert r["mentions"] == 1
    assert r["period"]["since"] == "2024-05-08T22:00:00Z"
    with pytest.raises(PeriodError):
        build_report(small, Selection("query", "acme"), since="2024-05-10", until="2024-05-09")
    with pytest.raises(PeriodError):
        build_report(small, Selection("query", "acme"), since="tomorrow")


def test_no_bounds_covers_every_matching_post(small: Store) -> None:
    r = build_report(small, Selection("query", "acme"), now=datetime(2030, 1, 1, tzinfo=UTC))
    assert r["period"]["window"] == "all"
    # From the oldest matching post (9, nine days before the rest) to just after the newest (10).
    assert r["period"]["since"] == "2024-05-01T10:00:00Z"
    assert r["period"]["until"] == "2024-05-10T12:00:00.000001Z"
    assert r["mentions"] == 8  # posts 1-6, 9 and 10
    # 24 hours anchored at the newest matching post: 1, 2, 3, 5 and 10 of posts 1-3, 5, 7, 8, 10.
    assert r["strength"]["window"]["until"] == "2024-05-10T12:00:00.000001Z"
    assert (r["strength"]["mentions"], r["strength"]["posts"]) == (5, 7)


def test_one_bound_takes_the_other_from_the_matching_posts(small: Store) -> None:
    r = build_report(small, Selection("query", "acme"), since="2024-05-09T00:00:00Z")
    assert r["period"]["window"] == "since"
    assert r["period"]["until"] == "2024-05-10T12:00:00.000001Z"
    r = build_report(small, Selection("query", "acme"), until="2024-05-02T00:00:00Z")
    assert (r["period"]["window"], r["period"]["since"], r["mentions"]) == (
        "until",
        "2024-05-01T10:00:00Z",
        1,
    )
    r = build_report(small, Selection("query", "acme"), since=SINCE, until=UNTIL)
    assert r["period"]["window"] == "custom"
    # Nothing after --since: an empty report, not an error.
    r = build_report(small, Selection("query", "acme"), since="2025-01-01T00:00:00Z")
    assert r["mentions"] == 0


def test_missing_classes_are_computed_and_stored(store: Store) -> None:
    from hubbub.listen.classes import ensure_classes
    from hubbub.store import Ingest
    from hubbub.store.scope import scope
    from tests.analyze.conftest import make_post

    store.ingest(
        [Ingest(make_post("1", "x", "alice", UNTIL, "I love this phone, it is great", {}))]
    )
    first = ensure_classes(scope(store, "default"), [1])
    assert first[1]["sentiment"] == "positive" and first[1]["lang"] == "en"
    assert ensure_classes(scope(store, "default"), [1]) == first
    # Another workspace's scope neither sees nor classifies the post.
    assert ensure_classes(scope(store, "other"), [1]) == {}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_self_contained_and_escapes_posts(store: Store) -> None:
    build_small(store, hostile=True)
    html = render_html(build_report(store, Selection("query", "acme"), since=SINCE, until=UNTIL))
    parser = _Tags()
    parser.feed(html)
    parser.close()
    assert "svg" in parser.tags and "rect" in parser.tags
    assert "script" not in parser.tags and "img" not in parser.tags
    assert not any(name.startswith("on") for name, _v in parser.attrs)
    assert not any(
        v and ("http" in v and "w3.org" not in v)
        for name, v in parser.attrs
        if name in ("src", "href")
    )
    assert HOSTILE in "".join(parser.text)  # shown as text, exactly


def test_csv_has_every_section(small: Store) -> None:
    import csv
    import io

    rows = list(
        csv.DictReader(
            io.StringIO(
                render_csv(
                    build_report(small, Selection("query", "acme"), since=SINCE, until=UNTIL)
                )
            )
        )
    )
    sections = {row["section"] for row in rows}
    assert {
        "mentions",
        "strength",
        "sentiment",
        "passion",
        "reach",
        "who",
        "when.by_hour",
        "extent",
    } <= sections
    assert {"section": "mentions", "item": "mentions", "value": "6", "detail": ""} in rows


def test_spikes_on_a_synthetic_series() -> None:
    series = [10, 12, 9, 11, 10, 10, 11, 60, 10, 11]
    assert [(s.index, s.baseline) for s in robust_spikes(series)] == [(7, 10)]
    # A flat quiet series: 0 → 3 is not an alert (below min_value), 0 → 9 is.
    assert robust_spikes([0, 0, 0, 0, 3], min_value=5) == []
    assert [s.index for s in robust_spikes([0, 0, 0, 0, 9], min_value=5)] == [4]
    # The earlier spike does not hide a later one (median, not mean).
    assert [s.index for s in robust_spikes([10, 11, 10, 80, 10, 11, 10, 90], window=7)] == [3, 7]
    # Too little history: nothing is judged.
    assert robust_spikes([1, 100]) == []


def test_negative_share_spike_in_volume_series() -> None:
    from zoneinfo import ZoneInfo

    days = [datetime(2024, 5, d, 12, tzinfo=UTC) for d in range(1, 11)]
    times, negative = [], []
    for i, day in enumerate(days):
        for k in range(10):
            times.append(day)
            negative.append(k < (8 if i == 9 else 1))  # 10% negative, then 80% on the last day
    out = volume_series(
        times, negative, days[0].replace(hour=0), days[-1].replace(hour=23), ZoneInfo("UTC")
    )
    assert out["bucket"] == "day"
    assert [(s["kind"], s["start"][:10]) for s in out["spikes"]] == [
        ("negative_share", "2024-05-10")
    ]


def test_accuracy_is_shown_beside_the_figures(small: Store) -> None:
    from hubbub.classify.accuracy import load_accuracy

    shipped = load_accuracy()
    r = build_report(small, Selection("query", "acme"), since=SINCE, until=UNTIL)
    assert r["accuracy"]["sentiment"]["value"] == shipped.figures["sentiment"].value
    assert r["accuracy"]["languages"] == list(shipped.languages)
    assert r["why"]["accuracy"] == shipped.note("intent")
    from html import escape

    html = render_html(r)
    for text in (shipped.note("sentiment"), shipped.note("intent"), r["accuracy"]["unsupported"]):
        assert escape(text) in html
    csv_text = render_csv(r)
    assert "accuracy,sentiment," in csv_text and "mentions,reposts,0" in csv_text
