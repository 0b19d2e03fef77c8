"""Every follower's figures as CSV (the command's ``--format csv`` and the
page's export): one row per follower in served order. Handles, names and
reasons are the networks' text: a cell a spreadsheet would run as a formula
is prefixed with ``'``. A follower that could not be scored has an empty
suspicion and suspicious ``unknown``."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO

from hubbub.audience.audit import FollowerRow

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


CSV_COLUMNS = (
    "network", "id", "handle", "name", "class", "replies", "mentions", "quotes", "reposts",
    "chats", "answered", "suspicion", "suspicious", "reasons", "declared_by", "followers",
    "following", "posts", "created_at",
)  # fmt: skip


def write_follower_csv(out: IO[str], rows: Iterable[FollowerRow]) -> int:
    """Every follower's figures; text cells are made safe for spreadsheets.
    Returns how many followers were written (for the audit log's export entry)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    written = 0
    for row in rows:
        written += 1
        value = row.as_json()
        cells = []
        for key in CSV_COLUMNS:
            cell = value[key]
            if key == "suspicious" and cell is None:
                cell = "unknown"  # not scored: neither true nor false
            if isinstance(cell, list):
                cell = "; ".join(str(c) for c in cell)
            if isinstance(cell, bool):
                cell = "true" if cell else "false"
            if isinstance(cell, float):
                cell = f"{cell:.4f}"
            cells.append(safe_cell(str(cell)) if cell is not None else "")
        writer.writerow(cells)
    return written
