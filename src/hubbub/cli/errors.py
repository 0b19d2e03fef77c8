"""What the command line prints when something goes wrong: one line naming
the problem, never a traceback, and an exit status a script can act on.

Exit 2: the command was used wrongly (a bad option value, a query Hubbub
cannot run). Exit 1: the command was right but the database could not do it
(unreachable, damaged, not a database). Click prints both as ``Error: …``.
"""

from __future__ import annotations

import io
from typing import IO, Any

import click
import sqlalchemy as sa

from hubbub.launch import EndsLikeCoreutils
from hubbub.settings import SettingError
from hubbub.store.api import QueryTooComplex, WorkspaceNameError, check_workspace_name
from hubbub.store.engine import DamagedDatabase, StoreError
from hubbub.terminal_text import plain

# SQLite's words for a file that is not (or no longer) a valid database.
_DAMAGED = ("not a database", "malformed", "corrupt", "disk image")


def database_error_message(exc: sa.exc.DBAPIError) -> str:
    """One line for a database error that escaped a command."""
    detail = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc).__name__
    if any(word in detail.lower() for word in _DAMAGED):
        return f"the database is damaged or not a Hubbub database: {detail}"
    return f"database error: {detail}"


class PlainError(click.ClickException):
    """``error`` as Click shows it (usage line, hint, message; same exit status)
    with control and bidi characters replaced (hubbub.terminal_text). Lines
    Hubbub broke on purpose, like a query error's caret line, stay."""

    def __init__(self, error: click.ClickException) -> None:
        super().__init__(error.message)
        self.error = error

    def format_message(self) -> str:
        return plain(self.error.format_message(), keep_newlines=True)

    def show(self, file: IO[Any] | None = None) -> None:
        shown = io.StringIO()
        self.error.show(shown)
        # No file: standard error, where Click shows errors.
        click.echo(plain(shown.getvalue(), keep_newlines=True), file=file, err=True, nl=False)


class PlainUsageError(PlainError):
    """A usage error (exit 2) shown as :class:`PlainError` shows errors."""

    exit_code = 2


class HubbubGroup(EndsLikeCoreutils, click.Group):
    """The top-level group: turns the store's errors into clean CLI errors,
    whichever command they come from, and ends every command as coreutils do
    when the reader of its output goes away (``hubbub export … | head``)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return self._invoke_translating_errors(ctx)
        except click.ClickException as exc:
            # Error messages quote names, queries and servers' answers: whatever
            # raised it, no escape code reaches the terminal.
            if exc.exit_code == PlainUsageError.exit_code:
                raise PlainUsageError(exc) from None
            raise PlainError(exc) from None

    def _invoke_translating_errors(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (WorkspaceNameError, QueryTooComplex, SettingError) as exc:
            raise click.UsageError(str(exc)) from None
        except DamagedDatabase as exc:
            raise click.ClickException(str(exc)) from None
        except StoreError as exc:
            raise click.ClickException(str(exc)) from None
        except sa.exc.DBAPIError as exc:
            raise click.ClickException(database_error_message(exc)) from None


def workspace_name(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """Click callback: a ``--workspace`` value the store accepts (exit 2 if not)."""
    try:
        return check_workspace_name(value)
    except WorkspaceNameError as exc:
        raise click.BadParameter(str(exc)) from None
