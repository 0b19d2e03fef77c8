"""``hubbub classify`` over a stream on every CPU: chunks of lines to forked workers,
their JSONL written back in input order.

Classification is CPU-bound Python and numpy in one thread, so one process uses
one core; the baseline it is measured against (VADER) uses one too, and the
machine has more (issue 15: "both cores are there to be used"). The parent reads
lines, hands out chunks and writes the answers in order; the workers classify.

* Workers are forked after the parent has loaded the models and the language
  detector, so they start in milliseconds and share those pages instead of each
  paying the load again (start-up counts in the whole-process figure).
* Order: answers are written in the order the chunks were read, whatever order
  the workers finish in.
* Memory: at most ``2 × workers + 1`` chunks are in flight; the parent stops
  reading until the oldest is written, so a file of any size or an endless pipe
  streams in bounded memory.
* Small inputs (up to two chunks) are classified in this process: forking would
  cost more than it saves, and tests that run the command in-process stay there.

Every chunk goes through the same ``classify_lines`` as the single-process path,
with its own first line number, so the bytes out are the same either way.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, islice
from multiprocessing.pool import AsyncResult, Pool
from types import FrameType
from typing import IO

import orjson

#: Lines per chunk: small enough that the last chunk does not leave one core idle
#: for long, large enough that per-chunk costs (pickling, numpy set-up) are noise.
CHUNK = 1024
#: Never more workers than this by default: the parent, reading and writing
#: alone, would become the bottleneck well before that.
MAX_WORKERS = 8


def default_workers() -> int:
    """The CPUs this process may run on (its affinity, not the machine's count), at most 8."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


# (first line number, lines, format, --lang-default)
Job = tuple[int, list[str], str, str | None]


def classify_chunk(job: Job) -> bytes:
    """The JSONL answer for one chunk of input lines (one object per usable line)."""
    from hubbub.classify.command import classify_lines

    first, lines, fmt, lang_default = job
    return b"".join(
        orjson.dumps(result) + b"\n"
        for result in classify_lines(iter(lines), fmt, lang_default, first_line=first)
    )


def _jobs(lines: Iterable[str], fmt: str, lang_default: str | None) -> Iterator[Job]:
    it = iter(lines)
    first = 1
    while True:
        part = list(islice(it, CHUNK))
        if not part:
            return
        yield first, part, fmt, lang_default
        first += len(part)


def _preload() -> None:
    """Load what every worker needs before forking, so they share it.

    The language detector's model is decompressed in a thread (lzma lets other
    threads run) while this one imports numpy and loads the classifiers.
    """
    from hubbub.classify.language import preload as preload_language
    from hubbub.classify.language import start_reading_model

    start_reading_model()
    from hubbub.classify.linear import load_models

    load_models()
    preload_language()


def classify_stream(
    lines: Iterable[str], fmt: str, lang_default: str | None, out: IO[bytes], workers: int
) -> None:
    """Write the JSONL answer for ``lines`` to ``out``, using up to ``workers`` processes."""
    jobs = _jobs(lines, fmt, lang_default)
    head = list(islice(jobs, 2))
    if workers < 2 or len(head) < 2 or len(head[1][1]) < CHUNK:
        for job in chain(head, jobs):
            out.write(classify_chunk(job))
        return
    import multiprocessing

    _preload()
    # fork: the workers inherit the loaded models (spawn would import and load again).
    pool = multiprocessing.get_context("fork").Pool(workers, initializer=_worker_start)
    # SIGTERM's default ends this process without running the `finally` below, and the
    # workers were left running, each printing a BrokenPipeError: make it an exit.
    previous = _on_term(_exit_on_term)
    try:
        pending: deque[AsyncResult[bytes]] = deque()
        for job in chain(head, jobs):
            pending.append(pool.apply_async(classify_chunk, (job,)))
            if len(pending) > 2 * workers:
                out.write(pending.popleft().get())
        while pending:
            out.write(pending.popleft().get())
        pool.close()
    except BaseException:
        # Ended early (a closed or full output, Ctrl-C, an error): no worker outlives
        # the command, and nothing may wait on them (see _abandon).
        _abandon(pool)
        raise
    else:
        pool.join()
    finally:
        _on_term(previous)


def _abandon(pool: Pool) -> None:
    """Kill ``pool``'s workers now and drop its own clean-up.

    ``Pool.terminate()`` can wait for ever here: its task thread may be blocked
    writing the next chunk into the workers' queue while they are killed, and
    terminate joins that thread (seen about once in thirty runs with standard
    output closed: a futex wait beside two zombie workers). So the workers are
    killed and reaped here, the pool is marked terminated so its worker thread
    starts no new ones, and its exit-time finaliser (which would call the same
    terminate) is cancelled; its threads are daemons and end with the process.
    """
    from multiprocessing import pool as pool_module

    pool._state = pool_module.TERMINATE  # type: ignore[attr-defined]
    pool._worker_handler._state = pool_module.TERMINATE  # type: ignore[attr-defined]
    for worker in list(pool._pool):  # type: ignore[attr-defined]
        worker.kill()
    for worker in list(pool._pool):  # type: ignore[attr-defined]
        worker.join(timeout=5)
    pool._terminate.cancel()  # type: ignore[attr-defined]


Handler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None


def _on_term(handler: Handler) -> Handler:
    """Set SIGTERM's handler, returning the old one; a no-op off the main thread
    (only it may set handlers; a library caller keeps its own)."""
    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:
        return handler


def _exit_on_term(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _worker_start() -> None:
    """In each worker: Ctrl-C is the parent's to handle (it stops the pool, so the
    workers print no KeyboardInterrupt of their own), and on Linux the kernel ends a
    worker whose parent died without stopping it (SIGKILL)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass
