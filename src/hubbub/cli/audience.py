"""``hubbub audience``: bot / fake scores for a file of profiles (``score``),
follower snapshots of connected accounts (``fetch``), their audit
(``audit``), and what is kept of them (``retention``, ``expire``, ``forget``)."""

from __future__ import annotations

import asyncio
import csv
import io
import sys
from typing import TYPE_CHECKING

import click
import orjson

from hubbub.cli.data import db_option, store_from, workspace_option
from hubbub.i18n import _
from hubbub.terminal_text import plain

if TYPE_CHECKING:
    from hubbub.store import Store
    from hubbub.store.audience_repo import AudienceRepo

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    # A spreadsheet runs a cell starting with these as a formula.
    return "'" + value if value.startswith(_FORMULA_START) else value


@click.group("audience")
def audience() -> None:
    """Audience quality: follower snapshots, their audit, bot and fake-account scores."""


def _score_help() -> str:
    from hubbub.audience.bot_model import accuracy

    figures = accuracy()
    return _(
        "Score FILE ('-': standard input) of account profiles: X API v2 user objects "
        "(twarc2 pages or one per line), X v1.1 users, Mastodon accounts, Bluesky profile "
        "views. One row per account in input order: network, id, handle, suspicion (0-1), "
        "suspicious (at threshold {threshold} for X profiles with like and list counts, "
        "{cross_threshold} for others), reasons. A profile with no post or follower counts "
        "is not scored: suspicion null (CSV: empty), suspicious null (CSV: unknown) unless "
        "the network labels it a bot; standard error says how many. Measured accuracy: "
        "F1 {f1} (X profiles with like and list counts; {cross_f1} from the counts every "
        "network publishes) on the suspicious class in 10-fold cross-validation on the "
        "Cresci 2017 training file (X profiles from 2014-2015; see docs/audience.md for "
        "where not to trust it)."
    ).format(
        threshold=figures.get("threshold"),
        cross_threshold=figures.get("cross_network_threshold"),
        f1=figures.get("f1_suspicious"),
        cross_f1=figures.get("cross_network_f1_suspicious"),
    )


class _ScoreCommand(click.Command):
    def get_help(self, ctx: click.Context) -> str:
        self.help = _score_help()
        return super().get_help(ctx)


@audience.command("score", cls=_ScoreCommand)
@click.argument("file", type=click.File("rb"), default="-")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
def audience_score(file: io.BufferedReader, fmt: str) -> None:
    from hubbub.audience.scoring import Problem, score_stream

    out = sys.stdout
    writer = None
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["network", "id", "handle", "suspicion", "suspicious", "reasons"])
    problems = scored = unscored = 0
    name = getattr(file, "name", "-")
    for item in score_stream(file):
        if isinstance(item, Problem):
            problems += 1
            click.echo(f"{plain(name)}:{item.line}: {plain(item.message)}", err=True)
            continue
        if item.suspicion is None:
            unscored += 1
        else:
            scored += 1
        if writer is not None:
            writer.writerow(
                [
                    item.network,
                    _cell(item.id),
                    _cell(item.handle),
                    "" if item.suspicion is None else f"{item.suspicion:.4f}",
                    _suspicious_cell(item.suspicious),
                    _cell("; ".join(item.reasons)),
                ]
            )
        else:
            sys.stdout.buffer.write(orjson.dumps(item.to_json()) + b"\n")
            sys.stdout.buffer.flush()
    out.flush()
    if unscored:
        # Not an error (exit status unchanged), but a reader of the rows alone
        # could take the missing scores for a clean bill of health.
        click.echo(
            _(
                "{name}: {unscored} of {total} accounts could not be scored (no post or follower "
                "counts in the profile): no suspicion, suspicious unknown"
            ).format(name=plain(name), unscored=unscored, total=scored + unscored),
            err=True,
        )
    if problems:
        sys.exit(1)


def _suspicious_cell(suspicious: bool | None) -> str:
    if suspicious is None:
        return "unknown"  # not scored and no network label
    return "true" if suspicious else "false"


def _repo(store: Store, workspace: str) -> AudienceRepo:
    from hubbub.store.audience_repo import AudienceRepo
    from hubbub.store.scope import scope

    return AudienceRepo(scope(store, workspace))


@audience.command("fetch")
@click.argument("account")
@click.option(
    "--kind",
    type=click.Choice(["followers", "following"]),
    default="followers",
    show_default=True,
    help="The account's followers, or whom it follows.",
)
@click.option("--url", default=None, metavar="BASE", help="Ask this API base URL (tests, proxies).")
@click.option(
    "--cap",
    type=click.IntRange(0, 10_000_000),
    default=None,
    help="X: the most user reads this fetch may spend (default: the workspace's cap, "
    "set with 'audience retention --x-cap').",
)
@click.option("--estimate", is_flag=True, help="Print the estimated reads and stop.")
@db_option
@workspace_option
def audience_fetch(
    account: str,
    kind: str,
    url: str | None,
    cap: int | None,
    estimate: bool,
    db: str | None,
    workspace: str,
) -> None:
    """Fetch the followers of connected ACCOUNT into a dated snapshot.

    Paged within the network's budget; a 429 waits for the network's reset.
    A stopped or killed fetch resumes where it stopped when run again. X
    bills each user read: the estimate is printed first, and the fetch stops
    at the cap.
    """
    from hubbub.audience import fetch as fetching
    from hubbub.cli.accounts import _box
    from hubbub.networks.clock import SystemClock
    from hubbub.networks.followers import FollowersError
    from hubbub.networks.secrets import AccountsKeyError
    from hubbub.store.network_accounts import AccountError, get_credentials

    with store_from(db) as store:
        box = _box(str(store.engine.url.render_as_string(hide_password=False)))
        try:
            credentials = get_credentials(store, box, workspace, name=account)
        except (AccountError, AccountsKeyError) as exc:
            raise click.ClickException(str(exc)) from None
        repo = _repo(store, workspace)
        repo.expire()
        if cap is None and credentials.network == "x":
            cap = repo.settings().x_read_cap
        clock = SystemClock()

        async def run() -> fetching.FetchResult | None:
            source = fetching.source_for(credentials, clock, url)
            try:
                who = await source.whoami()
                guess = fetching.estimate(who, kind)
                if credentials.network == "x":
                    click.echo(
                        _("X: about {n} user reads (billed per user); cap {cap}").format(
                            n="?" if guess is None else f"{guess:,}",
                            cap=_("none") if cap is None else f"{cap:,}",
                        ),
                        err=True,
                    )
                else:
                    click.echo(
                        _("{network}: about {n} accounts to read").format(
                            network=credentials.network, n="?" if guess is None else f"{guess:,}"
                        ),
                        err=True,
                    )
                if estimate:
                    return None
                return await fetching.fetch(
                    repo, source, account, clock, kind=kind, cap=cap, subject=who
                )
            finally:
                await source.aclose()

        try:
            result = asyncio.run(run())
        except (FollowersError, ValueError) as exc:
            from hubbub.sources.base import redact

            # The exact secret is known here: masked wherever the server echoed it.
            reason = redact(str(exc), known=credentials.secret_values())
            raise click.ClickException(reason) from None
    if result is None:
        return
    snap = result.snapshot
    click.echo(
        _(
            "snapshot {id} of {account} ({network} {kind}): {state}, {members} stored "
            "({new} new in this run, {pages} pages, {waits} rate-limit waits)"
        ).format(
            id=snap.id,
            account=plain(account),
            network=snap.network,
            kind=kind,
            state=snap.state,
            members=f"{snap.members:,}",
            new=f"{result.stored:,}",
            pages=result.pages,
            waits=len(result.waits),
        )
    )
    if snap.note:
        click.echo(plain(snap.note), err=True)


@audience.command("audit")
@click.argument("account")
@click.option("--window", default="90d", show_default=True, help="Days (90d) or weeks (12w).")
@click.option(
    "--format", "fmt", type=click.Choice(["json", "csv", "html"]), default="json", show_default=True
)
@click.option("--snapshot", "snapshot_id", type=int, default=None, help="Audit this snapshot id.")
@db_option
@workspace_option
def audience_audit(
    account: str, window: str, fmt: str, snapshot_id: int | None, db: str | None, workspace: str
) -> None:
    """Audit ACCOUNT's latest follower snapshot: engaged / active / passive /
    suspicious totals and shares, top engaged, the suspicious list with
    reasons, change since the previous snapshot. CSV: one row per follower.
    Recorded in the audit log as an export."""
    from hubbub.audience.audit import AuditError, build_audit, follower_rows, parse_window

    try:
        span = parse_window(window)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--window") from None
    from hubbub.cli.audit import cli_record

    with store_from(db, must_exist=True, workspace=workspace) as store:
        repo = _repo(store, workspace)
        try:
            if fmt == "csv":
                from hubbub.audience.csv_export import write_follower_csv

                rows = follower_rows(repo, account, span, snapshot_id=snapshot_id)
                followers = write_follower_csv(sys.stdout, rows)
            else:
                audit = build_audit(repo, account, span, snapshot_id=snapshot_id)
                followers = audit.followers
        except AuditError as exc:
            raise click.ClickException(str(exc)) from None
        if fmt == "json":
            data = orjson.dumps(audit.as_json(), option=orjson.OPT_INDENT_2) + b"\n"
            sys.stdout.buffer.write(data)
        elif fmt == "html":
            from hubbub.audience.render import render_html

            sys.stdout.write(render_html(audit))
        sys.stdout.flush()  # a write that fails fails here, before it is recorded as done
        # The followers' figures leave the workspace: audited as an export, like
        # 'hubbub export' and the page's followers.csv.
        detail = {"command": "audience audit", "format": fmt, "account": account}
        cli_record(
            store, workspace, "export", target="stdout", detail={**detail, "followers": followers}
        )


@audience.command("retention")
@click.option(
    "--days", type=click.IntRange(1, 3650), default=None, help="Keep snapshots this long."
)
@click.option(
    "--x-cap",
    default=None,
    metavar="N|none",
    help="The most X user reads one fetch may spend ('none': no cap).",
)
@db_option
@workspace_option
def audience_retention(days: int | None, x_cap: str | None, db: str | None, workspace: str) -> None:
    """Show or set how long follower data is kept and the X read cap."""
    cap: int | None = -1
    if x_cap is not None:
        if x_cap.strip().lower() == "none":
            cap = None
        elif x_cap.strip().isdigit() and len(x_cap.strip()) <= 9:
            cap = int(x_cap)
        else:
            raise click.BadParameter(_("a number of users, or 'none'"), param_hint="--x-cap")
    sets = days is not None or x_cap is not None
    # Only showing: a mistyped --workspace is refused, not created.
    with store_from(db, must_exist=not sets, workspace=None if sets else workspace) as store:
        repo = _repo(store, workspace)
        if sets:
            repo.set_settings(days, cap)
        now = repo.settings()
    click.echo(
        _("follower data kept {days} days; X read cap: {cap}").format(
            days=now.retention_days, cap=_("none") if now.x_read_cap is None else now.x_read_cap
        )
    )


@audience.command("expire")
@db_option
@workspace_option
def audience_expire(db: str | None, workspace: str) -> None:
    """Delete follower snapshots older than the retention period."""
    with store_from(db) as store:
        gone = _repo(store, workspace).expire()
    click.echo(_("{n} expired snapshot(s) deleted").format(n=gone))


@audience.command("forget")
@click.argument("account")
@db_option
@workspace_option
def audience_forget(account: str, db: str | None, workspace: str) -> None:
    """Delete every follower snapshot of ACCOUNT (the account itself stays)."""
    with store_from(db) as store:
        gone = _repo(store, workspace).delete_account(account)
    click.echo(_("{n} snapshot(s) of {account} deleted").format(n=gone, account=plain(account)))


COMMANDS = [audience]
