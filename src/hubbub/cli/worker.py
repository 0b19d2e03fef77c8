"""``hubbub worker``: the runtime (sources → pipeline → store, listening,
alerts, source health) with no web server, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging

import click

from hubbub.cli.data import db_option, workspace_option
from hubbub.i18n import _
from hubbub.settings import Settings
from hubbub.terminal_text import log_to_terminal, plain


@click.command("worker")
@db_option
@workspace_option
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="SPEC",
    help="A source to run: sim:TAG, replay:FILE, x:stream, x:search:QUERY, "
    "bluesky:jetstream, mastodon:tag:TAG@SERVER … Repeatable. Networks where the "
    "workspace has an account are followed without naming a source.",
)
@click.option(
    "--no-accounts",
    is_flag=True,
    help="Run only the named sources, not those the workspace's accounts imply.",
)
def worker(db: str | None, workspace: str, sources: tuple[str, ...], no_accounts: bool) -> None:
    """Run sources, the pipeline and listening without a web server.

    Stops cleanly on SIGINT or SIGTERM (within 15 s); each source's position
    is committed with the posts it covers, so even SIGKILL loses nothing.
    """
    from hubbub.networks.secrets import AccountsKeyError
    from hubbub.runtime import Runtime, run_until_signalled
    from hubbub.store.engine import StoreError
    from hubbub.store.network_accounts import AccountError

    # Log lines quote servers (reasons, names): cleaned like all terminal output.
    log_to_terminal(level=logging.INFO)
    # httpx logs every request URL at INFO: noise at stream rates.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = Settings.from_env(db=db, workspace=workspace, sources=tuple(sources) or None)
    runtime = Runtime(settings, follow_accounts=not no_accounts)

    def ready() -> None:
        names = plain(", ".join(s.name for s in runtime.sources)) or _("none")
        click.echo(_("Hubbub worker running; sources: {names}").format(names=names), err=True)

    try:
        asyncio.run(run_until_signalled(runtime, ready))
    except (ValueError, StoreError, AccountError, AccountsKeyError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(_("Hubbub worker stopped"), err=True)


COMMANDS = [worker]
