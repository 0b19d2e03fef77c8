"""The ``hubbub`` script's entry point.

``hubbub classify`` is the one command people pipe large files through, and its
speed is measured as a whole process against VADER's (docs/classifiers.md):
importing the full CLI (store, SQLAlchemy, alembic, the web app's modules) took
1.5-2.5 s of a 6 s run on 60,000 texts. So that command starts alone, with only
the classifier imported; every other command goes through ``hubbub.cli``.

Both top-level commands (the ``hubbub`` group and ``classify`` started alone) run
their work inside :func:`stop_when_reader_leaves`, kept here because this module
imports nothing heavy.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager


def run() -> None:
    args = sys.argv[1:]
    if args[:1] == ["classify"]:
        from hubbub.classify.command import classify

        # The same help options as the group gives its commands.
        classify.main(
            args=args[1:], prog_name="hubbub classify", help_option_names=["-h", "--help"]
        )
        return
    from hubbub.cli import main

    main()


@contextmanager
def stop_when_reader_leaves() -> Iterator[None]:
    """Around a command's work: when the reader of stdout goes away (``hubbub
    classify FILE | head -3``), end the way coreutils do, killed by SIGPIPE (the
    shell sees 141), with no traceback and no error text.

    Python ignores SIGPIPE, so a write to a closed pipe raises instead; Click
    would turn that into a silent exit 1, which a script cannot tell from a real
    failure. SIGPIPE's default action is not restored for the whole run because
    it would also kill ``hubbub serve`` when a client hangs up its socket. The
    command's own ``finally`` blocks (a worker pool, a database session) have run
    by the time the error reaches here.
    """
    try:
        yield
        # Output still buffered must reach the reader inside this guard, not at exit.
        # (No sys.stdout at all when started with fd 1 closed: `hubbub … >&-`.)
        if sys.stdout is not None:
            sys.stdout.flush()
    except OSError as exc:
        if exc.errno != errno.EPIPE or not _stdout_reader_gone():
            raise  # a broken socket to a server is a real error, not a reader leaving
        _die_of_sigpipe()


def _stdout_reader_gone() -> bool:
    """True when nothing reads standard output any more: a pipe whose reader closed
    (or a socket whose peer did) polls as an error or a hang-up."""
    if not hasattr(select, "poll"):
        return True  # no poll() on this system (Windows): trust the EPIPE
    poller = select.poll()
    poller.register(1, 0)  # no events asked for: errors and hang-ups are always reported
    return any(events & (select.POLLERR | select.POLLHUP) for _fd, events in poller.poll(0))


def _die_of_sigpipe() -> None:
    """End this process as SIGPIPE's default action would."""
    # Anything still buffered for stdout would fail again when Python flushes it at
    # exit ("Exception ignored ... BrokenPipeError"): point fd 1 at /dev/null first.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    sigpipe = getattr(signal, "SIGPIPE", None)
    if sigpipe is not None:
        try:
            signal.signal(sigpipe, signal.SIG_DFL)
        except ValueError:
            pass  # not the main thread: the exit status below says the same to a shell
        else:
            os.kill(os.getpid(), sigpipe)
    raise SystemExit(128 + (sigpipe or 13))
