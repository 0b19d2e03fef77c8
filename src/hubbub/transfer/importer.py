"""Import files of network payloads (twarc2 JSONL, API dumps, SSE captures,
Hubbub exports) into the store.

Bad input loses nothing else: a line or document that cannot be read is
reported with its file and line, and every other record is stored.

A large file is read and parsed in a second process (forked: see
``transfer/parse_worker.py``) while this one writes, so both cores work; the
batches come through a bounded queue, so memory stays flat in the file size.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, Generic, TypeVar

from hubbub.formats import BadPost, Context, FormatError, parse_record
from hubbub.formats.reader import DEFAULT_MAX_BYTES, Record, iter_file_records
from hubbub.post import Author, Skipped
from hubbub.store import Ingest, IngestCounts, IngestResult, RawPayload, Store

BATCH_SIZE = 2000
# Files at least this large are parsed in a second process; below it the
# fork and the queue cost more than they save.
WORKER_MIN_BYTES = 2 * 1024 * 1024

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class BatchStage(Generic[P]):
    """Work done on each batch around its write. ``prepare`` runs where the
    batch was parsed (the parser process for a large file: it must not use
    the store) and may do the store-free part of the work, such as
    classifying texts; ``stored`` runs here after the batch is written, with
    what ``prepare`` returned."""

    prepare: Callable[[Sequence[Ingest]], P]
    stored: Callable[[IngestResult, P], None]


def _as_stage(
    on_batch: Callable[[IngestResult], None] | BatchStage[P] | None,
) -> BatchStage[Any] | None:
    """A plain ``on_batch`` callback as a stage that prepares nothing."""
    if on_batch is None or isinstance(on_batch, BatchStage):
        return on_batch
    after = on_batch
    return BatchStage(prepare=lambda _items: None, stored=lambda result, _none: after(result))


# Errors listed per file: a wrong file (every line in another encoding) gave
# thousands of lines of the same error; past this many a summary says how
# many more there were (the counts are always complete).
MAX_LISTED_ERRORS = 20
# Kinds of non-post records named apart; the rest are counted as "other".
MAX_NOT_POST_KINDS = 50


@dataclass(slots=True)
class ImportReport:
    counts: IngestCounts = field(default_factory=IngestCounts)
    rejected: int = 0  # lines, documents or events that could not be read at all
    bad_posts: int = 0  # posts skipped inside records whose other posts were imported
    errors: list[dict[str, Any]] = field(default_factory=list)
    # What the records that are not posts were (tweet counts, users, likes…),
    # by kind: counts.skipped is their total. Valid records, read and ignored:
    # not the bad posts that make the exit status 1.
    not_posts: dict[str, int] = field(default_factory=dict)

    def count_not_posts(self, batch: Sequence[Ingest]) -> None:
        """Count ``batch``'s non-post items by kind (the store counts them as skipped)."""
        kinds = self.not_posts
        for ingest in batch:
            item = ingest.item
            if isinstance(item, Skipped):
                kind = item.kind
            elif isinstance(item, Author):
                kind = "identity"  # a handle learnt for an account, not a post
            else:
                continue
            if kind not in kinds and len(kinds) >= MAX_NOT_POST_KINDS:
                kind = "other"  # kinds come from the payload: a hostile file has many
            kinds[kind] = kinds.get(kind, 0) + 1

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
            # Added after the keys above, which other tools read in this order.
            "bad_posts": self.bad_posts,
            "not_posts": self.not_posts,
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
    """Turn a file's records into ``Ingest`` items, recording rejections and
    the bad posts skipped inside records (at most ``MAX_LISTED_ERRORS`` of
    them listed, then one line saying how many more)."""
    ctx = Context(source=name, fetched_at=fetched_at)
    errors = _FileErrors(name, report)
    for record in records:
        if record.error is not None:
            report.rejected += 1
            errors.add(record.line, record.error)
            continue
        problems: Sequence[BadPost]
        try:
            used, items = parse_record(record.value, ctx, fmt)
        except FormatError as exc:
            if exc.problems:
                problems, reason = exc.problems, None
            else:
                problems, reason = (), str(exc)
        except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the rest of the file
            problems, reason = (), f"unreadable payload ({type(exc).__name__}: {exc})"
        else:
            raw = RawPayload(body=record.raw, source=name, fetched_at=fetched_at, format=used)
            for item in items:
                yield Ingest(item, raw)
            problems, reason = ctx.problems, None
        for problem in problems:
            report.bad_posts += 1
            errors.add(record.line, str(problem), post=problem.post, field=problem.field)
        if reason is not None:
            report.rejected += 1
            errors.add(record.line, reason)
    errors.close()


class _FileErrors:
    """The errors of one file into the report, listing only the first
    ``MAX_LISTED_ERRORS``."""

    def __init__(self, name: str, report: ImportReport) -> None:
        self.name = name
        self.report = report
        self.listed = 0
        self.unlisted = 0

    def add(self, line: int, reason: str, **where: str | None) -> None:
        if self.listed >= MAX_LISTED_ERRORS:
            self.unlisted += 1
            return
        self.listed += 1
        entry: dict[str, Any] = {"file": self.name, "line": line, "reason": reason}
        entry.update({key: value for key, value in where.items() if value is not None})
        self.report.errors.append(entry)

    def close(self) -> None:
        if self.unlisted:
            self.report.errors.append(
                {
                    "file": self.name,
                    "line": 0,
                    "reason": f"{self.unlisted} more errors in this file not listed"
                    f" (the first {MAX_LISTED_ERRORS} are above)",
                    "unlisted": self.unlisted,
                }
            )


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
    on_batch: Callable[[IngestResult], None] | BatchStage[P] | None = None,
) -> ImportReport:
    """Import one stream batch by batch, in this process: memory holds one
    batch and one record, whatever the file's size. ``on_batch`` sees each
    stored batch (``hubbub import`` matches and classifies there, as live
    posts are)."""
    report = report or ImportReport()
    stage = _as_stage(on_batch)
    fetched_at = datetime.now(UTC)
    reader = _CountingReader(stream, on_bytes)
    batch: list[Ingest] = []
    for ingest in parse_file_records(
        iter_file_records(reader, max_record_bytes), name, fmt, report, fetched_at
    ):
        batch.append(ingest)
        if len(batch) >= batch_size:
            _store_batch(store, batch, workspace, report, stage)
            batch = []
    if batch:
        _store_batch(store, batch, workspace, report, stage)
    return report


def _store_batch(
    store: Store,
    batch: Sequence[Ingest],
    workspace: str,
    report: ImportReport,
    stage: BatchStage[Any] | None,
) -> None:
    prepared = stage.prepare(batch) if stage is not None else None
    store_prepared(store, batch, workspace, report, stage, prepared)


def store_prepared(
    store: Store,
    batch: Sequence[Ingest],
    workspace: str,
    report: ImportReport,
    stage: BatchStage[P] | None,
    prepared: P,
) -> None:
    """Write one batch and hand it to the stage with what ``prepare`` made of it."""
    result = store.ingest(batch, workspace=workspace)
    report.counts.add(result.counts)
    report.count_not_posts(batch)
    if stage is not None:
        stage.stored(result, prepared)


def import_paths(
    store: Store,
    paths: Iterable[str],
    *,
    workspace: str = "default",
    fmt: str = "auto",
    on_bytes: Callable[[int], None] | None = None,
    max_record_bytes: int = DEFAULT_MAX_BYTES,
    on_batch: Callable[[IngestResult], None] | BatchStage[P] | None = None,
    worker_min_bytes: int = WORKER_MIN_BYTES,
) -> ImportReport:
    """Import each path (``-`` is standard input) into ``workspace``; files of
    ``worker_min_bytes`` or more are parsed in a second process."""
    from hubbub.transfer.parse_worker import can_fork, import_with_worker

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
            if can_fork() and _size(handle) >= worker_min_bytes:
                import_with_worker(
                    store,
                    handle,
                    path,
                    workspace=workspace,
                    fmt=fmt,
                    report=report,
                    on_bytes=on_bytes,
                    max_record_bytes=max_record_bytes,
                    stage=_as_stage(on_batch),
                )
                continue
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


def _size(handle: IO[bytes]) -> int:
    try:
        return os.fstat(handle.fileno()).st_size
    except OSError:
        return 0
