"""Parse a file in a forked process while this one writes.

Reading, decoding and parsing an X archive, tokenizing each post's text for
the full-text index, and the batch stage's ``prepare`` (classifying the
texts, for ``hubbub import``) use no database: a forked child does them and
sends each batch through a bounded queue, while the parent does what needs
the store (merge, write, match). The two halves take about as long each, so
the import uses both cores. The queue holds at most ``_QUEUED`` batches, so
memory stays flat in the file's size.

A batch (a few MB: its raw pages go with it) is pickled to a file in a
private temporary folder and only the file's name goes through the queue:
through the queue's pipe (64 KB at a time) the writer waited for the child to
be scheduled for every 64 KB, which on a loaded machine was most of the gain.

Fork, not spawn: the child starts with the parser, the handle and the stage
already in memory (nothing to pickle or import again), and never touches the
parent's database connections (it leaves with ``os._exit``, as every
multiprocessing child does, so no finalizer closes them). Where fork is not
available the importer parses in-process.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import pickle
import queue
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, Generic, TypeVar

from hubbub.formats.reader import iter_file_records
from hubbub.post import Post
from hubbub.query.tokens import index_text
from hubbub.store import Ingest, Store
from hubbub.transfer.importer import (
    BATCH_SIZE,
    BatchStage,
    ImportReport,
    parse_file_records,
    store_prepared,
)

P = TypeVar("P")

_QUEUED = 2  # batches parsed ahead of the writer
_POLL_SECONDS = 1.0


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


@dataclass(slots=True)
class _Parsed(Generic[P]):
    """One batch as the child sends it, with what the parent must add to its
    report and its progress bar."""

    path: str | None  # the pickled (items, prepared), None when the batch is empty
    read_bytes: int
    rejected: int
    bad_posts: int
    errors: list[dict[str, Any]] = field(default_factory=list)
    last: bool = False


@dataclass(slots=True)
class _Failed:
    error: BaseException


class _Counter:
    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.count += len(data)
        return data


def _prepare_for_store(items: list[Ingest]) -> None:
    """Here, off the writer: tokenize each post's text for the full-text index,
    hash and compress each raw page (and send it compressed)."""
    for ingest in items:
        item = ingest.item
        if isinstance(item, Post) and not item.deleted:
            ingest.search_text = index_text(item.text)
        if ingest.raw is not None:
            ingest.raw.pack()  # once per page: the posts of a page share it


class ParserDied(RuntimeError):
    """The parser process ended before the file did (killed, out of memory)."""


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _end_with_parent(parent: int, folder: str) -> None:
    """The parser must not outlive the import: a killed ``hubbub import`` left its
    child parsing (blocked on the full queue) for ever, holding the database
    files and its pickles. Linux sends the child SIGTERM when the parent dies;
    the child then removes the batches it wrote and exits. A parent that died
    before this was set is seen by the parent id having changed."""

    def stop(_signum: int, _frame: object) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        os._exit(1)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl: the parent-id check below still catches most cases
    if os.getppid() != parent:
        stop(signal.SIGTERM, None)


def _child(
    out: Any,
    folder: str,
    parent: int,
    stream: IO[bytes],
    name: str,
    fmt: str,
    max_record_bytes: int,
    prepare: Callable[[list[Ingest]], P] | None,
) -> None:
    _end_with_parent(parent, folder)
    try:
        report = ImportReport()
        counter = _Counter(stream)
        sent_bytes = sent_rejected = sent_bad = sent_errors = sent = 0

        def send(items: list[Ingest], last: bool) -> None:
            nonlocal sent_bytes, sent_rejected, sent_bad, sent_errors, sent
            path = None
            if items:
                _prepare_for_store(items)
                prepared = prepare(items) if prepare is not None else None
                path = os.path.join(folder, f"{sent}.pickle")
                sent += 1
                with open(path, "wb") as handle:
                    pickle.dump((items, prepared), handle, protocol=pickle.HIGHEST_PROTOCOL)
            out.put(
                _Parsed(
                    path,
                    counter.count - sent_bytes,
                    report.rejected - sent_rejected,
                    report.bad_posts - sent_bad,
                    report.errors[sent_errors:],
                    last,
                )
            )
            sent_bytes, sent_rejected = counter.count, report.rejected
            sent_bad = report.bad_posts
            sent_errors = len(report.errors)

        records = iter_file_records(counter, max_record_bytes)
        batch: list[Ingest] = []
        for ingest in parse_file_records(records, name, fmt, report, datetime.now(UTC)):
            batch.append(ingest)
            if len(batch) >= BATCH_SIZE:
                send(batch, last=False)
                batch = []
        send(batch, last=True)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        try:
            out.put(_Failed(exc))
        except Exception:  # noqa: BLE001 - an exception that does not pickle
            out.put(_Failed(RuntimeError(f"{type(exc).__name__}: {exc}")))
    finally:
        out.close()
        out.join_thread()  # the last batch reaches the pipe before the child exits


def _receive(inbox: Any, child: Any) -> _Parsed[Any] | _Failed:
    while True:
        try:
            message: _Parsed[Any] | _Failed = inbox.get(timeout=_POLL_SECONDS)
            return message
        except queue.Empty:
            if not child.is_alive():
                try:
                    message = inbox.get(timeout=_POLL_SECONDS)
                    return message
                except queue.Empty:
                    code = child.exitcode
                    raise ParserDied(
                        f"the parser process ended (exit code {code}) before the file did;"
                        " what was stored stays stored, and importing the file again"
                        " adds only what is missing"
                    ) from None


def import_with_worker(
    store: Store,
    stream: IO[bytes],
    name: str,
    *,
    workspace: str,
    fmt: str,
    report: ImportReport,
    on_bytes: Callable[[int], None] | None,
    max_record_bytes: int,
    stage: BatchStage[P] | None,
) -> ImportReport:
    """``import_stream``'s work with parsing in a forked child: same batches
    in the same order, same report, same rows."""
    ctx = multiprocessing.get_context("fork")
    inbox = ctx.Queue(maxsize=_QUEUED)
    prepare = stage.prepare if stage is not None else None
    folder = tempfile.TemporaryDirectory(prefix="hubbub-import-", ignore_cleanup_errors=True)
    child = ctx.Process(
        target=_child,
        args=(inbox, folder.name, os.getpid(), stream, name, fmt, max_record_bytes, prepare),
        name="hubbub-import-parser",
        daemon=True,
    )
    child.start()
    try:
        while True:
            message = _receive(inbox, child)
            if isinstance(message, _Failed):
                raise message.error
            report.rejected += message.rejected
            report.bad_posts += message.bad_posts
            report.errors.extend(message.errors)
            if on_bytes is not None and message.read_bytes:
                on_bytes(message.read_bytes)
            if message.path is not None:
                with open(message.path, "rb") as handle:
                    items, prepared = pickle.load(handle)  # noqa: S301 - our own child wrote it
                os.unlink(message.path)
                store_prepared(store, items, workspace, report, stage, prepared)
            if message.last:
                break
        child.join()
    finally:
        if child.is_alive():  # the writer failed: stop parsing
            child.terminate()
            child.join()
        inbox.close()
        folder.cleanup()
    return report
