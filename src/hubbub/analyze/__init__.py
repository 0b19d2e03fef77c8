"""Analysis of listening data: the scorecard, share of voice, volume and
spikes, and the Who/What/When/Where/Why/How/Extent report with its renderers."""

from hubbub.analyze.render_csv import render_csv
from hubbub.analyze.render_html import render_html
from hubbub.analyze.report import build_report
from hubbub.analyze.selection import PeriodError, Selection

__all__ = ["PeriodError", "Selection", "build_report", "render_csv", "render_html"]
