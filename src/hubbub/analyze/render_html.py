"""The report as ONE self-contained HTML file: opens offline, no script, no
external resource; charts are inline SVG; every piece of text, and above all
the posts' own (hostile) text, is escaped; links are only http(s).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from hubbub.i18n import _

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:64rem;color:#1d2125;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccd}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.75rem}
.card{border:1px solid #ccd;border-radius:6px;padding:.6rem .8rem}
.card b{display:block;font-size:1.4rem}.card small{color:#556}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.2rem .6rem;border-bottom:1px solid #eef;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.cols{display:flex;flex-wrap:wrap;gap:2rem}
svg{max-width:100%;height:auto}.spike{color:#a31}
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _safe_url(url: str | None) -> str | None:
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


def bar_chart(
    labels: Sequence[str], values: Sequence[float], *, title: str, width: int = 640
) -> str:
    """A labelled vertical bar chart as inline SVG."""
    height, pad, top = 180, 28, 10
    n = max(len(values), 1)
    peak = max(values, default=0) or 1
    slot = (width - pad) / n
    bar = max(slot * 0.8, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + pad}" '
        f'role="img" aria-label="{_e(title)}"><title>{_e(title)}</title>',
        f'<line x1="{pad}" y1="{height}" x2="{width}" y2="{height}" stroke="#889"/>',
        f'<text x="0" y="{top + 4}" font-size="10">{_e(_fmt(peak))}</text>',
    ]
    every = max(1, n // 12)  # at most ~12 axis labels, so they do not overlap
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = (height - top) * (value / peak)
        x = pad + i * slot + (slot - bar) / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="#3b6ea5">'
            f"<title>{_e(label)}: {_e(_fmt(value))}</title></rect>"
        )
        if i % every == 0:
            parts.append(f'<text x="{x:.1f}" y="{height + 14}" font-size="10">{_e(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


@dataclass(frozen=True, slots=True)
class _Person:
    """An author's cell: their label, the full id in a tooltip where the
    label shortened it (a Bluesky DID)."""

    label: str
    title: str | None


def _person(p: dict[str, Any]) -> _Person:
    label = p.get("author_label") or p.get("handle") or p.get("author")
    author_id = p.get("author_id")
    shortened = author_id and p.get("author_handle") is None and str(author_id).startswith("did:")
    return _Person(str(label), str(author_id) if shortened else None)


def _person_html(person: _Person) -> str:
    if person.title is None:
        return _e(person.label)
    return f'<span title="{_e(person.title)}">{_e(person.label)}</span>'


def _td(c: object) -> str:
    if isinstance(c, _Person):
        return f"<td>{_person_html(c)}</td>"
    return f'<td class="n">{_e(c)}</td>' if isinstance(c, int | float) else f"<td>{_e(c)}</td>"


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    if not rows:
        return f"<p>{_e(_('Nothing in this period.'))}</p>"
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_td(c) for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _card(label: str, value: str, note: str = "") -> str:
    return f'<div class="card"><small>{_e(label)}</small><b>{_e(value)}</b><small>{_e(note)}</small></div>'


def _counted_once(ext: dict[str, Any]) -> str:
    """How engagement was counted (a report made before the rule has no note)."""
    counting = ext.get("engagement_counting")
    if not counting or not counting["reposts_not_counted"]:
        return ""
    return " · " + _("each post once: {n} reposts add nothing of their own").format(
        n=counting["reposts_not_counted"]
    )


def render_html(report: dict[str, Any]) -> str:
    s = report["sentiment"]
    acc = report["accuracy"]
    period = report["period"]
    sel = report["selection"]
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # No network access needed or allowed: the file must open offline.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">",
        f"<title>{_e(_('Listening report'))}: {_e(sel['value'])}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{_e(_('Listening report'))}: {_e(sel['value'])}</h1>",
        f"<p>{_e(sel['kind'])} · {_e(period['since'])} – {_e(period['until'])} ({_e(period['timezone'])})"
        f" · {_e(_('workspace'))} {_e(report['workspace'])}</p>",
        '<h2>Scorecard</h2><div class="cards">',
        _card(_("Mentions"), str(report["mentions"]), f"{report['reposts']} {_('reposts')}"),
        _card(
            _("Strength"),
            _pct(report["strength"]["value"]),
            f"{report['strength']['mentions']} / {report['strength']['posts']} {_('posts in the last 24 h')}",
        ),
        _card(
            _("Sentiment"),
            "–" if s["ratio"] is None else f"{s['ratio']}:1",
            f"+{s['positive']} / ={s['neutral']} / −{s['negative']} / ?{s['unsupported']}",
        ),
        _card(
            _("Passion"),
            _pct(report["passion"]["value"]),
            f"{report['passion']['authors']} {_('authors mention it twice or more')}",
        ),
        _card(
            _("Reach"),
            _pct(report["reach"]["value"]),
            f"{report['reach']['authors']} {_('unique authors')}",
        ),
        "</div>",
        f'<p class="accuracy">{_e(_("Accuracy"))} — {_e(_("sentiment"))}: '
        f"{_e(acc['sentiment']['note'])} · {_e(_('intent'))}: {_e(acc['intent']['note'])}"
        f" · {_e(acc['unsupported'])}</p>",
    ]
    if report.get("unclassified"):
        # Reads never classify: posts the pipeline has not classified yet are said, not guessed.
        out.append(
            f'<p class="accuracy">{report["unclassified"]} '
            f"{_e(_('mentions not classified yet (counted as ?): run hubbub classify --stored'))}</p>"
        )
    when = report["when"]
    volume = when["volume"]
    out.append(f"<h2>{_e(_('When'))}</h2>")
    out.append(
        bar_chart(
            [v["start"][5:16].replace("T", " ") for v in volume],
            [v["mentions"] for v in volume],
            title=_("Mentions per {bucket}").format(bucket=when["bucket"]),
        )
    )
    for spike in when["spikes"]:
        out.append(
            f'<p class="spike">{_e(_("Spike"))}: {_e(spike["kind"])} {_e(spike["start"])} '
            f"({_e(spike['value'])} vs {_e(spike['baseline'])}, z={_e(spike['z'])})</p>"
        )
    out.append('<div class="cols">')
    out.append(
        bar_chart([f"{h:02d}" for h in range(24)], when["by_hour"], title=_("By hour"), width=420)
    )
    out.append(
        bar_chart(
            list(when["by_weekday"]),
            list(when["by_weekday"].values()),
            title=_("By weekday"),
            width=300,
        )
    )
    out.append("</div>")
    out.append(f"<h2>{_e(_('Who'))}</h2>")
    out.append(
        _table(
            [_("Author"), _("Network"), _("Followers"), _("Mentions")],
            [
                [
                    _person(w),
                    w["network"],
                    w["followers"] if w["followers"] is not None else "?",
                    w["mentions"],
                ]
                for w in report["who"]
            ],
        )
    )
    out.append(f'<h2>{_e(_("What"))}</h2><div class="cols">')
    out.append(
        _table([_("Term"), _("Posts")], [[k["term"], k["count"]] for k in report["what"]["terms"]])
    )
    out.append(
        _table(
            [_("Phrase"), _("Posts")],
            [[k["phrase"], k["count"]] for k in report["what"]["phrases"]],
        )
    )
    out.append(
        _table(
            [_("Hashtag"), _("Posts")],
            [["#" + h["tag"], h["count"]] for h in report["top_hashtags"]],
        )
    )
    out.append("</div>")
    where = report["where"]
    out.append(f'<h2>{_e(_("Where"))}</h2><div class="cols">')
    out.append(_table([_("Place"), _("Posts")], [[p["name"], p["count"]] for p in where["places"]]))
    out.append(
        _table([_("Language"), _("Posts")], [[p["lang"], p["count"]] for p in where["languages"]])
    )
    out.append(
        _table([_("Locale"), _("Posts")], [[p["locale"], p["count"]] for p in where["locales"]])
    )
    out.append("</div>")
    why = report["why"]
    out.append(f"<h2>{_e(_('Why'))}</h2>")
    out.append(f'<p class="accuracy">{_e(_("Intent accuracy"))}: {_e(why["accuracy"])}</p>')
    intents = why["intents"]
    out.append(bar_chart(list(intents), list(intents.values()), title=_("Intent"), width=420))
    for intent, examples in why["examples"].items():
        items = []
        for ex in examples:
            url = _safe_url(ex["url"])
            label = f"{ex['network']} {ex['id']}"
            link = (
                f'<a href="{_e(url)}" rel="noopener noreferrer">{_e(label)}</a>'
                if url
                else _e(label)
            )
            items.append(f"<li>{link} {_person_html(_person(ex))}: {_e(ex['text'])}</li>")
        out.append(f"<h3>{_e(intent)}</h3><ul>{''.join(items)}</ul>")
    how = report["how"]
    out.append(f'<h2>{_e(_("How"))}</h2><div class="cols">')
    out.append(
        _table([_("Network"), _("Posts")], [[n["name"], n["count"]] for n in how["networks"]])
    )
    out.append(_table([_("Kind"), _("Posts")], [[k, v] for k, v in how["kinds"].items()]))
    out.append(
        _table(
            [_("Client"), _("Posts")],
            [[c["name"], c["count"]] for c in report["sources"]["clients"]],
        )
    )
    out.append("</div>")
    out.append(
        bar_chart(
            ["positive", "neutral", "negative", "unsupported"],
            [s["positive"], s["neutral"], s["negative"], s["unsupported"]],
            title=_("Sentiment"),
            width=420,
        )
    )
    ext = report["extent"]
    out.append(f'<h2>{_e(_("To what extent"))}</h2><div class="cards">')
    out.append(
        _card(
            _("Potential impressions"),
            f"{ext['potential_impressions']:,}",
            f"{ext['authors_with_followers']} / {ext['authors']} {_('authors with known followers')}",
        )
    )
    eng = ext["engagement"]
    out.append(
        _card(
            _("Engagement"),
            f"{eng['total']:,}",
            f"♥{eng['likes']} ⟲{eng['reposts']} ↩{eng['replies']} ❝{eng['quotes']}"
            + _counted_once(ext),
        )
    )
    out.append("</div>")
    sov = report["share_of_voice"]
    out.append(f"<h2>{_e(_('Share of voice'))}</h2>")
    out.append(
        _table(
            [_("Query"), _("Group"), _("Mentions"), _("Share")],
            [[q["name"], q["group"], q["mentions"], _pct(q["share"])] for q in sov["queries"]]
            + [
                [g, "", sov[g]["mentions"], _pct(sov[g]["share"])] for g in ("brand", "competitors")
            ],
        )
    )
    out.append(f"<p><small>{_e(_('Generated'))} {_e(report['generated_at'])}</small></p>")
    out.append("</body></html>")
    return "\n".join(out)
