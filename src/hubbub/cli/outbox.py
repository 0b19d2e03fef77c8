"""``hubbub post`` and ``hubbub outbox list|retry|cancel``.

``post`` queues one action per network in the outbox, then sends them
itself (a running worker may take some: the outbox's leases keep each action
with one sender) and waits until each is sent or failed.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import click
import orjson

from hubbub.cli.data import db_option, store_from, workspace_option
from hubbub.i18n import _

if TYPE_CHECKING:
    from hubbub.networks.secrets import SecretBox

_MAX_TEXT = 100_000


def _networks(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = list(dict.fromkeys(n.strip().lower() for n in value.split(",") if n.strip()))
    bad = [n for n in names if n not in ("x", "bluesky", "mastodon")]
    if bad or not names:
        raise click.BadParameter(
            _("unknown network {names} (x, bluesky, mastodon)").format(
                names=", ".join(bad) or "''"
            ),
            param_hint="--network",
        )
    return names


def read_post_text(text: str, limit: int = _MAX_TEXT) -> str:
    """TEXT itself, or standard input for '-' (UTF-8; one trailing newline
    from echo or a file is not part of the post)."""
    if text != "-":
        # Bytes that are not UTF-8 reach argv as lone surrogates (Python's
        # surrogateescape): no network takes them, and encoding them later fails.
        bad = next((i for i, ch in enumerate(text) if "\ud800" <= ch <= "\udfff"), None)
        if bad is not None:
            raise click.UsageError(
                _("TEXT is not UTF-8 (character {position})").format(position=bad)
            )
        return text
    data = sys.stdin.buffer.read(limit * 4 + 1)
    try:
        value = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise click.UsageError(
            _("standard input is not UTF-8 (byte {position})").format(position=exc.start)
        ) from None
    # A byte order mark some editors (Notepad) put first is not text anyone typed.
    value = value.removeprefix("\ufeff")
    if value.endswith("\n"):
        value = value[:-1]
        if value.endswith("\r"):
            value = value[:-1]
    return value


def _result_json(batch: str | None, status: str, results: Sequence[Mapping[str, object]]) -> bytes:
    return orjson.dumps({"id": batch, "status": status, "results": results})


@click.command("post")
@click.argument("text")
@click.option("--network", "networks", default=None, help=_("Comma-separated: x,bluesky,mastodon."))
@click.option(
    "--account",
    default=None,
    help=_("The accounts to post with, by Hubbub name (comma-separated, one per network)."),
)
@click.option(
    "--reply-to", "reply_to", default=None, metavar="URL", help=_("Reply under this post.")
)
@click.option("--thread", is_flag=True, help=_("Continue this account's thread on each network."))
@click.option("--no-wait", "no_wait", is_flag=True, help=_("Queue and return; a worker sends."))
@click.option("--json", "as_json", is_flag=True, help=_("Print one JSON line with the result."))
@db_option
@workspace_option
def post(
    text: str,
    networks: str | None,
    account: str | None,
    reply_to: str | None,
    thread: bool,
    no_wait: bool,
    as_json: bool,
    db: str | None,
    workspace: str,
) -> None:
    """Post TEXT ('-': standard input) on every network with an account, or
    those named. Exits 0 when every post was sent, 1 otherwise."""
    from hubbub.networks.secrets import AccountsKeyError
    from hubbub.outbox.queue import Outbox, OutboxError
    from hubbub.outbox.service import queue_post

    body = read_post_text(text)
    if len(body) > _MAX_TEXT:
        raise click.UsageError(_("text longer than {n} characters").format(n=_MAX_TEXT))
    chosen = _networks(networks)
    with store_from(db) as store:
        outbox = Outbox(store, workspace)
        try:
            # Without the accounts key nothing here can be sent: say so before
            # anything is queued (--no-wait leaves sending to a worker, which may have it).
            box = None if no_wait else _secret_box(store)
            queued = queue_post(
                outbox, body, networks=chosen, account=account, reply_to=reply_to, thread=thread
            )
        except (OutboxError, AccountsKeyError) as exc:
            if as_json:
                sys.stdout.buffer.write(
                    _result_json(
                        None,
                        "refused",
                        [{"network": None, "status": "refused", "url": None, "error": str(exc)}],
                    )
                    + b"\n"
                )
            raise click.ClickException(str(exc)) from None
        if box is not None:
            asyncio.run(_send_batch(store, workspace, outbox, queued.batch, box))
        actions = sorted(outbox.list(batch=queued.batch), key=lambda a: a.id)
    results = [
        {
            "network": a.network,
            "status": str(a.status),
            "url": a.remote_url,
            "error": a.error if a.status != "sent" else None,
        }
        for a in actions
    ]
    statuses = {str(a.status) for a in actions}
    overall = (
        "sent"
        if statuses == {"sent"}
        else "queued"
        if no_wait
        else ("failed" if "sent" not in statuses else "partial")
    )
    if as_json:
        sys.stdout.buffer.write(_result_json(queued.batch, overall, results) + b"\n")
    else:
        for r in results:
            detail = r["url"] or r["error"] or ""
            click.echo(f"{r['network']:<9} {r['status']:<9} {detail}")
    if overall not in ("sent", "queued"):
        sys.exit(1)


def _secret_box(store) -> SecretBox:
    """The accounts' SecretBox for this store (AccountsKeyError when there is no key)."""
    from hubbub.networks.secrets import load_box

    return load_box(store.engine.url.render_as_string(hide_password=False))


async def _send_batch(store, workspace: str, outbox, batch: str, box: SecretBox) -> None:
    from hubbub.outbox.sender import Sender
    from hubbub.outbox.service import writer_factory
    from hubbub.outbox.writers.http import new_client

    async with new_client() as client:
        # A person waits: a request that never left fails at once with its
        # cause instead of being retried for half a minute.
        sender = Sender(outbox, writer_factory(store, box, workspace, client), retry_not_sent=False)
        await sender.run_batch(batch)


@click.group("outbox", invoke_without_command=True)
@db_option
@workspace_option
@click.pass_context
def outbox_group(ctx: click.Context, db: str | None, workspace: str) -> None:
    """The outbox: every action sent (or to send) to the networks."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(outbox_list, db=db, workspace=workspace)


def _where(ctx: click.Context, db: str | None, workspace: str | None) -> tuple[str | None, str]:
    """--db/--workspace given after the subcommand win over those before it."""
    opts = ctx.find_root().obj or {}
    parent = ctx.parent.params if ctx.parent is not None else {}
    return (
        db or parent.get("db") or opts.get("db"),
        workspace or parent.get("workspace") or opts.get("workspace") or "default",
    )


_sub_db = click.option(
    "--db",
    envvar="HUBBUB_DB",
    default=None,
    metavar="URL",
    help=_("Database (as for the other commands)."),
)
_sub_ws = click.option("--workspace", default=None, help=_("Workspace (default: default)."))


@outbox_group.command("list")
@_sub_db
@_sub_ws
@click.option(
    "--status",
    default=None,
    type=click.Choice(["queued", "sending", "sent", "failed", "cancelled"]),
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help=_("JSON lines."))
@click.pass_context
def outbox_list(
    ctx: click.Context,
    db: str | None = None,
    workspace: str | None = None,
    status: str | None = None,
    limit: int = 50,
    as_json: bool = False,
) -> None:
    """The newest actions first. Secrets never appear here."""
    from hubbub.outbox.queue import Outbox

    db, ws = _where(ctx, db, workspace)
    with store_from(db, must_exist=True, workspace=ws) as store:
        actions = Outbox(store, ws).list(status=status, limit=limit)
    for a in actions:
        if as_json:
            sys.stdout.buffer.write(orjson.dumps(a.to_json()) + b"\n")
        else:
            detail = a.remote_url or a.error or ""
            preview = " ".join(a.text.split())[:40]
            click.echo(
                f"{a.id:>6} {a.network:<9} {a.kind:<8} {a.status:<9} {a.attempts:>2} {preview!r} {detail}"
            )


def _change(
    ctx: click.Context, action_id: int, verb: str, db: str | None, workspace: str | None
) -> None:
    from hubbub.outbox.queue import Outbox

    db, ws = _where(ctx, db, workspace)
    with store_from(db) as store:
        box = Outbox(store, ws)
        done = box.retry(action_id) if verb == "retry" else box.cancel(action_id)
        found = box.get(action_id)
    if found is None:
        raise click.ClickException(_("no outbox action {id}").format(id=action_id))
    if not done:
        raise click.ClickException(
            _("action {id} is {status}: it cannot be {verb}").format(
                id=action_id,
                status=found.status,
                verb=_("retried") if verb == "retry" else _("cancelled"),
            )
        )
    click.echo(f"{action_id} {found.status}")
    if verb == "cancel" and found.maybe_sent:
        # Cancelling stops further tries; it cannot take back one whose answer was lost.
        click.echo(
            _(
                "warning: action {id} may already be on {network} (an earlier try's answer "
                "was lost); check the account's posts"
            ).format(id=action_id, network=found.network),
            err=True,
        )


@outbox_group.command("retry")
@click.argument("action_id", type=int)
@_sub_db
@_sub_ws
@click.pass_context
def outbox_retry(ctx: click.Context, action_id: int, db: str | None, workspace: str | None) -> None:
    """Queue a failed or cancelled action again (same idempotency key)."""
    _change(ctx, action_id, "retry", db, workspace)


@outbox_group.command("cancel")
@click.argument("action_id", type=int)
@_sub_db
@_sub_ws
@click.pass_context
def outbox_cancel(
    ctx: click.Context, action_id: int, db: str | None, workspace: str | None
) -> None:
    """Cancel a queued or failed action."""
    _change(ctx, action_id, "cancel", db, workspace)


@outbox_group.command("send")
@_sub_db
@_sub_ws
@click.option(
    "--lease",
    "lease_seconds",
    default=60.0,
    show_default=True,
    type=click.FloatRange(1.0, 3600.0),
    help=_("Seconds a claimed action stays this sender's before another may take it."),
)
@click.option(
    "--timeout",
    default=15.0,
    show_default=True,
    type=click.FloatRange(0.1, 300.0),
    help=_("Seconds to wait for one answer from a network."),
)
@click.pass_context
def outbox_send(
    ctx: click.Context, db: str | None, workspace: str | None, lease_seconds: float, timeout: float
) -> None:
    """Send every due action, wait for those another sender left half done,
    and exit when nothing is queued or being sent. Prints one line per action settled."""
    from hubbub.networks.secrets import AccountsKeyError
    from hubbub.outbox.queue import Outbox

    db, ws = _where(ctx, db, workspace)
    with store_from(db) as store:
        outbox = Outbox(store, ws)
        try:
            box = _secret_box(store)
        except AccountsKeyError as exc:
            raise click.ClickException(str(exc)) from None
        asyncio.run(_drain(store, ws, outbox, box, lease_seconds, timeout))


async def _drain(
    store, workspace: str, outbox, box: SecretBox, lease_seconds: float, timeout: float
) -> None:
    from hubbub.outbox.sender import Sender
    from hubbub.outbox.service import writer_factory
    from hubbub.outbox.writers.http import new_client

    click.echo("sending", err=True)
    async with new_client(timeout) as client:
        sender = Sender(
            outbox, writer_factory(store, box, workspace, client), lease_seconds=lease_seconds
        )
        while True:
            done = await sender.send_one()
            if done is not None:
                click.echo(f"{done.id} {done.status}")
                continue
            if not outbox.list(status="queued", limit=1) and not outbox.list(
                status="sending", limit=1
            ):
                return
            await asyncio.sleep(0.1)


COMMANDS = [post, outbox_group]
