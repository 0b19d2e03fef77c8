"""``hubbub inbox``: the team inbox from the command line.

Thin: every command calls ``hubbub.inbox.service.Inbox``. The command line
acts as the operator of the database it opens (no role check); its actor in
timelines is ``cli:<os user>``. Commands that show cases first make cases of
posts stored since the last round (what a running worker does continuously).
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

import click
import orjson

from hubbub.cli.data import db_option, store_from, workspace_option
from hubbub.i18n import _, ngettext
from hubbub.terminal_text import plain

if TYPE_CHECKING:
    from hubbub.inbox.model import Actor, Clock
    from hubbub.inbox.service import Inbox
    from hubbub.networks.secrets import SecretBox

MAX_TEXT = 5_000
# Case numbers are database keys: a number past a 64-bit key is a usage
# error here, not a driver's OverflowError later.
CASE_ID = click.IntRange(1, 2**63 - 1)


@contextmanager
def _inbox(
    db: str | None, workspace: str, *, refresh: bool = False, reads: bool = False
) -> Iterator[Inbox]:
    """The inbox of ``workspace``. Commands that only look (``reads``) refuse a
    database or workspace that does not exist instead of creating it (their
    ``refresh`` then only files cases in a workspace that is there)."""
    from hubbub.inbox.errors import CaseNotFound, InboxError, NotAllowed
    from hubbub.inbox.service import Inbox
    from hubbub.store.scope import scope

    with store_from(db, must_exist=reads, workspace=workspace if reads else None) as store:
        inbox = Inbox(scope(store, workspace))
        try:
            if refresh:
                inbox.refresh(_actor())
            yield inbox
        except CaseNotFound as exc:
            raise click.ClickException(_("no case {id}").format(id=exc.args[0])) from None
        except (InboxError, NotAllowed) as exc:
            raise click.ClickException(str(exc)) from None


def _actor() -> Actor:
    from hubbub.cli.audit import cli_actor
    from hubbub.inbox.model import Actor as ActorType

    return ActorType(cli_actor())


def _text(value: str) -> str:
    from hubbub.cli.outbox import read_post_text

    text = read_post_text(value, MAX_TEXT)
    if len(text) > MAX_TEXT:
        raise click.UsageError(_("text longer than {n} characters").format(n=MAX_TEXT))
    return text


@click.group("inbox")
def inbox_group() -> None:
    """The team inbox: cases from mentions, replies and listening matches."""


# -- cases ---------------------------------------------------------------------


@inbox_group.command("list")
@click.option(
    "--status",
    default=None,
    metavar="S",
    help=_(
        "new, open, pending, resolved, snoozed (comma-separated) or all. Default: all but resolved."
    ),
)
@click.option("--assignee", default=None, metavar="A", help=_("Only cases assigned to user A."))
@click.option("--unassigned", is_flag=True, help=_("Only cases nobody has."))
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 500))
@click.option(
    "--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True
)
@db_option
@workspace_option
def inbox_list(
    status: str | None,
    assignee: str | None,
    unassigned: bool,
    limit: int,
    fmt: str,
    db: str | None,
    workspace: str,
) -> None:
    """Cases, newest first. jsonl rows carry id, status, network, author,
    intent and post_ids (as `hubbub search` prints post ids)."""
    statuses: list[str] | None = None
    if status is not None:
        names = [s.strip().lower() for s in status.split(",") if s.strip()]
        statuses = ["new", "open", "pending", "resolved", "snoozed"] if names == ["all"] else names
    with _inbox(db, workspace, refresh=True, reads=True) as inbox:
        cases = inbox.list_cases(
            _actor(),
            "unassigned" if unassigned else "all",
            status=statuses,
            assignee=assignee,
            limit=limit,
        )
        unknown = inbox.unknown_accounts(_actor())
    for name, network in unknown:
        # Standard error: the table or the JSON lines on standard output stay clean.
        click.echo(
            _(
                "note: the {network} account {name} is not checked, so mentions of it do "
                "not become cases; run: hubbub account check {name}"
            ).format(network=network, name=name),
            err=True,
        )
    if fmt == "jsonl":
        for case in cases:
            sys.stdout.buffer.write(orjson.dumps(case.as_json()) + b"\n")
        return
    for case in cases:
        who = case.claim.user if case.claim else ""
        click.echo(
            f"{case.id:>6} {case.status:<8} {case.priority:<6} {case.network:<8} "
            f"{plain(case.author)[:30]:<30} {case.intent or '-':<9} "
            f"{case.assignee or '-':<12} {('answering: ' + who) if who else ''}".rstrip()
        )
        # One line per case: a post's own line breaks would break the table.
        click.echo(f"       {plain(' '.join(case.preview.split()))[:100]}")
    click.echo(_("{n} cases").format(n=len(cases)))


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def _clock(name: str, clock: Clock, done: str) -> str:
    """``done``: what stopping this clock is called ("answered", "resolved")."""
    if clock.not_timed is not None or clock.used_minutes is None:
        # Seen too late to time: the reason, never a figure that would read as a breach.
        reason = clock.not_timed.reason if clock.not_timed is not None else ""
        return f"{name}: " + _("not timed: {reason}").format(reason=reason)
    if clock.target_minutes is None:
        return f"{name}: {clock.used_minutes / 60:.2f} business h (no target)"
    used = f"{name}: {clock.used_minutes / 60:.2f} of {clock.target_minutes / 60:.2f} business h, "
    late = (clock.late_minutes or 0.0) / 60
    if clock.state == "breached" and clock.met_at is not None:
        # Stopped after its target: still a breach, as the JSON and the report say.
        return used + _("breached ({done} {late:.2f} h late)").format(done=done, late=late)
    if clock.state == "breached" and clock.stopped_at is not None:
        # Resolved unanswered after the target: the clock stopped at the resolution.
        return used + _("breached (resolved without reply {late:.2f} h late)").format(late=late)
    if clock.state == "breached":
        return used + _("breached, {late:.2f} h late so far").format(late=late)
    if clock.state == "met":
        return used + _("met")
    if clock.state == "resolved without reply":
        return used + _("resolved without reply")
    left = (clock.left_minutes or 0.0) / 60
    return used + _("running, {left:.2f} h left").format(left=left)


@inbox_group.command("show")
@click.argument("case_id", type=CASE_ID, metavar="ID")
@click.option("--json", "as_json", is_flag=True, help=_("One JSON object."))
@db_option
@workspace_option
def inbox_show(case_id: int, as_json: bool, db: str | None, workspace: str) -> None:
    """A case: its posts, timeline and response-time clocks."""
    with _inbox(db, workspace, refresh=True, reads=True) as inbox:
        case = inbox.get_case(_actor(), case_id)
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(case.as_json()) + b"\n")
        return
    s = case.summary
    click.echo(
        f"case {s.id}: {s.status} · {s.priority} · {s.network} · {plain(s.author)} · "
        f"assignee {s.assignee or '-'}"
    )
    click.echo(
        f"intent {s.intent or '-'} ({case.accuracy.intent_note}); "
        f"sentiment {s.sentiment or '-'} ({case.accuracy.sentiment_note})"
    )
    if s.labels:
        click.echo("labels: " + ", ".join(plain(x) for x in s.labels))
    if s.claim:
        click.echo(f"being answered by {s.claim.user} until {_when(s.claim.until)}")
    click.echo(_clock(_("first response"), case.first_response, _("answered")))
    click.echo(_clock(_("resolution"), case.resolution, _("resolved")))
    click.echo("")
    for p in case.posts:
        click.echo(f"{_when(p.posted_at)}  {plain(p.author)}  {p.post_id}")
        click.echo("    " + plain(p.text, keep_newlines=True).replace("\n", "\n    "))
    click.echo("")
    for e in case.timeline:
        detail = ", ".join(f"{k}={plain(str(v))}" for k, v in e.detail.items() if v is not None)
        line = f"{_when(e.at)}  {plain(e.actor)}  {e.kind}"
        if detail:
            line += f"  {detail}"
        click.echo(line)
        if e.outbox_id is not None:
            # Whether the reply went out is what a reader of the case needs
            # first: on its own line, with the reason when it did not.
            state = e.outbox_text or _("no outbox record")
            click.echo("    " + _("outbox: {state}").format(state=plain(state)))
        if e.text:
            click.echo("    " + plain(e.text, keep_newlines=True).replace("\n", "\n    "))


@inbox_group.command("assign")
@click.argument("case_id", type=CASE_ID, metavar="ID")
@click.argument("user", required=False)
@click.option("--auto", is_flag=True, help=_("Round robin among available agents under their cap."))
@click.option("--none", "unassign", is_flag=True, help=_("Take the case from whoever has it."))
@db_option
@workspace_option
def inbox_assign(
    case_id: int, user: str | None, auto: bool, unassign: bool, db: str | None, workspace: str
) -> None:
    """Assign case ID to USER (an owner or agent), round robin, or nobody."""
    if sum((user is not None, auto, unassign)) != 1:
        raise click.UsageError(_("name a USER, or give --auto or --none"))
    with _inbox(db, workspace) as inbox:
        if auto:
            case = inbox.auto_assign(_actor(), case_id)
        else:
            case = inbox.assign(_actor(), case_id, user)
    click.echo(_("case {id}: assigned to {who}").format(id=case.id, who=case.assignee or "-"))


@inbox_group.command("status")
@click.argument("case_id", type=CASE_ID, metavar="ID")
@click.argument("status", type=click.Choice(["new", "open", "pending", "resolved", "snoozed"]))
@click.option(
    "--until", default=None, metavar="TIME", help=_("Snooze until (ISO time, or 2h, 3d).")
)
@db_option
@workspace_option
def inbox_status(
    case_id: int, status: str, until: str | None, db: str | None, workspace: str
) -> None:
    """Set a case's status (snoozed needs --until)."""
    wake = _until(until) if until else None
    with _inbox(db, workspace) as inbox:
        case = inbox.set_status(_actor(), case_id, status, until=wake)
    click.echo(_("case {id}: {status}").format(id=case.id, status=case.status))


@inbox_group.command("resolve")
@click.argument("case_id", type=CASE_ID, metavar="ID")
@db_option
@workspace_option
def inbox_resolve(case_id: int, db: str | None, workspace: str) -> None:
    """Resolve case ID (a new post from its author reopens it)."""
    with _inbox(db, workspace) as inbox:
        case = inbox.resolve(_actor(), case_id)
    click.echo(_("case {id}: {status}").format(id=case.id, status=case.status))


@inbox_group.command("priority")
@click.argument("case_id", type=CASE_ID, metavar="ID")
@click.argument("priority", type=click.Choice(["low", "normal", "high", "urgent"]))
@db_option
@workspace_option
def inbox_priority(case_id: int, priority: str, db: str | None, workspace: str) -> None:
    """Set a case's priority (its response-time targets follow)."""
    with _inbox(db, workspace) as inbox:
        case = inbox.set_priority(_actor(), case_id, priority)
    click.echo(_("case {id}: {priority}").format(id=case.id, priority=case.priority))


@inbox_group.command("label")
@click.argument("case_id", type=CASE_ID, metavar="ID")
@click.argument("labels", nargs=-1)
@db_option
@workspace_option
def inbox_label(case_id: int, labels: tuple[str, ...], db: str | None, workspace: str) -> None:
    """Replace a case's labels with LABELS (none: clear them)."""
    with _inbox(db, workspace) as inbox:
        case = inbox.set_labels(_actor(), case_id, labels)
    click.echo(_("case {id}: {labels}").format(id=case.id, labels=", ".join(case.labels) or "-"))


@inbox_group.command("note")
@click.argument("case_id", type=CASE_ID, metavar="ID")
@click.argument("text")
@db_option
@workspace_option
def inbox_note(case_id: int, text: str, db: str | None, workspace: str) -> None:
    """Add an internal note (never sent) to a case's timeline."""
    body = _text(text)
    with _inbox(db, workspace) as inbox:
        inbox.add_note(_actor(), case_id, body)
    click.echo(_("case {id}: note added").format(id=case_id))


@inbox_group.command("reply")
@click.argument("case_id", type=CASE_ID, metavar="ID")
@click.argument("text", required=False)
@click.option("--saved", "code", default=None, metavar="CODE", help=_("Use a saved reply."))
@click.option("--account", default=None, help=_("Reply from this account (default: the case's)."))
@click.option(
    "--as",
    "agent_name",
    default=None,
    metavar="NAME",
    help=_(
        "The name a saved reply's {agent} is filled with: the command line has none of its own "
        "(its audit name is never put in a public post)."
    ),
)
@click.option("--no-wait", "no_wait", is_flag=True, help=_("Queue and return; a worker sends."))
@db_option
@workspace_option
def inbox_reply(
    case_id: int,
    text: str | None,
    code: str | None,
    account: str | None,
    agent_name: str | None,
    no_wait: bool,
    db: str | None,
    workspace: str,
) -> None:
    """Reply to case ID with TEXT ('-': standard input) or a saved reply,
    threaded under the customer's latest post; sent once through the outbox.
    Exits 0 when it was sent (or queued with --no-wait), 1 otherwise."""
    from hubbub.inbox.replies import batch_of, new_key

    if (text is None) == (code is None):
        raise click.UsageError(_("give TEXT or --saved CODE"))
    if agent_name is not None and code is None:
        raise click.UsageError(_("--as names the {agent} of a saved reply: give --saved CODE"))
    key = new_key()
    with _inbox(db, workspace) as inbox:
        actor = _actor()
        if text is not None:
            body = _text(text)
        else:
            assert code is not None
            body = inbox.render_saved_reply(actor, code, case_id, agent_name=agent_name)
        box = None if no_wait else _box(inbox)
        event = inbox.reply(actor, case_id, body, key=key, account=account)
        if box is not None:
            asyncio.run(_send(inbox, batch_of(key), box))
            event = next(e for e in inbox.get_case(actor, case_id).timeline if e.id == event.id)
        error = event.outbox_error if event.outbox_status == "failed" else None
    status = event.outbox_status or "queued"
    line = f"case {case_id}: reply {status} {event.url or ''}".rstrip()
    click.echo(line + (f": {plain(error)}" if error else ""))
    # What went (or goes) out in the brand's name, as queued: a saved reply's
    # fields are filled from the customer's profile, so show the result.
    click.echo("    " + plain(event.text, keep_newlines=True).replace("\n", "\n    "))
    if status not in ("sent", "queued") or (status == "queued" and not no_wait):
        sys.exit(1)


def _box(inbox: Inbox) -> SecretBox:
    from hubbub.networks.secrets import AccountsKeyError, load_box

    try:
        return load_box(inbox.scope.store.engine.url.render_as_string(hide_password=False))
    except AccountsKeyError as exc:
        raise click.ClickException(str(exc)) from None


async def _send(inbox: Inbox, batch: str, box: SecretBox) -> None:
    from hubbub.outbox.queue import Outbox
    from hubbub.outbox.sender import Sender
    from hubbub.outbox.service import writer_factory
    from hubbub.outbox.writers.http import new_client

    store, workspace = inbox.scope.store, inbox.scope.name
    async with new_client() as client:
        # A person waits: a request that never left fails at once with its cause.
        sender = Sender(
            Outbox(store, workspace),
            writer_factory(store, box, workspace, client),
            retry_not_sent=False,
        )
        await sender.run_batch(batch)


# -- rules ------------------------------------------------------------------------


@inbox_group.group("rule")
def rule_group() -> None:
    """Which listening matches become cases (by saved query and intent)."""


@rule_group.command("add")
@click.option("--saved", "saved", required=True, metavar="NAME", help=_("A saved query's name."))
@click.option(
    "--intent", "intent", required=True, metavar="I[,I]", help=_("complaint, question, lead.")
)
@db_option
@workspace_option
def rule_add(saved: str, intent: str, db: str | None, workspace: str) -> None:
    """Cases from saved query NAME's matches with these intents, for posts
    stored already and those to come."""
    with _inbox(db, workspace) as inbox:
        rule = inbox.add_rule(_actor(), saved, intent.split(","))
        # The rule's own cases: the workspace's whole count said nothing of the rule.
        count = inbox.rule_open_cases(_actor(), rule.id)
    click.echo(
        _("rule {id}: {saved} → {intents} ({cases})").format(
            id=rule.id,
            saved=rule.saved_query,
            intents=",".join(rule.intents),
            cases=ngettext("{n} open case", "{n} open cases", count).format(n=count),
        )
    )


@rule_group.command("list")
@db_option
@workspace_option
def rule_list(db: str | None, workspace: str) -> None:
    """The rules, and the default rule for mentions and replies."""
    with _inbox(db, workspace, reads=True) as inbox:
        rules = inbox.rules(_actor())
        hours = inbox.hours(_actor())
    click.echo(f"{'-':>4} mentions and replies → {','.join(hours.mention_intents)}")
    for rule in rules:
        click.echo(f"{rule.id:>4} {rule.saved_query} → {','.join(rule.intents)}")


@rule_group.command("remove")
@click.argument("rule")
@db_option
@workspace_option
def rule_remove(rule: str, db: str | None, workspace: str) -> None:
    """Remove a rule by id or saved query name (its cases stay)."""
    rule = rule.strip()  # " 2 " from a script is rule 2, " q9 " the query "q9"
    with _inbox(db, workspace) as inbox:
        done = inbox.remove_rule(_actor(), int(rule) if rule.isascii() and rule.isdigit() else rule)
    if not done:
        raise click.ClickException(_("no rule {rule}").format(rule=rule))
    click.echo(_("removed rule {rule}").format(rule=rule))


# -- settings -------------------------------------------------------------------------

_DURATION = re.compile(r"^(\d{1,6})([mhd]?)$")


def _minutes(value: str | None) -> int | None:
    """'90', '90m', '4h', '2d' → minutes; 'none' → None."""
    if value is None or value.lower() == "none":
        return None
    found = _DURATION.match(value.strip().lower())
    if not found:
        raise click.BadParameter(
            _("a duration looks like 90m, 4h or 2d, not {v!r}").format(v=value)
        )
    return int(found.group(1)) * {"": 1, "m": 1, "h": 60, "d": 24 * 60}[found.group(2)]


def _until(value: str) -> datetime:
    minutes = _DURATION.match(value.strip().lower())
    if minutes and minutes.group(2):
        return datetime.now(UTC) + timedelta(minutes=_minutes(value) or 0)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(_("a time looks like 2026-12-01T09:00+01:00 or 2h")) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@inbox_group.command("hours")
@click.option("--timezone", "tz", default=None, help=_("IANA time zone, e.g. Europe/Warsaw."))
@click.option("--days", default=None, help=_("Working days, e.g. mon-fri."))
@click.option("--hours", "span", default=None, metavar="HH:MM-HH:MM", help=_("Working hours."))
@click.option("--always", is_flag=True, help=_("Every hour counts (the default)."))
@click.option("--auto-assign/--no-auto-assign", default=None, help=_("Round robin for new cases."))
@click.option(
    "--mention-intents",
    default=None,
    metavar="I[,I]",
    help=_("Intents that make a mention or reply a case (default complaint,question)."),
)
@db_option
@workspace_option
def inbox_hours(
    tz: str | None,
    days: str | None,
    span: str | None,
    always: bool,
    auto_assign: bool | None,
    mention_intents: str | None,
    db: str | None,
    workspace: str,
) -> None:
    """Show or set business hours (response times count only these),
    round-robin assignment and the default rule's intents."""
    from hubbub.inbox.hours import parse_days, parse_span
    from hubbub.inbox.model import Hours

    sets = always or any(v is not None for v in (tz, days, span, auto_assign, mention_intents))
    with _inbox(db, workspace, reads=not sets) as inbox:
        hours = inbox.hours(_actor())
        start, end = hours.start_minute, hours.end_minute
        if span is not None:
            start, end = parse_span(span)
        new = Hours(
            timezone=tz if tz is not None else hours.timezone,
            days=Hours().days if always else parse_days(days) if days else hours.days,
            start_minute=0 if always else start,
            end_minute=24 * 60 if always else end,
            auto_assign=hours.auto_assign if auto_assign is None else auto_assign,
            mention_intents=(
                tuple(sorted({i.strip().lower() for i in mention_intents.split(",") if i.strip()}))
                if mention_intents is not None
                else hours.mention_intents
            ),
        )
        if new != hours:
            hours = inbox.set_hours(_actor(), new)
    from hubbub.inbox.hours import DAY_NAMES

    click.echo(
        f"{hours.timezone} {','.join(DAY_NAMES[d] for d in hours.days)} "
        f"{hours.start_minute // 60:02d}:{hours.start_minute % 60:02d}-"
        f"{hours.end_minute // 60:02d}:{hours.end_minute % 60:02d}; "
        f"auto-assign {'on' if hours.auto_assign else 'off'}; "
        f"mentions and replies with intent {','.join(hours.mention_intents)} become cases"
    )


@inbox_group.command("target")
@click.argument("priority", type=click.Choice(["low", "normal", "high", "urgent"]), required=False)
@click.option("--first-response", default=None, metavar="DURATION", help=_("e.g. 1h ('none')."))
@click.option("--resolution", default=None, metavar="DURATION", help=_("e.g. 2d ('none')."))
@db_option
@workspace_option
def inbox_target(
    priority: str | None,
    first_response: str | None,
    resolution: str | None,
    db: str | None,
    workspace: str,
) -> None:
    """Show targets, or set PRIORITY's first-response and resolution
    targets (business time: 90m, 4h, 2d)."""
    with _inbox(db, workspace) as inbox:
        if priority is not None and (first_response is not None or resolution is not None):
            current = {str(t.priority): t for t in inbox.targets(_actor())}[priority]
            inbox.set_target(
                _actor(),
                priority,
                first_response_minutes=(
                    _minutes(first_response)
                    if first_response is not None
                    else current.first_response_minutes
                ),
                resolution_minutes=(
                    _minutes(resolution) if resolution is not None else current.resolution_minutes
                ),
            )
        targets = inbox.targets(_actor())
    for t in targets:
        fr = "-" if t.first_response_minutes is None else f"{t.first_response_minutes}m"
        res = "-" if t.resolution_minutes is None else f"{t.resolution_minutes}m"
        click.echo(f"{t.priority:<7} first response {fr:>7}  resolution {res:>7}")


@inbox_group.command("agent")
@click.argument("user", required=False)
@click.option("--available/--away", default=None, help=_("Takes round-robin cases or not."))
@click.option("--cap", type=click.IntRange(1, 1000), default=None, help=_("Open cases at most."))
@db_option
@workspace_option
def inbox_agent(
    user: str | None, available: bool | None, cap: int | None, db: str | None, workspace: str
) -> None:
    """Show agents, or set USER's availability and cap for the round robin."""
    sets = user is not None and (available is not None or cap is not None)
    with _inbox(db, workspace, reads=not sets) as inbox:
        if sets and user is not None:
            inbox.set_agent(_actor(), user, available=available, cap=cap)
        agents = inbox.agents(_actor())
    for a in agents:
        state = _("available") if a.available else _("away")
        click.echo(f"{a.name:<20} {a.role:<6} {state:<9} {a.open_cases}/{a.cap} open")


# -- saved replies ----------------------------------------------------------------------


@inbox_group.group("saved")
def saved_group() -> None:
    """Saved replies: a short code and a text with {name}-style fields.

    The fields a case fills: {name}, {handle}, {agent}, {case}, {network};
    `saved add` refuses any other. {agent} is the replying user's Hubbub
    name on the web; from the command line, `inbox reply --as NAME`."""


@saved_group.command("add")
@click.argument("code")
@click.argument("text")
@db_option
@workspace_option
def saved_add(code: str, text: str, db: str | None, workspace: str) -> None:
    """Create or replace the saved reply CODE."""
    body = _text(text)
    with _inbox(db, workspace) as inbox:
        saved = inbox.save_reply(_actor(), code, body)
    click.echo(_("saved {code}").format(code=saved.code))


@saved_group.command("list")
@db_option
@workspace_option
def saved_list(db: str | None, workspace: str) -> None:
    """Every saved reply."""
    with _inbox(db, workspace, reads=True) as inbox:
        replies = inbox.saved_replies(_actor())
    for r in replies:
        click.echo(f"{r.code:<16} {plain(' '.join(r.text.split()))}")


@saved_group.command("remove")
@click.argument("code")
@db_option
@workspace_option
def saved_remove(code: str, db: str | None, workspace: str) -> None:
    """Remove the saved reply CODE."""
    with _inbox(db, workspace) as inbox:
        if not inbox.delete_saved_reply(_actor(), code):
            raise click.ClickException(_("no saved reply {code}").format(code=code))
    click.echo(_("removed {code}").format(code=code))


# -- report -------------------------------------------------------------------------------


def _day(value: str | None, tz_name: str) -> datetime | None:
    """A date (midnight in the inbox's time zone) or an ISO time."""
    if value is None:
        return None
    from zoneinfo import ZoneInfo

    try:
        if len(value) == 10:
            return datetime.combine(
                datetime.strptime(value, "%Y-%m-%d").date(), time(0), ZoneInfo(tz_name)
            )
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            _("a date looks like 2026-11-30, not {v!r}").format(v=value)
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@inbox_group.command("report")
@click.option("--since", default=None, metavar="D", help=_("Cases opened on or after D."))
@click.option("--until", default=None, metavar="D", help=_("Cases opened before D."))
@click.option(
    "--format", "fmt", type=click.Choice(["json", "csv", "html"]), default="json", show_default=True
)
@db_option
@workspace_option
def inbox_report(
    since: str | None, until: str | None, fmt: str, db: str | None, workspace: str
) -> None:
    """Response times per agent and for the team: cases handled, first
    response and resolution (median, mean, p90, fastest, slowest) in business
    and wall-clock hours, and breaches of the targets."""
    from hubbub.inbox.report_render import to_csv, to_html, to_json

    with _inbox(db, workspace, refresh=True, reads=True) as inbox:
        tz = inbox.hours(_actor()).timezone
        report = inbox.report(_actor(), _day(since, tz), _day(until, tz))
    if fmt == "json":
        sys.stdout.buffer.write(to_json(report))
    elif fmt == "csv":
        sys.stdout.write(to_csv(report))
    else:
        sys.stdout.write(to_html(report))


COMMANDS = [inbox_group]
