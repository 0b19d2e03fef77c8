"""The ``hubbub`` script's entry point.

``hubbub classify`` is the one command people pipe large files through, and its
speed is measured as a whole process against VADER's (docs/classifiers.md):
importing the full CLI (store, SQLAlchemy, alembic, the web app's modules) took
1.5-2.5 s of a 6 s run on 60,000 texts. So that command starts alone, with only
the classifier imported; every other command goes through ``hubbub.cli``.

Both top-level commands (the ``hubbub`` group and ``classify`` started alone) parse
their arguments (help and version are printed then) and run their work inside
:func:`stop_when_reader_leaves`, kept here because this module imports nothing heavy.
"""

from __future__ import annotations

import errno
import io
import os
import select
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click


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


# A write that failed for good: one line on stderr and exit 1, as coreutils say it.
_WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class _StdoutClosed(OSError):
    """A write to a standard output the process was started without."""


class _ClosedStdout(io.TextIOBase):
    """``sys.stdout`` when the process started with fd 1 closed (``hubbub export >&-``):
    Python leaves it None, so ``sys.stdout.buffer`` was an AttributeError and click.echo
    dropped text silently. Every write fails as the closed descriptor would (EBADF),
    unbuffered, so nothing is left to fail again at exit."""

    def __init__(self) -> None:
        super().__init__()
        self.buffer = _ClosedStdoutBytes()

    def writable(self) -> bool:
        return True

    def write(self, _text: str) -> int:
        raise _StdoutClosed(errno.EBADF, os.strerror(errno.EBADF))


class _ClosedStdoutBytes(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, _data: object) -> int:
        raise _StdoutClosed(errno.EBADF, os.strerror(errno.EBADF))


class EndsLikeCoreutils(click.Command):
    """A top-level command (the ``hubbub`` group, ``classify`` started alone) that
    parses its arguments and runs inside :func:`stop_when_reader_leaves`."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        # --help and --version print while the arguments are parsed, before invoke.
        with stop_when_reader_leaves():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with stop_when_reader_leaves():
            return super().invoke(ctx)


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

    The other ways output ends early end here too, as coreutils do: a full disk
    (``>/dev/full``) or a stdout closed from the start give ``hubbub: write error:
    …`` and exit 1; Ctrl-C gives exit 130 (128 + SIGINT) instead of Click's 1.
    """
    if sys.stdout is None:
        sys.stdout = _ClosedStdout()
    try:
        yield
        # Output still buffered must reach the reader inside this guard, not at exit.
        sys.stdout.flush()
    except OSError as exc:
        if exc.errno == errno.EPIPE and _stdout_reader_gone():
            _die_of_sigpipe()
        if exc.errno in _WRITE_ERRORS or isinstance(exc, _StdoutClosed):
            _die_of_write_error(exc)
        raise  # a broken socket to a server is a real error, not a reader leaving
    except KeyboardInterrupt:
        if sys.stderr is not None:
            # The newline ends the terminal's "^C" echo.
            sys.stderr.write(
                "\nhubbub: interrupted\n" if sys.stderr.isatty() else "hubbub: interrupted\n"
            )
        raise SystemExit(128 + signal.SIGINT) from None


def _die_of_write_error(exc: OSError) -> None:
    if sys.stderr is not None:
        sys.stderr.write(f"hubbub: write error: {exc.strerror or os.strerror(exc.errno or 0)}\n")
    # What is still buffered would fail again when Python flushes it at exit.
    _stdout_to_devnull()
    raise SystemExit(1)


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
    _stdout_to_devnull()
    sigpipe = getattr(signal, "SIGPIPE", None)
    if sigpipe is not None:
        try:
            signal.signal(sigpipe, signal.SIG_DFL)
        except ValueError:
            pass  # not the main thread: the exit status below says the same to a shell
        else:
            os.kill(os.getpid(), sigpipe)
    raise SystemExit(128 + (sigpipe or 13))


def _stdout_to_devnull() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    if devnull != 1:  # fd 1 was closed: the open took it, nothing to move
        os.dup2(devnull, 1)
        os.close(devnull)
