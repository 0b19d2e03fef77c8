"""Import files of network payloads (twarc2 JSONL, API dumps, SSE captures,
Hubbub exports) into the store.

Bad input loses nothing else: a line or document that cannot be read is
reported with its file and line, and every other record is stored.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from hubbub.formats import Context, FormatError, parse_record
from hubbub.formats.reader import DEFAULT_MAX_BYTES, Record, iter_file_records
from hubbub.store import Ingest, IngestCounts, IngestResult, RawPayload, Store

BATCH_SIZE = 2000


@dataclass(slots=True)
class ImportReport:
    counts: IngestCounts = field(default_factory=IngestCounts)
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        c = self.counts
        return {
            "imported": c.imported,
            "duplicates": c.duplicates,
            "updated": c.updated,
            "deleted": c.deleted,
            "skipped": c.skipped,
            "rejected": self.rejected,
            "errors": self.errors,
        }


class _CountingReader:
    """Wraps a binary stream to report bytes read (for a progress bar)."""

    def __init__(self, stream: IO[bytes], on_bytes: Callable[[int], None] | None) -> None:
        self.stream = stream
        self.on_bytes = on_bytes

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        if self.on_bytes is not None and data:
            self.on_bytes(len(data))
        return data


def parse_file_records(
    records: Iterable[Record], name: str, fmt: str, report: ImportReport, fetched_at: datetime
) -> Iterable[Ingest]:
    """Turn a file's records into ``Ingest`` items, recording rejections."""
    ctx = Context(source=name, fetched_at=fetched_at)
    for record in records:
        if record.error is not None:
            report.rejected += 1
            report.errors.append({"file": name, "line": record.line, "reason": record.error})
            continue
        try:
            used, items = parse_record(record.value, ctx, fmt)
        except FormatError as exc:
            reason = str(exc)
        except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the rest of the file
            reason = f"unreadable payload ({type(exc).__name__}: {exc})"
        else:
            raw = RawPayload(body=record.raw, source=name, fetched_at=fetched_at, format=used)
            for item in items:
                yield Ingest(item, raw)
            continue
        report.rejected += 1
        report.errors.append({"file": name, "line": record.line, "reason": reason})


def import_stream(
    store: Store,
    stream: IO[bytes],
    name: str,
    *,
    workspace: str = "default",
    fmt: str = "auto",
    report: ImportReport | None = None,
    on_bytes: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
    max_record_bytes: int = DEFAULT_MAX_BYTES,
    on_batch: Callable[[IngestResult], None] | None = None,
) -> ImportReport:
    """Import one stream batch by batch: memory holds one batch and one
    record, whatever the file's size. ``on_batch`` sees each stored batch
    (``hubbub import`` matches and classifies there, as live posts are)."""
    report = report or ImportReport()
    fetched_at = datetime.now(UTC)
    reader = _CountingReader(stream, on_bytes)
    batch: list[Ingest] = []
    for ingest in parse_file_records(
        iter_file_records(reader, max_record_bytes), name, fmt, report, fetched_at
    ):
        batch.append(ingest)
        if len(batch) >= batch_size:
            _store_batch(store, batch, workspace, report, on_batch)
            batch = []
    if batch:
        _store_batch(store, batch, workspace, report, on_batch)
    return report


def _store_batch(
    store: Store,
    batch: list[Ingest],
    workspace: str,
    report: ImportReport,
    on_batch: Callable[[IngestResult], None] | None,
) -> None:
    result = store.ingest(batch, workspace=workspace)
    report.counts.add(result.counts)
    if on_batch is not None:
        on_batch(result)


def import_paths(
    store: Store,
    paths: Iterable[str],
    *,
    workspace: str = "default",
    fmt: str = "auto",
    on_bytes: Callable[[int], None] | None = None,
    max_record_bytes: int = DEFAULT_MAX_BYTES,
    on_batch: Callable[[IngestResult], None] | None = None,
) -> ImportReport:
    """Import each path (``-`` is standard input) into ``workspace``."""
    report = ImportReport()
    for path in paths:
        if path == "-":
            import_stream(
                store,
                sys.stdin.buffer,
                "-",
                workspace=workspace,
                fmt=fmt,
                report=report,
                on_bytes=on_bytes,
                max_record_bytes=max_record_bytes,
                on_batch=on_batch,
            )
            continue
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below, after streaming
        except OSError as exc:
            report.rejected += 1
            report.errors.append({"file": path, "line": 0, "reason": exc.strerror or str(exc)})
            continue
        with handle:
            import_stream(
                store,
                handle,
                path,
                workspace=workspace,
                fmt=fmt,
                report=report,
                on_bytes=on_bytes,
                max_record_bytes=max_record_bytes,
                on_batch=on_batch,
            )
    return report
