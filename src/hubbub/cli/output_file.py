"""Where a command's ``--out FILE`` goes, one way for every command.

A reviewer found three ways ``--out`` lost data: a path naming the database
overwrote it with a report, a missing folder ended in a traceback, and ``-``
made a file called "-". So every ``--out`` is checked and written here:

- ``-`` is standard output, as it is for every file argument of the CLI;
- the database (``--db``) and the files that live beside it (its WAL and
  shared-memory files, rollback journal, session and accounts key files,
  lease files) are refused before any work is done;
- a folder that does not exist is one clear line, before any work is done;
- a regular file is written to a temporary file in the same folder and renamed
  over the target only once complete, so a full disk, Ctrl-C or an error
  half-way leaves the old file (or no file) and no temporary file behind.
  Devices and pipes (``/dev/null``, a FIFO) cannot be renamed over and are
  written in place.

Which format goes into ``--out FILE`` is decided here too (:func:`format_for_out`),
the same way for report, recap and export: ``--out r.markdown`` once wrote
JSON into a file every program then took for Markdown.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO, TypeVar

import click

STDOUT = "-"
_Command = TypeVar("_Command", bound=Callable[..., object])

# The files SQLite and Hubbub keep beside an SQLite database, by suffix.
_COMPANION_SUFFIXES = ("-wal", "-shm", "-journal", ".secret", ".accounts-key")
# Lease files are named "<db>.lease-<digest>" (hubbub.store.leases).
_LEASE_INFIX = ".lease-"
# Key files configured elsewhere than beside the database (settings, networks.secrets).
_KEY_FILE_VARIABLES = ("HUBBUB_SECRET_FILE", "HUBBUB_ACCOUNTS_KEY_FILE")


def out_option(help_text: str) -> Callable[[_Command], _Command]:
    """The ``--out FILE`` option every command that writes a file shares."""
    return click.option(
        "--out",
        type=click.Path(dir_okay=False, allow_dash=True),
        metavar="FILE",
        help=help_text,
    )


# The format a file name's extension names (lower-cased), for --out.
FORMAT_OF_EXTENSION = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".html": "html",
    ".htm": "html",
    ".md": "md",
    ".markdown": "md",
    ".csv": "csv",
    ".pdf": "pdf",
    ".gexf": "gexf",
}


# How a message names each format.
_FORMAT_NAMES = {
    "json": "JSON",
    "jsonl": "JSON Lines",
    "html": "HTML",
    "md": "Markdown",
    "csv": "CSV",
    "pdf": "PDF",
    "gexf": "GEXF",
}


def out_format_help(choices: Sequence[str], default: str) -> str:
    """The --format help text: the rule of :func:`format_for_out` for this command."""
    named = "; ".join(
        "/".join(ext for ext, named in FORMAT_OF_EXTENSION.items() if named == fmt) + f": {fmt}"
        for fmt in choices
    )
    return (
        f"Default: the format --out's extension names ({named}), else {default}. "
        "A file named for another format is refused: for one this command writes, "
        "with --format too; for one it does not, unless --format is given."
    )


def format_for_out(out: str | None, fmt: str | None, choices: Sequence[str], default: str) -> str:
    """The format to write: ``--format`` when given, else the one ``--out``'s
    extension names, else ``default``. A file named for one format never
    silently receives another: an extension naming a format this command
    writes must agree with ``--format``; without ``--format``, an extension
    naming a format this command cannot write (``report --out r.pdf``) is
    refused too, where one naming no format (``.txt``, none) takes ``default``.
    A usage error (exit 2), before any work is done."""
    named = None if is_stdout(out) else FORMAT_OF_EXTENSION.get(Path(str(out)).suffix.lower())
    if named is None:
        return fmt or default
    if fmt is None:
        if named in choices:
            return named
        raise click.BadParameter(
            f"{out} is named for {_FORMAT_NAMES[named]}, which this command does not "
            f"write (formats: {', '.join(choices)}); name the file for one of them, or "
            "give --format to write one there anyway.",
            param_hint="'--out'",
        )
    if named != fmt and named in choices:
        raise click.BadParameter(
            f"{out} is named for {_FORMAT_NAMES[named]} but --format is {fmt}; "
            f"drop --format to write {_FORMAT_NAMES[named]}, or name the file for "
            f"{_FORMAT_NAMES[fmt]}.",
            param_hint="'--out'",
        )
    return fmt


def is_stdout(out: str | None) -> bool:
    """True when the output goes to standard output: no ``--out``, or ``--out -``."""
    return out is None or out == STDOUT


def check_out(out: str | None, db: str | None) -> None:
    """Refuse, before any work, an ``--out`` that would destroy the database or
    that cannot be written at all (a missing folder, a folder given as the file).

    The database is a usage error (exit 2); an unwritable place is exit 1 with
    the system's own words, as ``cannot write PATH: REASON``."""
    if is_stdout(out):
        return
    assert out is not None
    for protected, what in _protected_files(db):
        if _same_file(out, protected):
            raise click.BadParameter(
                f"{out} is {what}; writing there would destroy it. Choose another file.",
                param_hint="'--out'",
            )
    target = Path(out).expanduser()
    if target.is_dir():
        raise click.ClickException(f"cannot write {out}: Is a directory")
    folder = target.resolve().parent
    if not folder.is_dir():
        reason = "Not a directory" if folder.exists() else "No such file or directory"
        raise click.ClickException(f"cannot write {out}: {reason}")
    if _read_only(str(target)):
        raise click.ClickException(f"cannot write {out}: Permission denied")


@contextmanager
def open_text_out(out: str) -> Iterator[TextIO]:
    """Text (UTF-8, no newline translation) for ``--out``: standard output for
    ``-``, else a file that appears whole or not at all (see :func:`_written_whole`)."""
    if out == STDOUT:
        yield sys.stdout
        return
    with _written_whole(out) as path, open(path, "w", encoding="utf-8", newline="") as fh:
        yield fh


@contextmanager
def open_binary_out(out: str) -> Iterator[BinaryIO]:
    """Bytes for ``--out``: standard output for ``-``, else as :func:`open_text_out`."""
    if out == STDOUT:
        yield sys.stdout.buffer
        return
    with _written_whole(out) as path, open(path, "wb") as fh:
        yield fh


@contextmanager
def _written_whole(out: str) -> Iterator[str]:
    """The path to open for ``out``: a temporary file beside it, renamed over it
    when the block ends without error and removed when it does not. Any OS error
    (making, writing, renaming) becomes one line, ``cannot write OUT: REASON``,
    exit 1. Call :func:`check_out` first."""
    target = os.path.realpath(os.path.expanduser(out))  # a symlink's target is replaced
    temporary: str | None = None
    try:
        if _is_special(target):
            # /dev/null, /dev/full, a FIFO: written in place (renaming over a device
            # would replace it); they hold nothing to lose.
            yield target
            return
        if _read_only(target):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        folder, name = os.path.split(target)
        # Hidden and recognisable, in the same folder so the rename is atomic.
        fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
        os.close(fd)
        yield temporary
        _sync(temporary)  # the bytes are on disk before the name moves to them
        os.chmod(temporary, _mode_for(target))
        os.replace(temporary, target)
        temporary = None
    except OSError as exc:
        raise click.ClickException(
            f"cannot write {out}: {exc.strerror or os.strerror(exc.errno or 0)}"
        ) from None
    finally:
        # Ctrl-C, a full disk, an error in the command: the old file stays as it was.
        if temporary is not None:
            try:
                os.unlink(temporary)
            except FileNotFoundError:
                pass


def _sync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _mode_for(target: str) -> int:
    """The replaced file's permissions, or those ``open()`` would give a new file
    (mkstemp's are 0600)."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _read_only(path: str) -> bool:
    """A file its owner made read-only: a rename would replace it where ``open()``
    is refused, so it is refused as ``open()`` would be (root may, as with open)."""
    return os.path.exists(path) and not os.access(path, os.W_OK)


def _is_special(path: str) -> bool:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False
    return not stat.S_ISREG(mode)


def _protected_files(db: str | None) -> Iterator[tuple[str, str]]:
    """The database's file and its companions, with what each is, for SQLite."""
    for variable in _KEY_FILE_VARIABLES:
        if os.environ.get(variable):
            yield os.environ[variable], f"the key file ${variable} names"
    database = _sqlite_file(db)
    if database is None:
        return
    yield database, "the database (--db)"
    for suffix in _COMPANION_SUFFIXES:
        yield database + suffix, "a file the database (--db) keeps beside it"
    folder, name = os.path.split(os.path.realpath(database))
    try:
        beside = os.listdir(folder or ".")
    except OSError:
        return
    for entry in beside:
        if entry.startswith(name + _LEASE_INFIX):
            yield os.path.join(folder, entry), "a lease file of the database (--db)"


def _sqlite_file(db: str | None) -> str | None:
    from sqlalchemy.engine import make_url

    from hubbub.store.engine import StoreError, resolve_db_url

    try:
        url = make_url(resolve_db_url(db))
    except (StoreError, ValueError):
        return None  # the store says what is wrong with the URL itself
    name = url.database
    if url.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    if name.startswith("file:"):  # an SQLite URI filename: the path before its options
        name = name[len("file:") :].split("?", 1)[0]
    return os.path.expanduser(name)


def _same_file(a: str, b: str) -> bool:
    """The same file by resolved path, or (hard links) by device and inode."""
    a, b = os.path.expanduser(a), os.path.expanduser(b)
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False  # one of them does not exist yet: different by path is enough
