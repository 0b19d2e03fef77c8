"""The report as CSV for a spreadsheet: one long table with the columns
``section, item, value, detail`` (one figure per row), so every part of the
report, lists included, fits one sheet and sorts and filters as expected."""

from __future__ import annotations

import csv
import io
from typing import Any

COLUMNS = ("section", "item", "value", "detail")


def _rows(report: dict[str, Any]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    add = rows.append
    add(("selection", report["selection"]["kind"], report["selection"]["value"], ""))
    for key in ("since", "until", "timezone"):
        add(("period", key, report["period"][key], ""))
    add(("mentions", "mentions", report["mentions"], ""))
    add(("mentions", "reposts", report["reposts"], "matched by their original's text"))
    add(("mentions", "unclassified", report.get("unclassified", 0), "not classified yet"))
    add(("period", "window", report["period"]["window"], ""))
    st = report["strength"]
    add(("strength", "value", st["value"], f"{st['mentions']} of {st['posts']} posts in 24 h"))
    add(("strength", "mentions_24h", st["mentions"], ""))
    add(("strength", "posts_24h", st["posts"], ""))
    for key, value in report["sentiment"].items():
        add(("sentiment", key, value, ""))
    for name in ("sentiment", "intent", "spam", "offensive"):
        figure = report["accuracy"].get(name)
        if isinstance(figure, dict):
            add(("accuracy", name, figure["value"], figure["note"]))
    add(("accuracy", "languages", " ".join(report["accuracy"]["languages"]), ""))
    for key in ("passion", "reach"):
        for item, value in report[key].items():
            add((key, item, value, ""))
    for k in report["top_keywords"]:
        add(("top_keywords", k["term"], k["count"], ""))
    for u in report["top_users"]:
        add(("top_users", _name(u), u["mentions"], _where(u)))
    for h in report["top_hashtags"]:
        add(("top_hashtags", h["tag"], h["count"], ""))
    for n in report["sources"]["networks"]:
        add(("sources.networks", n["name"], n["count"], ""))
    for c in report["sources"]["clients"]:
        add(("sources.clients", c["name"], c["count"], ""))
    sov = report["share_of_voice"]
    for group in ("brand", "competitors"):
        add(("share_of_voice", group, sov[group]["mentions"], sov[group]["share"]))
    for q in sov["queries"]:
        add(("share_of_voice.queries", q["name"], q["mentions"], q["share"]))
    for w in report["who"]:
        add(("who", _name(w), w["mentions"], f"{_where(w)}; followers {w['followers']}"))
    for k in report["what"]["terms"]:
        add(("what.terms", k["term"], k["count"], ""))
    for k in report["what"]["phrases"]:
        add(("what.phrases", k["phrase"], k["count"], ""))
    when = report["when"]
    for hour, n in enumerate(when["by_hour"]):
        add(("when.by_hour", f"{hour:02d}", n, when["timezone"]))
    for day, n in when["by_weekday"].items():
        add(("when.by_weekday", day, n, when["timezone"]))
    for v in when["volume"]:
        add(("when.volume", v["start"], v["mentions"], f"negative {v['negative']}"))
    for s in when["spikes"]:
        add(
            (
                "when.spikes",
                s["start"],
                s["value"],
                f"{s['kind']}; baseline {s['baseline']}; z {s['z']}",
            )
        )
    for key in ("places", "languages", "locales"):
        name = {"places": "name", "languages": "lang", "locales": "locale"}[key]
        for p in report["where"][key]:
            add((f"where.{key}", p[name], p["count"], ""))
    for intent, n in report["why"]["intents"].items():
        add(("why.intents", intent, n, ""))
    for intent, examples in report["why"]["examples"].items():
        for ex in examples:
            add(("why.examples", intent, ex["url"] or f"{ex['network']} {ex['id']}", ex["text"]))
    for n in report["how"]["networks"]:
        add(("how.networks", n["name"], n["count"], ""))
    for kind, n in report["how"]["kinds"].items():
        add(("how.kinds", kind, n, ""))
    ext = report["extent"]
    add(
        (
            "extent",
            "potential_impressions",
            ext["potential_impressions"],
            f"{ext['authors_with_followers']} of {ext['authors']} authors with known followers",
        )
    )
    counting = ext.get("engagement_counting")
    for key, value in ext["engagement"].items():
        # How it was counted, beside the total (reports made before the rule have none).
        rule = counting["rule"] if counting and key == "total" else ""
        add(("extent.engagement", key, value, rule))
    return rows


def _name(person: dict[str, Any]) -> str:
    """The handle as the network or the store knows it (no "@", as before),
    else the label (a short DID, ``hubbub.author_labels``); a report made
    before labels existed has only the handle as stored."""
    return str(person.get("author_handle") or person.get("author_label") or person["handle"])


def _where(person: dict[str, Any]) -> str:
    """The network, and the full id where the label shortened it (a DID)."""
    author_id = person.get("author_id")
    if author_id and person.get("author_handle") is None and str(author_id).startswith("did:"):
        return f"{person['network']}; {author_id}"
    return str(person["network"])


def _cell(value: object) -> object:
    # Spreadsheets run cells starting with = + - @ as formulas (CSV injection);
    # post text and handles are hostile, so such text gets a leading quote.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def render_csv(report: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in _rows(report):
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()
