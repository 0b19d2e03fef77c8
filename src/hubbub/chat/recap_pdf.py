"""The recap as a PDF (fpdf2), with the Unicode fonts of ``pdf_fonts``
embedded: Polish letters, CJK and emoji render and extract as text.

Network text is only ever drawn as text (no markup is interpreted: fpdf2's
``markdown`` option stays off), so a post cannot change the document.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from hubbub.chat.pdf_fonts import pdf_fonts
from hubbub.chat.recap_markdown import no_top_answers
from hubbub.i18n import _

if TYPE_CHECKING:
    from fpdf import FPDF

WIDTH_MM = 0  # 0: up to the right margin


def render_recap_pdf(r: dict[str, Any]) -> bytes:
    from fpdf import FPDF  # imported here: only the PDF format needs it

    fonts = pdf_fonts()
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(f"{_('Recap')} #{r['tag']} {r['day']}")
    pdf.set_creator("Hubbub")
    for font in fonts:
        pdf.add_font(font.family, font.style, str(font.path))
    pdf.set_fallback_fonts(
        sorted({f.family for f in fonts if f.family != "main"}, key=_fallback_order),
        exact_match=False,
    )
    pdf.add_page()
    writer = _Writer(pdf)
    writer.title(f"{_('Recap')} #{r['tag']} · {r['day']} (UTC)")
    writer.line(
        f"{r['posts']} {_('posts')} · {r['participants']['total']} {_('participants')} · "
        f"{r['new_voices']['total']} {_('new voices')} · {len(r['questions'])} {_('questions')} · "
        f"{len(r['unanswered'])} {_('unanswered')}"
    )
    writer.heading(_("Questions and answers"))
    if not r["transcript"]:
        writer.line(_("No questions were asked."))
    for q in r["transcript"]:
        writer.subheading(f"Q{q['number']} ({len(q['answers'])} {_('answers')})")
        writer.line(q["text"])
        if not q["answers"]:
            writer.line(_("No answers."), indent=6)
        for a in q["answers"]:
            extra = f" · {a['engagement']}" if a["engagement"] else ""
            writer.line(f"{_who(a)}: {a['text']}{extra}", indent=6)
    writer.heading(_("Top answers"))
    if not r["top_answers"]:
        writer.line(no_top_answers(r))
    for a in r["top_answers"]:
        writer.line(f"A{a['question']} · {_who(a)}: {a['text']} · {a['engagement']}")
    writer.heading(_("Unanswered questions"))
    if not r["unanswered"]:
        writer.line(
            _("Every question got an answer.") if r["questions"] else _("No questions were asked.")
        )
    for q in r["unanswered"]:
        writer.line(f"Q{q['number']}: {q['text']}")
    writer.heading(_("Participants"))
    by_network = ", ".join(f"{n}: {c}" for n, c in r["participants"]["by_network"].items())
    writer.line(f"{_('Total')}: {r['participants']['total']} ({by_network})")
    writer.subheading(f"{_('New voices')} ({r['new_voices']['total']})")
    for p in r["new_voices"]["people"]:
        label = p["author_label"]
        writer.line(f"{p['name'] or label} ({label}, {p['network']})", indent=6)
    s = r["sentiment"]
    writer.heading(_("Sentiment"))
    writer.line(
        f"{_('positive')} {s['positive']} · {_('neutral')} {s['neutral']} · "
        f"{_('negative')} {s['negative']} · {_('language not supported')} {s['unsupported']} "
        # Posts the pipeline has not classified yet are among "not supported" (recap.py).
        f"({_('not classified yet')}: {s['unclassified']})"
    )
    for b in s["series"]:
        writer.line(
            f"{b['start'][11:16]}  + {b['positive']}  = {b['neutral']}  − {b['negative']}  ? {b['unsupported']}",
            indent=6,
        )
    reach = r["reach"]
    writer.heading(_("Reach"))
    writer.line(f"{_('Followers of the participants')}: {reach['followers']}")
    writer.line(f"{_('Potential impressions (posts × followers)')}: {reach['impressions']}")
    writer.line(", ".join(f"{name}: {n}" for name, n in reach["engagement"].items()))
    # fpdf2 logs each glyph no embedded font has (a script none of them
    # covers); the recap still renders, so that is not worth a warning per run.
    # fontTools, subsetting, notes each table of Symbola it leaves out. Neither
    # is the user's business.
    loggers = [logging.getLogger(name) for name in ("fpdf", "fontTools.subset")]
    levels = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(logging.ERROR)
    try:
        return bytes(pdf.output())
    finally:
        for log, level in zip(loggers, levels, strict=True):
            log.setLevel(level)


def _fallback_order(family: str) -> int:
    return {"cjk": 0, "korean": 1, "emoji": 2}.get(family, 3)


def _who(post: dict[str, Any]) -> str:
    label = post["author_label"]  # @handle, else a short DID (hubbub.author_labels)
    return f"{post.get('author_name') or label} ({label}, {post['network']})"


class _Writer:
    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf

    def _cell(self, text: str, size: float, style: str = "", indent: float = 0) -> None:
        pdf = self.pdf
        pdf.set_font("main", style, size)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(WIDTH_MM, size * 0.5 + 1, text, new_x="LMARGIN", new_y="NEXT")

    def title(self, text: str) -> None:
        self._cell(text, 16, "B")
        self.pdf.ln(2)

    def heading(self, text: str) -> None:
        self.pdf.ln(3)
        self._cell(text, 13, "B")
        self.pdf.ln(1)

    def subheading(self, text: str) -> None:
        self.pdf.ln(1)
        self._cell(text, 11, "B")

    def line(self, text: str, indent: float = 0) -> None:
        self._cell(text, 10, "", indent)
