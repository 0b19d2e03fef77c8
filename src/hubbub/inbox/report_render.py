"""The response-time report as JSON, CSV or a standalone HTML page.

CSV: one row per (who, measure, clock); a cell a spreadsheet would run as a
formula (starting with = + - @ tab or carriage return) gets a leading
apostrophe, so an agent named "=HYPERLINK(…)" stays text. HTML: every value
escaped, no script, no external resource.
"""

from __future__ import annotations

import csv
import html
import io

import orjson

from hubbub.inbox.report import Figures, Report, ReportRow

FIGURES = ("count", "median", "mean", "p90", "fastest", "slowest")
CSV_HEADER = (
    "who",
    "cases_handled",
    "measure",
    "clock",
    *FIGURES,
    "breaches",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def as_text_cell(value: object) -> object:
    """``value``, or a string a spreadsheet shows instead of evaluating."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _measures(row: ReportRow) -> list[tuple[str, str, Figures, int]]:
    return [
        ("first_response", "business", row.first_response_business, row.first_response_breaches),
        ("first_response", "wall_clock", row.first_response_wall, row.first_response_breaches),
        ("resolution", "business", row.resolution_business, row.resolution_breaches),
        ("resolution", "wall_clock", row.resolution_wall, row.resolution_breaches),
    ]


def to_json(report: Report) -> bytes:
    return orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2) + b"\n"


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in report.rows():
        for measure, clock, figures, breaches in _measures(row):
            writer.writerow(
                [
                    as_text_cell(row.who),
                    row.cases_handled,
                    measure,
                    clock,
                    figures.count,
                    *(_number(getattr(figures, name)) for name in FIGURES[1:]),
                    breaches,
                ]
            )
    return out.getvalue()


def to_html(report: Report) -> str:
    e = html.escape
    period = f"{report.since.isoformat() if report.since else '…'} – " + (
        report.until.isoformat() if report.until else "…"
    )
    lines = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Inbox response times</title>",
        "<style>body{font-family:sans-serif;margin:2rem}table{border-collapse:collapse}"
        "th,td{border:1px solid #999;padding:.25rem .5rem;text-align:right}"
        "th:first-child,td:first-child{text-align:left}</style>",
        "</head><body>",
        "<h1>Inbox response times</h1>",
        f"<p>Cases opened {e(period)}: {report.cases}. Business hours in {e(report.timezone)}; "
        "times in hours.</p>",
        (
            f"<p>Cases not timed, left out of every time and breach: {report.not_timed} "
            f"({e(report.not_timed_why)}).</p>"
            if report.not_timed
            else ""
        ),
        "<table><caption>For the team, per agent, and the operator (command line)</caption>"
        "<thead><tr>",
        "".join(
            f'<th scope="col">{e(h)}</th>'
            for h in ("who", "cases", "measure", "clock", *FIGURES, "breaches")
        ),
        "</tr></thead><tbody>",
    ]
    for row in report.rows():
        for measure, clock, figures, breaches in _measures(row):
            cells = [
                f'<th scope="row">{e(row.who)}</th>',
                f"<td>{row.cases_handled}</td>",
                f"<td>{e(measure.replace('_', ' '))}</td>",
                f"<td>{e(clock.replace('_', ' '))}</td>",
                f"<td>{figures.count}</td>",
                *(f"<td>{_number(getattr(figures, n))}</td>" for n in FIGURES[1:]),
                f"<td>{breaches}</td>",
            ]
            lines.append("<tr>" + "".join(cells) + "</tr>")
    lines += ["</tbody></table>", "</body></html>", ""]
    return "\n".join(lines)
