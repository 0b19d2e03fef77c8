"""``hubbub user``: accounts of the web app and their sessions; thin wrappers
over ``hubbub.web.accounts`` and ``hubbub.web.user_sessions``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click
import orjson
from click.core import ParameterSource

from hubbub.cli.audit import cli_record
from hubbub.cli.data import db_option, store_from, workspace_option
from hubbub.i18n import _
from hubbub.settings import Settings
from hubbub.terminal_text import plain

if TYPE_CHECKING:
    from hubbub.store import Store
    from hubbub.store.directory import UserSummary
    from hubbub.web.user_sessions import SessionPolicy

_password_stdin = click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (for scripts)."
)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt(_("Password"), hide_input=True, confirmation_prompt=True))


@click.group("user")
def user() -> None:
    """Manage accounts."""


@user.command("create")
@click.argument("name")
@db_option
@workspace_option
@_password_stdin
@click.option(
    "--role", type=click.Choice(["owner", "agent", "viewer"]), default="owner", show_default=True
)
def user_create(name: str, db: str | None, workspace: str, password_stdin: bool, role: str) -> None:
    """Create an account (argon2id password hash; 8 to 1,024 characters)."""
    from hubbub.web.accounts import AccountError, create_user

    password = _read_password(password_stdin)
    with store_from(db) as store:
        try:
            created = create_user(store, workspace, name, password, role=role)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        cli_record(store, workspace, "user_created", target=created.name, detail={"role": role})
    click.echo(_("Created {role} {name}").format(role=created.role, name=plain(created.name)))


@user.command("list")
@db_option
@workspace_option
@click.option(
    "--all-workspaces",
    is_flag=True,
    help="Users of every workspace, with a workspace column (not with --workspace).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON array of objects.")
@click.pass_context
def user_list(
    ctx: click.Context, db: str | None, workspace: str, all_workspaces: bool, as_json: bool
) -> None:
    """List a workspace's users: name, role, created, last sign-in, live sessions.

    Last sign-in is the newest the audit log or a session remembers ('-':
    none is recorded). Times are UTC."""
    from hubbub.store.directory import user_summaries
    from hubbub.store.scope import NoSuchWorkspace, existing_scope

    named = ctx.get_parameter_source("workspace") is not ParameterSource.DEFAULT
    if all_workspaces and named:
        raise click.UsageError(_("give --workspace or --all-workspaces, not both"))
    policy = _policy()
    with store_from(db, must_exist=True, workspace=None if all_workspaces else workspace) as store:
        try:
            here = None if all_workspaces else existing_scope(store, workspace)
        except NoSuchWorkspace:
            # Only the default can be missing here (store_from refused other
            # names): a database nothing was written to yet has no users.
            found = []
        else:
            found = user_summaries(store, here, now=datetime.now(UTC), idle=policy.idle)
    if as_json:
        sys.stdout.buffer.write(
            orjson.dumps([u.as_json() for u in found], option=orjson.OPT_INDENT_2) + b"\n"
        )
        return
    if not found:
        if all_workspaces:
            click.echo(_("No users yet."))
        else:
            click.echo(_("Workspace {name} has no users.").format(name=plain(workspace)))
        return
    _print_users(found, with_workspace=all_workspaces)


def _print_users(found: list[UserSummary], *, with_workspace: bool) -> None:
    from rich.table import Table

    from hubbub.cli.tables import table_console

    table = Table()
    columns = [
        _("name"),
        _("role"),
        _("created (UTC)"),
        _("last sign-in (UTC)"),
        _("live sessions"),
    ]
    if with_workspace:
        columns.insert(0, _("workspace"))
    for column in columns:
        table.add_column(column, overflow="fold")
    for u in found:
        # Names are whatever was typed at creation (bidi marks included):
        # no markup (table_console), no escape codes (plain).
        cells = [
            plain(u.name),
            plain(u.role),
            u.created_at.strftime(_MINUTE),
            "-" if u.last_sign_in is None else u.last_sign_in.strftime(_MINUTE),
            str(u.live_sessions),
        ]
        if with_workspace:
            cells.insert(0, plain(u.workspace))
        table.add_row(*cells)
    table_console().print(table)


@user.command("password")
@click.argument("name")
@db_option
@workspace_option
@_password_stdin
def user_password(name: str, db: str | None, workspace: str, password_stdin: bool) -> None:
    """Set NAME's password; every session of NAME ends."""
    from hubbub.web.accounts import AccountError, set_password

    password = _read_password(password_stdin)
    with store_from(db) as store:
        try:
            found = set_password(store, workspace, name, password)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        if not found:
            raise click.ClickException(_("no user {name!r}").format(name=name))
        cli_record(store, workspace, "password_changed", target=name)
    click.echo(_("Password of {name} changed; their sessions have ended.").format(name=plain(name)))


@user.command("sessions")
@click.argument("name")
@db_option
@workspace_option
def user_sessions(name: str, db: str | None, workspace: str) -> None:
    """List NAME's live sessions: id, signed in, last used, ends, address, browser."""
    from hubbub.web.user_sessions import list_sessions

    policy = _policy()
    with store_from(db, must_exist=True, workspace=workspace) as store:
        user_id = _user_id(store, workspace, name)
        found = list_sessions(store, workspace, user_id, now=datetime.now(UTC), policy=policy)
    if not found:
        click.echo(_("{name} has no live sessions.").format(name=plain(name)))
        return
    for s in found:
        click.echo(
            "\t".join(
                [
                    str(s.id),
                    _when(s.created_at),
                    _when(s.last_seen_at),
                    _when(s.expires_at),
                    plain(s.address) or "-",
                    # Browser text is the client's (hostile): one line, no escape codes.
                    plain(" ".join((s.user_agent or "-").split())),
                ]
            )
        )


@user.command("revoke")
@click.argument("name")
@click.option(
    "--session",
    "session_id",
    type=int,
    default=None,
    metavar="ID",
    help="End only this session (an id from `hubbub user sessions`). Default: all of them.",
)
@db_option
@workspace_option
def user_revoke(name: str, session_id: int | None, db: str | None, workspace: str) -> None:
    """End NAME's sessions (all, or one with --session): signed out at once."""
    from hubbub.web.user_sessions import revoke_sessions

    if session_id is not None and not 0 < session_id < 2**63:
        raise click.BadParameter(_("no such session id"), param_hint="--session")
    with store_from(db) as store:
        user_id = _user_id(store, workspace, name)
        ended = revoke_sessions(store, workspace, user_id, session_id=session_id)
        if ended:
            cli_record(store, workspace, "session_revoked", target=name, detail={"sessions": ended})
    if session_id is not None and not ended:
        raise click.ClickException(_("{name} has no session {id}").format(name=name, id=session_id))
    click.echo(_("Ended {n} session(s) of {name}.").format(n=ended, name=plain(name)))


@user.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(["owner", "agent", "viewer"]))
@db_option
@workspace_option
def user_role(name: str, role: str, db: str | None, workspace: str) -> None:
    """Give NAME the role ROLE (owner: users, accounts and settings; agent:
    rooms, listening, posting; viewer: reads only). A workspace keeps at
    least one owner."""
    from hubbub.store.scope import scope
    from hubbub.store.user_admin import LastOwner, UserAdmin

    with store_from(db) as store:
        try:
            old = UserAdmin(scope(store, workspace)).set_role(name, role)
        except LastOwner:
            raise click.ClickException(_last_owner(name)) from None
        if old is None:
            raise click.ClickException(_("no user {name!r}").format(name=name))
        if old != role:
            cli_record(
                store, workspace, "role_changed", target=name, detail={"from": old, "to": role}
            )
    if old == role:
        click.echo(_("{name} is already {role}.").format(name=plain(name), role=role))
    else:
        click.echo(_("{name}: {old} → {role}").format(name=plain(name), old=old, role=role))


@user.command("delete")
@click.argument("name")
@db_option
@workspace_option
@click.confirmation_option(
    "--yes", prompt=_("Delete this user and end their sessions?"), help="Do not ask."
)
def user_delete(name: str, db: str | None, workspace: str) -> None:
    """Delete NAME; their sessions end at once. A workspace keeps at least
    one owner."""
    from hubbub.store.scope import scope
    from hubbub.store.user_admin import LastOwner, UserAdmin

    with store_from(db) as store:
        try:
            old = UserAdmin(scope(store, workspace)).delete(name)
        except LastOwner:
            raise click.ClickException(_last_owner(name)) from None
        if old is None:
            raise click.ClickException(_("no user {name!r}").format(name=name))
        cli_record(store, workspace, "user_deleted", target=name, detail={"role": old})
    click.echo(_("Deleted {name}.").format(name=plain(name)))


def _last_owner(name: str) -> str:
    return _(
        "{name} is the workspace's only owner; make another user owner first "
        "(hubbub user role OTHER owner)"
    ).format(name=plain(name))


def _user_id(store: Store, workspace: str, name: str) -> int:
    from hubbub.web.accounts import find_user

    found = find_user(store, workspace, name)
    if found is None:
        raise click.ClickException(_("no user {name!r}").format(name=name))
    return found.id


def _policy() -> SessionPolicy:
    from hubbub.web.user_sessions import session_policy

    # The same limits as the server's (HUBBUB_SESSION_IDLE_HOURS, _DAYS).
    return session_policy(Settings.from_env())


_MINUTE = "%Y-%m-%d %H:%M"  # in tables, whose headers say UTC


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


COMMANDS = [user]
