"""``hubbub audit``: read the audit log; and ``cli_record``, which the other
commands call to put what they did in it.

The command line acts as the operator of the database it opens, so its
events carry the operator's OS user (``cli:<user>``) as actor: the log then
tells a web owner's change from a shell's.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from datetime import datetime

import click
import orjson

from hubbub.cli.data import db_option, store_from, workspace_option
from hubbub.i18n import _
from hubbub.store import Store
from hubbub.store.audit import ACTIONS, AuditEntry, AuditLog, BadSince, DetailValue, parse_since
from hubbub.store.scope import NoSuchWorkspace, existing_scope, scope
from hubbub.terminal_text import plain


def cli_actor() -> str:
    """``cli:<os user>``: who ran the command, as far as the OS says."""
    try:
        who = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        who = f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return f"cli:{who}"


def cli_record(
    store: Store,
    workspace: str,
    action: str,
    *,
    target: str | None = None,
    detail: Mapping[str, DetailValue] | None = None,
) -> None:
    """Record that this command did ``action`` in ``workspace``; called once
    the change is done (a refused or failed command records nothing)."""
    AuditLog(scope(store, workspace)).record(cli_actor(), action, target=target, detail=detail)


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_since(value)
    except BadSince as exc:
        raise click.BadParameter(str(exc)) from None


def _detail(entry: AuditEntry) -> str:
    return " ".join(f"{k}={v}" for k, v in entry.detail.items())


@click.command("audit")
@click.option(
    "--since",
    metavar="D",
    callback=_since,
    help="Only events at or after D: a date (2026-11-30, UTC), an ISO time "
    "(2026-11-30T08:00Z) or an age (30m, 24h, 7d, 2w).",
)
@click.option(
    "--action",
    type=click.Choice(sorted(ACTIONS)),
    metavar="ACTION",
    help="Only events of this kind: signin, signin_failed, role_changed, export, "
    "user_deleted, … (every kind: docs/audit.md).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True
)
@workspace_option
@db_option
def audit_command(
    since: datetime | None, action: str | None, fmt: str, workspace: str, db: str | None
) -> None:
    """The audit log, oldest first: sign-ins (failed too), user and role
    changes, account connections, exports and deletions."""
    with store_from(db, must_exist=True) as store:
        try:
            log = AuditLog(existing_scope(store, workspace))
        except NoSuchWorkspace:
            raise click.BadParameter(
                _("no workspace named {name!r}").format(name=workspace), param_hint="--workspace"
            ) from None
        entries = log.iter_since(since, action=action)
        if fmt == "jsonl":
            for entry in entries:
                click.echo(orjson.dumps(entry.as_json()).decode())
            return
        _print_table(list(entries))


def _print_table(entries: list[AuditEntry]) -> None:
    from rich.table import Table

    from hubbub.cli.tables import table_console

    table = Table()
    for column in (
        _("time (UTC)"),
        _("actor"),
        _("action"),
        _("target"),
        _("detail"),
        _("address"),
    ):
        table.add_column(column, overflow="fold")
    for e in entries:
        table.add_row(
            e.at.strftime("%Y-%m-%d %H:%M:%S"),
            plain(e.actor),
            plain(e.action),
            plain(e.target),
            plain(_detail(e)),
            plain(e.address),
        )
    # Without markup (table_console): names and targets may be network text.
    table_console().print(table)
    click.echo(_("{n} events").format(n=len(entries)))


COMMANDS = [audit_command]
