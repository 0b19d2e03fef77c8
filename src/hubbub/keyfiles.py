"""Key files: secrets Hubbub keeps on disk beside the database (the session
signing key, the accounts key), readable by their owner only.

One way to read and to create them, so both keys get the same guarantees:
a file others can read is tightened to 0600 if it is ours and refused if not
(a local user could otherwise sign cookies or decrypt tokens); a new key is
written to a private temporary file and linked into place, which fails if
another process got there first, and then that process's key is used, so
processes starting at once agree on one key.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


class KeyFileError(RuntimeError):
    """A key file that must not be used (readable by others and not ours)."""


def read_private(path: Path, what: str) -> str | None:
    """The file's text (stripped), or None when it does not exist."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "r", encoding="utf-8") as fh:
        if os.fstat(fh.fileno()).st_mode & 0o077:
            try:
                os.fchmod(fh.fileno(), 0o600)
            except PermissionError:
                raise KeyFileError(
                    f"{what} {path} is readable by other users and not ours to fix: chmod 600 it"
                ) from None
        return fh.read().strip()


def create_private(path: Path, make_key: Callable[[], str], what: str) -> str:
    """A new key in ``path`` (or the one another process just wrote there)."""
    key = make_key()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(key + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            return read_private(path, what) or ""
    finally:
        tmp.unlink(missing_ok=True)
    return key


def read_or_create(path: Path, make_key: Callable[[], str], what: str) -> str:
    return read_private(path, what) or create_private(path, make_key, what)
