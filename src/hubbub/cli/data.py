"""``hubbub import``, ``hubbub search`` and ``hubbub export``."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import click
import orjson

from hubbub.author_labels import AuthorLabels
from hubbub.cli.dash_args import DashArgsCommand
from hubbub.cli.errors import workspace_name
from hubbub.cli.output_file import (
    STDOUT,
    check_out,
    format_for_out,
    is_stdout,
    open_binary_out,
    open_text_out,
    out_format_help,
    out_option,
)
from hubbub.formats import FORMATS
from hubbub.formats.reader import DEFAULT_MAX_BYTES
from hubbub.i18n import _
from hubbub.post import Post
from hubbub.query.parser import QuerySyntaxError, parse
from hubbub.repost_text import needs_original, repost_text
from hubbub.store import Store, open_store
from hubbub.store.api import DEFAULT_WORKSPACE
from hubbub.store.audit import DetailValue
from hubbub.store.engine import StoreError
from hubbub.store.originals import stored_originals
from hubbub.terminal_text import plain
from hubbub.transfer.exporter import write_csv, write_jsonl, write_raw
from hubbub.transfer.importer import import_paths

EXPORT_FORMATS = ("jsonl", "csv", "gexf")

db_option = click.option(
    "--db",
    envvar="HUBBUB_DB",
    default=None,
    metavar="URL",
    help="Database: a file path or an SQLAlchemy URL (sqlite:///…, postgresql://…). "
    "Default ./hubbub.db, or $HUBBUB_DB.",
)
workspace_option = click.option(
    "--workspace",
    default="default",
    show_default=True,
    callback=workspace_name,
    help="Workspace the data belongs to (1 to 100 characters).",
)


@contextmanager
def store_from(
    db: str | None, *, must_exist: bool = False, workspace: str | None = None
) -> Iterator[Store]:
    """The store ``--db`` names. Commands that only read pass ``must_exist``:
    a mistyped SQLite path is then an error, not a new empty database; with
    ``workspace`` too, a mistyped ``--workspace`` is a usage error (exit 2),
    not a new empty workspace (the store's workspace lookup creates on first use)."""
    if must_exist:
        _require_existing(db)
    try:
        store = open_store(db)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    store.on_new_workspace = _say_new_workspace
    try:
        if workspace is not None:
            require_workspace(store, workspace)
        yield store
    finally:
        store.close()


def _say_new_workspace(name: str) -> None:
    click.echo(
        _("hubbub: created workspace {name!r} (it did not exist)").format(name=plain(name)),
        err=True,
    )


def require_workspace(store: Store, workspace: str) -> None:
    """A usage error (exit 2) naming ``workspace`` unless it exists; never creates it.

    The default workspace is always there to read: a database that holds nothing yet
    (not even the default workspace's row, made on first write) reads as empty, not as
    "no workspace named 'default'"."""
    if workspace != DEFAULT_WORKSPACE and store.find_workspace(workspace) is None:
        raise click.BadParameter(
            _("no workspace named {name!r}").format(name=workspace), param_hint="--workspace"
        )


def _require_existing(db: str | None) -> None:
    from sqlalchemy.engine import make_url

    from hubbub.store.engine import resolve_db_url

    try:
        url = make_url(resolve_db_url(db))
    except (StoreError, ValueError):
        return  # open_store says what is wrong with the URL itself
    name = url.database
    is_file = url.get_backend_name() == "sqlite" and bool(name) and name != ":memory:"
    if is_file and name and not os.path.exists(name):
        raise click.ClickException(
            f"no database at {name} (nothing imported yet? check --db or $HUBBUB_DB)"
        )


def parse_query_or_fail(query: str):
    try:
        return parse(query)
    except QuerySyntaxError as exc:
        raise click.UsageError(f"bad query: {exc}\n  {query}\n  {' ' * exc.position}^") from None


@contextmanager
def _progress(paths: tuple[str, ...]) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on a terminal, by bytes read; nothing in pipes."""
    # No sys.stderr at all when a cron or systemd job started us with fd 2 closed.
    if sys.stderr is None or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    total = sum(os.path.getsize(p) for p in paths if p != "-" and os.path.isfile(p)) or None
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        transient=True,
        console=None,
    ) as progress:
        task = progress.add_task("importing", total=total)
        yield lambda n: progress.advance(task, n)


@click.command("import")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@db_option
@workspace_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="Payload format; auto detects it per line, document or SSE event.",
)
@click.option(
    "--max-record-mb",
    type=click.IntRange(min=1, max=4096),
    default=DEFAULT_MAX_BYTES // (1024 * 1024),
    show_default=True,
    envvar="HUBBUB_MAX_RECORD_MB",
    help="Largest line, JSON document or SSE event read; a larger one is "
    "reported with its file and line, and the rest of the file is imported.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the counts.")
def import_command(
    files: tuple[str, ...],
    db: str | None,
    workspace: str,
    fmt: str,
    max_record_mb: int,
    as_json: bool,
) -> None:
    """Import FILE... (JSONL, JSON documents, SSE captures; - reads stdin).

    UTF-8, or UTF-16/32 with or without a byte order mark; gzip-compressed
    files are read as they are. A post that cannot be read is skipped and
    named (file, line, post id, field), counted as a bad post; the rest of
    its page is imported. Records that are not posts (tweet counts, users,
    likes, follows…) are counted by kind and ignored: they are not errors.

    Exit status 0 when every record was read, 1 when some were rejected or
    posts skipped (the rest is stored), 2 for usage errors.
    """
    missing = [f for f in files if f != "-" and not os.path.exists(f)]
    if missing:
        raise click.UsageError(f"no such file: {missing[0]}")
    from hubbub.cli.import_summary import summary_line
    from hubbub.listen.imported import listen_after_import
    from hubbub.transfer.parse_worker import ParserDied

    with store_from(db) as store, _progress(files) as on_bytes:
        try:
            report = import_paths(
                store,
                files,
                workspace=workspace,
                fmt=fmt,
                on_bytes=on_bytes,
                max_record_bytes=max_record_mb * 1024 * 1024,
                # Matched and classified here, like live posts: reports only read.
                on_batch=listen_after_import(store, workspace),
            )
        except ParserDied as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(orjson.dumps(report.as_json()).decode())
    else:
        click.echo(summary_line(report))
        for error in report.errors:
            # A reason can quote the rejected record: hostile text.
            where = f"{plain(error['file'])}:{error['line']}"
            click.echo(f"{where}: {plain(error['reason'])}", err=True)
    sys.exit(1 if report.rejected or report.bad_posts else 0)


@click.command("search", cls=DashArgsCommand)
@click.argument("query")
@db_option
@workspace_option
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "jsonl", "csv"]),
    default="table",
    show_default=True,
)
def search_command(query: str, db: str | None, workspace: str, limit: int, fmt: str) -> None:
    """Search stored posts, newest first.

    QUERY: words, "exact phrase", OR, ( ), -exclusion, #hashtag, @mention,
    from:handle, lang:xx, network:x|bluesky|mastodon, is:reply, is:repost,
    has:links, has:media, since:YYYY-MM-DD, until:YYYY-MM-DD.
    """
    node = parse_query_or_fail(query)
    originals: dict[tuple[str, str], Post] = {}
    labels: AuthorLabels | None = None
    with store_from(db, must_exist=True, workspace=workspace) as store:
        posts = store.search(node, workspace=workspace, limit=limit)
        if fmt == "table":
            # A repost with no text (Bluesky, Mastodon) is shown by its original:
            # one lookup for the originals, one for every author's handle (not a
            # Jetstream post's DID).
            originals = stored_originals(store, workspace, filter(needs_original, posts))
            labels = AuthorLabels.of_posts(store, workspace, [*posts, *originals.values()])
    if fmt == "jsonl":
        write_jsonl(posts, sys.stdout.buffer)
    elif fmt == "csv":
        write_csv(posts, sys.stdout)
    else:
        assert labels is not None
        _print_table(posts, labels, originals)


def _print_table(
    posts: list[Post], labels: AuthorLabels, originals: dict[tuple[str, str], Post]
) -> None:
    from rich.table import Table

    from hubbub.cli.tables import table_console

    table = Table(show_lines=False)
    for column in ("time (UTC)", "network", "author", "text"):
        table.add_column(column, overflow="fold")
    for post in posts:
        table.add_row(
            post.created_at.strftime("%Y-%m-%d %H:%M"),
            plain(post.network),
            plain(labels.label(post.network, post.author.id)),
            plain(" ".join(_shown_text(post, labels, originals).split())),
        )
    # Network text is hostile: no markup (table_console), no escape codes (plain).
    table_console().print(table)
    click.echo(f"{len(posts)} posts")


def _shown_text(post: Post, labels: AuthorLabels, originals: dict[tuple[str, str], Post]) -> str:
    original = originals.get((post.network, post.repost_of)) if post.repost_of else None
    return repost_text(post, original, labels)


@click.command("export", cls=DashArgsCommand)
@click.argument("query", required=False)
@db_option
@workspace_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default=None,
    help="gexf: the conversation network (accounts, mention/reply/repost/quote edges) for "
    "Gephi. " + out_format_help(EXPORT_FORMATS, "jsonl"),
)
@click.option("--raw", is_flag=True, help="Write the original payloads as received instead.")
@out_option("Write to FILE (replaced only once complete); '-' for standard output.")
def export_command(
    query: str | None, db: str | None, workspace: str, fmt: str | None, raw: bool, out: str | None
) -> None:
    """Write posts (all, or those matching QUERY) to standard output or --out, oldest first."""
    node = parse_query_or_fail(query) if query else None
    fmt = format_for_out(out, fmt, EXPORT_FORMATS, "jsonl")
    if raw and fmt != "jsonl":
        raise click.UsageError(
            f"--raw writes payloads as received (JSONL); it cannot be {fmt.upper()}"
        )
    if is_stdout(out):
        out = None
    check_out(out, db)  # never over the database, never into a missing folder
    with store_from(db, must_exist=True, workspace=workspace) as store:
        # Data left the workspace: the audit log says what, how much, in which form,
        # also when the export was cut short (a reader that left, a full disk,
        # Ctrl-C, a database error): the rows already out are out.
        counted = _Counter()
        written, done = 0, False
        unit = "accounts" if fmt == "gexf" else "payloads" if raw else "posts"
        # --out FILE appears only once complete: cut short, it is left as it was.
        target = out or STDOUT
        try:
            if fmt == "gexf":
                from hubbub.analyze.gexf import export_gexf

                with open_text_out(target) as text:
                    graph = export_gexf(store, node, text, workspace=workspace, label=query or "")
                written = len(graph.labels)
            elif raw:
                rows = counted.through(store.iter_raw(node, workspace=workspace))
                with open_binary_out(target) as fh:
                    written = write_raw(rows, fh)
            elif fmt == "csv":
                with open_text_out(target) as text:
                    written = write_csv(
                        counted.through(store.iter_posts(node, workspace=workspace)), text
                    )
            else:
                posts = counted.through(store.iter_posts(node, workspace=workspace))
                with open_binary_out(target) as fh:
                    written = write_jsonl(posts, fh)
            if not out:
                # Still buffered rows must fail here if they fail, to be audited so.
                sys.stdout.flush()
            done = True
        finally:
            complete = written if done else None
            _record_export(store, workspace, out, fmt, raw, query, unit, complete, counted.n)


_Row = TypeVar("_Row")


class _Counter:
    """Counts the rows an exporter took, for the audit entry of an export cut short."""

    def __init__(self) -> None:
        self.n = 0

    def through(self, rows: Iterable[_Row]) -> Iterator[_Row]:
        for row in rows:
            self.n += 1
            yield row


def _record_export(
    store: Store,
    workspace: str,
    out: str | None,
    fmt: str,
    raw: bool,
    query: str | None,
    unit: str,
    written: int | None,
    taken: int,
) -> None:
    from hubbub.cli.audit import cli_record  # cli.audit imports this module

    detail: dict[str, DetailValue] = {"format": "raw" if raw else fmt, "query": query or ""}
    if written is not None:
        detail[unit] = written  # complete: the entry's shape as it always was
        cli_record(store, workspace, "export", target=out or "stdout", detail=detail)
        return
    # Cut short: at most this many rows reached the reader (a gexf graph is written
    # only once built, so none of its accounts are counted).
    detail[unit] = taken if unit != "accounts" else 0
    detail["cut_short"] = True
    try:
        cli_record(store, workspace, "export", target=out or "stdout", detail=detail)
    except Exception:
        # The error that cut the export short (a dead database, say) is the one the
        # user must see; this one would replace it.
        if sys.stderr is not None:
            sys.stderr.write("hubbub: the export was cut short and could not be audited\n")


COMMANDS = [import_command, search_command, export_command]
