"""``hubbub account add|check|list|remove`` and ``hubbub sources status``.

Secrets come on standard input, never as arguments (which other local users
can read in the process list) and are never echoed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import sys
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import click
import orjson

from hubbub.cli.audit import cli_record
from hubbub.cli.data import db_option, store_from, workspace_option
from hubbub.i18n import _
from hubbub.terminal_text import plain

_STDIN_LIMIT = 10_000  # characters: a token is far shorter; anything longer is a mistake


def _read_lines(count: int) -> list[str]:
    data = sys.stdin.read(_STDIN_LIMIT + 1)
    if len(data) > _STDIN_LIMIT:
        raise click.UsageError(_("standard input is too long for a secret"))
    lines = [line.strip() for line in data.splitlines() if line.strip()]
    if len(lines) != count:
        raise click.UsageError(
            _("expected {count} non-empty line(s) on standard input, got {got}").format(
                count=count, got=len(lines)
            )
        )
    return lines


def normalise_server(server: str) -> str:
    """A Mastodon server as a base URL: a host name means https."""
    value = server.strip().rstrip("/")
    if "://" not in value:
        value = "https://" + value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        raise click.BadParameter(
            _("a server is a host name or an http(s) URL"), param_hint="--server"
        )
    if parts.scheme == "http" and not _loopback(parts.hostname):
        # The account's token goes in every request: over plain HTTP anyone on the
        # path could read it. Loopback stays allowed (a local proxy, tests).
        raise click.BadParameter(
            _("the token would travel unencrypted: use https:// (http:// only for this machine)"),
            param_hint="--server",
        )
    return value


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _box(db_url: str):
    from hubbub.networks.secrets import AccountsKeyError, load_box

    try:
        return load_box(db_url)
    except AccountsKeyError as exc:
        raise click.ClickException(str(exc)) from None


@click.group("account")
def account() -> None:
    """Network accounts (X, Bluesky, Mastodon) whose secrets Hubbub keeps encrypted."""


@account.command("add")
@click.argument("network", type=click.Choice(["x", "bluesky", "mastodon"]))
@click.option("--name", required=True, help="A name for this account in Hubbub.")
@click.option("--server", default=None, help="Mastodon: the server (host name or URL).")
@db_option
@workspace_option
def account_add(
    network: str, name: str, server: str | None, db: str | None, workspace: str
) -> None:
    """Add an account; the secret is read from standard input.

    X: one line, a bearer token or an OAuth 2.0 user token. Bluesky: two
    lines, the handle and an app password. Mastodon: one line, an access
    token, and --server. Nothing is sent to the network: run
    ``hubbub account check NAME`` for that.
    """
    from hubbub.store.network_accounts import AccountError, add_account

    if network == "mastodon":
        if not server:
            raise click.UsageError(_("a Mastodon account needs --server"))
        server = normalise_server(server)
    elif server:
        server = normalise_server(server)
    lines = _read_lines(2 if network == "bluesky" else 1)
    secret = "\n".join(lines)
    with store_from(db) as store:
        box = _box(str(store.engine.url.render_as_string(hide_password=False)))
        try:
            info = add_account(store, box, workspace, network, name, secret, server)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        cli_record(
            store,
            workspace,
            "account_connected",
            target=info.name,
            detail={"network": info.network, "server": server},
        )
    click.echo(
        _("Added {network} account {name}").format(network=info.network, name=plain(info.name))
    )
    # The check is a separate step (adding sends nothing), but until it has run
    # the inbox cannot tell mentions of the account from others: say so now.
    click.echo(
        _("Next: hubbub account check {name} (verifies it and records who it is)").format(
            name=plain(info.name)
        )
    )


@account.command("list")
@db_option
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
def account_list(db: str | None, workspace: str, as_json: bool) -> None:
    """List accounts (never their secrets)."""
    from hubbub.store.network_accounts import list_accounts

    with store_from(db, must_exist=True, workspace=workspace) as store:
        accounts = list_accounts(store, workspace)
    for info in accounts:
        if as_json:
            click.echo(orjson.dumps(info.as_json()).decode())
            continue
        # check_result holds what the network answered (a handle, an error).
        checked = plain(info.check_result) or _("not checked")
        server = f" {plain(info.server)}" if info.server else ""
        click.echo(f"{plain(info.name)}\t{info.network}{server}\t{checked}")


@account.command("remove")
@click.argument("name")
@db_option
@workspace_option
def account_remove(name: str, db: str | None, workspace: str) -> None:
    """Remove an account and its secret."""
    from hubbub.store.network_accounts import remove_account

    with store_from(db) as store:
        if not remove_account(store, workspace, name):
            raise click.ClickException(_("no account named {name}").format(name=plain(name)))
        cli_record(store, workspace, "account_removed", target=name)
    click.echo(_("Removed {name}").format(name=plain(name)))


@account.command("check")
@click.argument("name")
@click.option("--url", default=None, metavar="BASE", help="Ask this API base URL (tests, proxies).")
@db_option
@workspace_option
def account_check(name: str, url: str | None, db: str | None, workspace: str) -> None:
    """Verify an account against its network (one call)."""
    from hubbub.networks.accounts_check import CheckFailed, check_account
    from hubbub.networks.secrets import AccountsKeyError
    from hubbub.sources.base import describe_error
    from hubbub.store.network_accounts import AccountError, get_credentials, record_check

    with store_from(db) as store:
        box = _box(str(store.engine.url.render_as_string(hide_password=False)))
        try:
            credentials = get_credentials(store, box, workspace, name=name)
        except (AccountError, AccountsKeyError) as exc:
            raise click.ClickException(str(exc)) from None
        try:
            who = asyncio.run(check_account(credentials, url))
        except CheckFailed as exc:
            # The exact secret is known here: masked wherever the server echoed it.
            reason = describe_error(exc, known=credentials.secret_values())
            reason = reason.removeprefix("CheckFailed: ")
            record_check(store, workspace, name, "failed: " + reason)
            raise click.ClickException(_("check failed: {reason}").format(reason=reason)) from None
        record_check(store, workspace, name, "ok: " + who)
    click.echo(_("{name}: ok ({who})").format(name=plain(name), who=plain(who)))


@click.group("sources")
def sources() -> None:
    """Network sources' health, as the running serve or worker last wrote it."""


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


@sources.command("status")
@db_option
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source.")
def sources_status(db: str | None, workspace: str, as_json: bool) -> None:
    """Per source: state, last event, posts per minute, gaps and misses."""
    from hubbub.store.source_health import read_health

    with store_from(db, must_exist=True, workspace=workspace) as store:
        rows = read_health(store, workspace)
    now = time.time()
    if as_json:
        for snap in rows:
            out = snap.as_json()
            out["age_seconds"] = round(now - snap.updated_at, 1)
            click.echo(orjson.dumps(out).decode())
        return
    if not rows:
        click.echo(_("No network source has run in this workspace."))
        return
    for snap in rows:
        # A row no runtime refreshed reads "stale: worker not running (last
        # seen T)" already (read_health), so the line says it once.
        click.echo(f"{plain(snap.source)}: {plain(snap.line())}")
        click.echo(
            _(
                "  last event {last}, {ppm:.1f} posts/min, {posts} posts; gaps {found} found, "
                "{filled} backfilled; {missed} known missed"
            ).format(
                last=_when(snap.last_event_at),
                ppm=snap.posts_per_minute,
                posts=snap.posts,
                found=snap.gaps_found,
                filled=snap.gaps_backfilled,
                missed=snap.posts_missed,
            )
        )
        if snap.via:
            click.echo(_("  via: {via}").format(via=plain(snap.via)))
        if snap.reason and snap.state != "stopped":
            click.echo(_("  last error: {reason}").format(reason=plain(snap.reason)))


COMMANDS = [account, sources]
