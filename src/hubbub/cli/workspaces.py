"""``hubbub workspace list``: the workspaces a database holds;
``hubbub workspace set-timezone``: the one time zone of a workspace.

A group of its own, not ``hubbub user workspaces``: a workspace holds posts,
network accounts and saved queries as well as users, and ``--workspace``
names one on nearly every command, so the list sits beside ``account``,
``listen`` and ``user`` rather than under one of them.
"""

from __future__ import annotations

import sys

import click
import orjson

from hubbub.cli.audit import cli_record
from hubbub.cli.data import db_option, store_from, workspace_option
from hubbub.i18n import _
from hubbub.terminal_text import plain


@click.group("workspace")
def workspace_group() -> None:
    """Workspaces: what --workspace names on other commands."""


@workspace_group.command("list")
@db_option
@click.option("--json", "as_json", is_flag=True, help="One JSON array of objects.")
def workspace_list(db: str | None, as_json: bool) -> None:
    """List every workspace: name, created (UTC), time zone, and its number
    of users, stored posts, network accounts and saved queries."""
    from hubbub.store.directory import workspace_summaries

    with store_from(db, must_exist=True) as store:
        found = workspace_summaries(store)
    if as_json:
        sys.stdout.buffer.write(
            orjson.dumps([w.as_json() for w in found], option=orjson.OPT_INDENT_2) + b"\n"
        )
        return
    if not found:
        click.echo(_("No workspaces yet: the first write (import, user create…) makes one."))
        return
    from rich.table import Table

    from hubbub.cli.tables import table_console

    table = Table()
    for column in (
        _("workspace"),
        _("created (UTC)"),
        _("time zone"),
        _("users"),
        _("posts"),
        _("accounts"),
        _("saved queries"),
    ):
        table.add_column(column, overflow="fold")
    for w in found:
        table.add_row(
            # A name typed on any command line (bidi marks included): no
            # markup (table_console), no escape codes (plain).
            plain(w.name),
            w.created_at.strftime("%Y-%m-%d %H:%M"),
            plain(w.timezone),
            str(w.users),
            str(w.posts),
            str(w.accounts),
            str(w.saved_queries),
        )
    table_console().print(table)


@workspace_group.command("set-timezone")
@click.argument("zone")
@db_option
@workspace_option
def workspace_set_timezone(zone: str, db: str | None, workspace: str) -> None:
    """Set the workspace's time zone to ZONE, an IANA name such as
    Europe/Warsaw or America/Los_Angeles (UTC until set).

    It is the one time zone of the workspace: report and dashboard dates
    (midnight of --since DATE), volume buckets, hours and weekdays, and the
    inbox's business hours (`hubbub inbox hours --timezone` sets the same
    setting). `hubbub workspace list` shows it."""
    from hubbub.store.scope import scope
    from hubbub.store.workspace_settings import TimezoneError, WorkspaceSettings, check_timezone

    try:
        check_timezone(zone)
    except TimezoneError as exc:
        raise click.BadParameter(str(exc), param_hint="ZONE") from None
    with store_from(db, workspace=workspace) as store:
        old = WorkspaceSettings(scope(store, workspace)).set_timezone(zone)
        if old != zone:
            cli_record(
                store,
                workspace,
                "settings_changed",
                target="timezone",
                detail={"from": old, "to": zone},
            )
    if old == zone:
        click.echo(
            _("{workspace}: the time zone is already {zone}.").format(
                workspace=plain(workspace), zone=zone
            )
        )
    else:
        click.echo(
            _("{workspace}: time zone {old} → {zone}").format(
                workspace=plain(workspace), old=old, zone=zone
            )
        )


COMMANDS = [workspace_group]
