"""HTML → plain text for network payloads that carry HTML (Mastodon ``content``
and account ``note``).

Uses the stdlib ``html.parser`` rather than regexes so nesting, attributes with
``>`` in them and entities are handled the way a browser would. Rules:

- ``<p>`` (and other block elements) are separated by a blank line; ``<br>`` is
  a newline; runs of HTML whitespace collapse to one space (``<pre>`` is kept).
- Links: Mastodon shortens URLs it linkifies by wrapping parts of the visible
  text in ``<span class="invisible">`` / ``<span class="ellipsis">``; for those
  (and for other links whose text is a visibly truncated URL) the full ``href``
  is written. Mention and hashtag links keep their visible text (``@user``,
  ``#tag``).
- Entities are unescaped; no tags are left.

``parse_html`` never raises: ``html.parser`` raises AssertionError on malformed
marked sections (``<![foo[``); those are then shown as text, and a crude tag
stripper is the last resort.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Elements whose boundaries are paragraph breaks in the rendered text.
_BLOCKS = frozenset(
    {
        "p",
        "div",
        "blockquote",
        "pre",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "header",
        "footer",
        "table",
        "hr",
    }
)
_LINE_BREAKS = frozenset({"li", "tr", "dt", "dd"})
# Their text is never shown.
_HIDDEN = frozenset({"script", "style", "template", "noscript"})
# HTML's whitespace (not Python's \s, which would also eat U+00A0 no-break spaces).
_WS = re.compile(r"[ \t\n\r\f]+")
_TAG = re.compile(r"<[^>]*>?")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


@dataclass(slots=True)
class HtmlText:
    text: str
    # hrefs of links that are not mentions or hashtags, in order, without duplicates
    links: tuple[str, ...] = ()
    # hashtags as they appear in the text (without '#'), in order
    hashtags: tuple[str, ...] = ()


def html_to_text(markup: str | None) -> str:
    """The plain text of ``markup`` (see module doc). Never raises."""
    return parse_html(markup).text


def parse_html(markup: str | None) -> HtmlText:
    """Plain text plus the links of ``markup``. Never raises."""
    if not markup:
        return HtmlText("")
    if not isinstance(markup, str):
        markup = str(markup)
    # html.parser raises AssertionError on a malformed marked section
    # (``<![foo[``, which no network emits): retry with those shown as text, so
    # the rest keeps its structure; the crude stripper is the last resort.
    for attempt in (markup, markup.replace("<![", "&lt;![")):
        result = _try_extract(attempt)
        if result is not None:
            return result
    return HtmlText(_crude(markup))


def _try_extract(markup: str) -> HtmlText | None:
    try:
        return _extract(markup)
    except Exception:  # the contract is "never raises"
        return None


def _extract(markup: str) -> HtmlText:
    extractor = _Extractor()
    extractor.feed(markup)
    extractor.close()
    return HtmlText(
        _render(extractor.segments),
        tuple(dict.fromkeys(extractor.links)),
        tuple(dict.fromkeys(extractor.hashtags)),
    )


def _crude(markup: str) -> str:
    """Last-resort text: drop anything tag-shaped, unescape, tidy whitespace."""
    try:
        text = _TAG.sub(" ", markup)
        text = html.unescape(text)
        return _WS.sub(" ", text).strip()
    except Exception:  # the contract is "never raises"
        return ""


@dataclass(slots=True)
class _Link:
    href: str
    tagish: bool  # a mention or hashtag link
    parts: list[str] = field(default_factory=list)
    shortened: bool = False  # contained Mastodon's invisible/ellipsis spans


def _classes(attrs: list[tuple[str, str | None]], name: str) -> set[str]:
    found: set[str] = set()
    for key, value in attrs:
        if key == name and value:
            found.update(value.lower().split())
    return found


def _attr(attrs: list[tuple[str, str | None]], name: str) -> str:
    for key, value in attrs:
        if key == name and value:
            return value.strip()
    return ""


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        # ("text", s) inline text (whitespace already collapsed), ("pre", s)
        # verbatim text, ("br", "") a line break, ("para", "") a paragraph break.
        self.segments: list[tuple[str, str]] = []
        self.links: list[str] = []
        self.hashtags: list[str] = []
        self._link: _Link | None = None
        self._pre = 0
        self._hidden = 0

    # -- tags ---------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
            return
        if tag == "a":
            # Browsers never nest links: a new <a> closes the open one.
            self._close_link()
            classes = _classes(attrs, "class")
            rel = _classes(attrs, "rel")
            tagish = bool(classes & {"mention", "hashtag"}) or "tag" in rel
            self._link = _Link(_attr(attrs, "href"), tagish)
            return
        if tag == "span" and self._link is not None:
            if _classes(attrs, "class") & {"invisible", "ellipsis"}:
                self._link.shortened = True
            return
        if tag == "br":
            self._break("br")
        elif tag in _BLOCKS:
            if tag == "pre":
                self._pre += 1
            self._break("para")
        elif tag in _LINE_BREAKS:
            self._break("br")
        elif tag == "img":
            alt = _attr(attrs, "alt")
            if alt:
                self.handle_data(alt)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/>, <img/>, <a/>: a self-closed element has no content.
        self.handle_starttag(tag, attrs)
        if tag in _HIDDEN or tag == "a":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
            return
        if tag == "a":
            self._close_link()
        elif tag in _BLOCKS:
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
            self._break("para")
        elif tag in _LINE_BREAKS:
            self._break("br")

    def close(self) -> None:
        super().close()
        self._close_link()

    # -- text ---------------------------------------------------------------
    def handle_data(self, data: str) -> None:
        if self._hidden or not data:
            return
        if self._link is not None:
            self._link.parts.append(data)
        elif self._pre:
            self.segments.append(("pre", data))
        else:
            self.segments.append(("text", _WS.sub(" ", data)))

    def _break(self, kind: str) -> None:
        if self._link is not None:
            # A break inside a link: keep the words apart, the link stays one piece.
            self._link.parts.append(" ")
        else:
            self.segments.append((kind, ""))

    def _close_link(self) -> None:
        link, self._link = self._link, None
        if link is None:
            return
        visible = _WS.sub(" ", "".join(link.parts)).strip()
        tagish = link.tagish or visible.startswith(("@", "#"))
        if tagish:
            if visible.startswith("#") and len(visible) > 1:
                self.hashtags.append(visible[1:])
            shown = visible
        else:
            if link.href:
                self.links.append(link.href)
            full = link.href and (link.shortened or _truncated_url(visible, link.href))
            shown = link.href if full else visible
        if shown:
            self.segments.append(("text", shown))


def _strip_url(url: str) -> str:
    url = _SCHEME.sub("", url)
    return url[4:] if url.lower().startswith("www.") else url


def _truncated_url(visible: str, href: str) -> bool:
    """Is ``visible`` a shortened form of ``href`` (``example.com/long…``)?"""
    if not visible.endswith(("…", "...")):
        return False
    core = _strip_url(visible.rstrip("…").rstrip("."))
    return bool(core) and _strip_url(href).startswith(core)


def _render(segments: list[tuple[str, str]]) -> str:
    out: list[str] = []
    newlines = 0  # breaks requested since the last text (capped at a blank line)
    space = False  # a collapsed space is owed before the next inline text
    for kind, value in segments:
        if kind == "br":
            newlines += 1
            space = False
            continue
        if kind == "para":
            newlines = max(newlines, 2)
            space = False
            continue
        if kind == "text":
            if value.startswith(" "):
                space = True
                value = value.lstrip(" ")
            if not value:
                continue
            trailing = value.endswith(" ")
            value = value.rstrip(" ")
        else:  # pre: verbatim
            trailing = False
        if out and newlines:
            out.append("\n" * min(newlines, 2))
        elif out and space:
            out.append(" ")
        out.append(value)
        newlines = 0
        space = trailing
    return "".join(out).strip()
