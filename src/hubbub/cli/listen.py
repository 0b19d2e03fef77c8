"""``hubbub listen add|list|remove`` and ``hubbub report``."""

from __future__ import annotations

import click
import orjson

from hubbub.cli.audit import cli_record
from hubbub.cli.dash_args import DashArgsCommand
from hubbub.cli.data import db_option, parse_query_or_fail, store_from, workspace_option
from hubbub.cli.output_file import (
    check_out,
    format_for_out,
    is_stdout,
    open_text_out,
    out_format_help,
    out_option,
)
from hubbub.i18n import _
from hubbub.store.audit import DetailValue
from hubbub.terminal_text import plain

REPORT_FORMATS = ("json", "html", "csv")


@click.group("listen")
def listen_group() -> None:
    """Saved listening queries (brand, competitors, locale, industry, or your own groups)."""


@listen_group.command("add", cls=DashArgsCommand)
@click.argument("name")
@click.argument("query")
@click.option(
    "--group",
    default="brand",
    show_default=True,
    help="Group: brand, competitors, locale, industry, or any name of your own.",
)
@db_option
@workspace_option
def add_command(name: str, query: str, group: str, db: str | None, workspace: str) -> None:
    """Save QUERY as NAME and find its matches among stored posts."""
    from hubbub.listen import SavedQueryError, add_query

    parse_query_or_fail(query)  # a usage error pointing at the column
    with store_from(db) as store:
        try:
            saved = add_query(store, name, query, group=group, workspace=workspace)
        except SavedQueryError as exc:
            raise click.UsageError(str(exc)) from None
        cli_record(
            store,
            workspace,
            "saved_query_created",
            target=saved.name,
            detail={"group": saved.group, "query": query},
        )
    click.echo(
        _("saved {name} ({group}): {matches} matching posts").format(
            name=plain(saved.name), group=plain(saved.group), matches=saved.matches
        )
    )


@listen_group.command("list")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True
)
@db_option
@workspace_option
def list_command(fmt: str, db: str | None, workspace: str) -> None:
    """Saved queries with their number of stored matches."""
    from hubbub.listen import list_queries

    with store_from(db, must_exist=True, workspace=workspace) as store:
        saved = list_queries(store, workspace=workspace, with_matches=True)
    if fmt == "jsonl":
        for q in saved:
            click.echo(orjson.dumps(q.as_json()).decode())
        return
    from rich.table import Table

    from hubbub.cli.tables import table_console

    table = Table()
    for column in (_("name"), _("group"), _("matches"), _("query")):
        table.add_column(column, overflow="fold")
    for q in saved:
        table.add_row(plain(q.name), plain(q.group), str(q.matches), plain(q.query))
    # Names and queries are user text, perhaps stored before names were checked:
    # no markup (table_console), no escape codes (plain).
    table_console().print(table)


@listen_group.command("remove")
@click.argument("name")
@click.option(
    "--force",
    is_flag=True,
    help=_("Remove it even if inbox rules are built on it: they go too (their cases stay)."),
)
@db_option
@workspace_option
def remove_command(name: str, force: bool, db: str | None, workspace: str) -> None:
    """Delete saved query NAME and its stored matches. Refused while inbox
    rules are built on it (it names them), unless --force."""
    from hubbub.listen import SavedQueryInUse, remove_query, rules_of_query

    name = name.strip()  # as 'listen add' stored it
    with store_from(db) as store:
        # Named before they go, to say what --force removed.
        rules = rules_of_query(store, name, workspace=workspace) if force else ()
        try:
            removed = remove_query(store, name, workspace=workspace, force=force)
        except SavedQueryInUse as exc:
            raise click.ClickException(plain(str(exc))) from None
        if not removed:
            raise click.UsageError(_("no saved query named {name!r}").format(name=name))
        cli_record(store, workspace, "saved_query_deleted", target=name)
    if rules:
        click.echo(
            _("removed {name} and inbox rule(s) {rules}").format(
                name=plain(name), rules=", ".join(str(i) for i in rules)
            )
        )
    else:
        click.echo(_("removed {name}").format(name=plain(name)))


@click.command("report", cls=DashArgsCommand)
@click.argument("query", required=False)
@click.option("--saved", "saved_name", metavar="NAME", help="Report on a saved query.")
@click.option("--group", metavar="G", help="Report on every saved query of a group.")
@db_option
@workspace_option
@click.option(
    "--since",
    metavar="D",
    help="Start (inclusive): YYYY-MM-DD or ISO timestamp, in the workspace's time zone. "
    "Default: the oldest matching post (with neither bound, the report covers every "
    "matching post).",
)
@click.option(
    "--until",
    metavar="D",
    help="End (exclusive) and 'now' for the 24-hour figures. Default: just after the "
    "newest matching post.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(REPORT_FORMATS),
    default=None,
    help=out_format_help(REPORT_FORMATS, "json"),
)
@out_option("Write to FILE (replaced only once complete); '-' for standard output.")
def report_command(
    query: str | None,
    saved_name: str | None,
    group: str | None,
    db: str | None,
    workspace: str,
    since: str | None,
    until: str | None,
    fmt: str | None,
    out: str | None,
) -> None:
    """Scorecard, share of voice and the Who/What/When/Where/Why/How/Extent
    report for QUERY, a saved query (--saved) or a group (--group)."""
    from hubbub.analyze import PeriodError, Selection, build_report, render_csv, render_html
    from hubbub.analyze.selection import parse_when
    from hubbub.listen import SavedQueryError

    chosen = [x for x in (query, saved_name, group) if x is not None]
    if len(chosen) != 1:
        raise click.UsageError(_("give exactly one of QUERY, --saved NAME or --group G"))
    if query is not None:
        parse_query_or_fail(query)
        selection = Selection("query", query)
    elif saved_name is not None:
        selection = Selection("saved", saved_name)
    else:
        selection = Selection("group", group or "")
    from zoneinfo import ZoneInfo

    # Bad dates are usage errors before the database is even opened.
    for name, value in (("--since", since), ("--until", until)):
        if value is not None:
            try:
                parse_when(value, ZoneInfo("UTC"))
            except PeriodError as exc:
                raise click.UsageError(f"{name}: {exc}") from None
    fmt = format_for_out(out, fmt, REPORT_FORMATS, "json")
    check_out(out, db)  # never over the database, never into a missing folder
    with store_from(db, must_exist=True, workspace=workspace) as store:
        try:
            report = build_report(store, selection, workspace=workspace, since=since, until=until)
        except (PeriodError, SavedQueryError) as exc:
            raise click.UsageError(str(exc)) from None
    if fmt == "html":
        text = render_html(report)
    elif fmt == "csv":
        text = render_csv(report)
    else:
        text = orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n"
    detail: dict[str, DetailValue] = {
        "command": "report",
        "format": fmt,
        selection.kind: selection.value,
    }
    target = "stdout" if is_stdout(out) else str(out)
    try:
        with open_text_out(out or "-") as fh:
            fh.write(text)
            fh.flush()  # a write that fails must fail here, to be audited so
    except BaseException:
        # Part of it may have left (a reader that went away, a full disk, Ctrl-C):
        # audited all the same, as cut short.
        detail["cut_short"] = True
        raise
    finally:
        # A report carries matched posts out of the workspace: audited as an export.
        with store_from(db) as store:
            cli_record(store, workspace, "export", target=target, detail=detail)


COMMANDS = [listen_group, report_command]
