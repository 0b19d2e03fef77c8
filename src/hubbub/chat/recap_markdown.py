"""The recap as Markdown.

Network text is hostile here too: a post must not become a link, an image,
raw HTML or a heading in whatever renders the file. Each question's text is
kept verbatim inside a fenced block (nothing inside is interpreted, and the
fence is longer than any backtick run in the text); other post text has the
characters Markdown acts on escaped with backslashes, which renderers show as
the plain character.
"""

from __future__ import annotations

import re
from typing import Any

from hubbub.i18n import _
from hubbub.terminal_text import plain

_ACTIVE = re.compile(r"([\\`*_\[\]<>&|~!#])")
_SPACE = re.compile(r"\s+")
_BACKTICKS = re.compile(r"`+")


def inline(text: object) -> str:
    """Text safe on one Markdown line: whitespace folded, control and bidi
    characters replaced, active characters escaped."""
    flat = plain(_SPACE.sub(" ", "" if text is None else str(text)).strip())
    return _ACTIVE.sub(r"\\\1", flat)


def fenced(text: str) -> str:
    # Verbatim but for control and bidi characters: the file is read in
    # terminals (`hubbub recap --format md | less`) as often as rendered.
    text = plain(text, keep_newlines=True)
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _who(post: dict[str, Any]) -> str:
    label = post["author_label"]  # @handle, else a short DID (hubbub.author_labels)
    return f"**{inline(post.get('author_name') or label)}** ({inline(label)}, {post['network']})"


def no_top_answers(r: dict[str, Any]) -> str:
    """What "Top answers" says when it lists none, for every recap format: a
    day without questions has no answers to rank, which "no answer had any
    engagement" wrongly suggested."""
    if not r["questions"]:
        return _("No questions were asked, so there are no answers.")
    if not any(q["answers"] for q in r["transcript"]):
        return _("No question got an answer.")
    return _("No answer had any engagement.")


def render_recap_markdown(r: dict[str, Any]) -> str:
    out: list[str] = [f"# {_('Recap')} \\#{inline(r['tag'])} · {r['day']} (UTC)", ""]
    figures = [
        (_("posts"), r["posts"]),
        (_("participants"), r["participants"]["total"]),
        (_("new voices"), r["new_voices"]["total"]),
        (_("questions"), len(r["questions"])),
        (_("unanswered"), len(r["unanswered"])),
        (_("followers reached"), r["reach"]["followers"]),
        (_("potential impressions"), r["reach"]["impressions"]),
    ]
    out += [f"- {name}: {value}" for name, value in figures]
    out += ["", f"## {_('Questions and answers')}", ""]
    if not r["transcript"]:
        out += [_("No questions were asked."), ""]
    for q in r["transcript"]:
        out += [
            f"### Q{q['number']} ({len(q['answers'])} {_('answers')})",
            "",
            fenced(q["text"]),
            "",
        ]
        if not q["answers"]:
            out += [_("No answers."), ""]
        for a in q["answers"]:
            extra = f" · {a['engagement']} {_('engagement')}" if a["engagement"] else ""
            out.append(f"1. {_who(a)}: {inline(a['text'])}{extra}")
        out.append("")
    out += [f"## {_('Top answers')}", ""]
    if not r["top_answers"]:
        out += [no_top_answers(r), ""]
    for a in r["top_answers"]:
        out.append(f"1. A{a['question']} · {_who(a)}: {inline(a['text'])} · {a['engagement']}")
    out += ["", f"## {_('Unanswered questions')}", ""]
    if not r["unanswered"]:
        out.append(
            _("Every question got an answer.") if r["questions"] else _("No questions were asked.")
        )
    for q in r["unanswered"]:
        out.append(f"- Q{q['number']}: {inline(q['text'])}")
    out += ["", f"## {_('Participants')}", ""]
    out += [f"- {inline(n)}: {count}" for n, count in r["participants"]["by_network"].items()]
    out += [f"- {_('Total')}: {r['participants']['total']}", ""]
    out += [f"### {_('New voices')} ({r['new_voices']['total']})", ""]
    for p in r["new_voices"]["people"]:
        label = p["author_label"]
        out.append(f"- {inline(p['name'] or label)} ({inline(label)}, {p['network']})")
    s = r["sentiment"]
    out += ["", f"## {_('Sentiment')}", ""]
    out.append(
        f"{_('positive')} {s['positive']} · {_('neutral')} {s['neutral']} · "
        f"{_('negative')} {s['negative']} · {_('language not supported')} {s['unsupported']} "
        # Posts the pipeline has not classified yet are among "not supported" (recap.py).
        f"({_('not classified yet')}: {s['unclassified']})"
    )
    if s["series"]:
        out += ["", f"| {_('from')} | + | = | − | ? |", "|---|--:|--:|--:|--:|"]
        for b in s["series"]:
            out.append(
                f"| {b['start'][11:16]} | {b['positive']} | {b['neutral']} | {b['negative']} | {b['unsupported']} |"
            )
    reach = r["reach"]
    out += ["", f"## {_('Reach')}", ""]
    out.append(f"- {_('Followers of the participants')}: {reach['followers']}")
    out.append(f"- {_('Potential impressions (posts × followers)')}: {reach['impressions']}")
    out += [f"- {name}: {n}" for name, n in reach["engagement"].items()]
    return "\n".join(out) + "\n"
