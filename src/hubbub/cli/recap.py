"""``hubbub recap TAG``: a chat's recap by question, in JSON, HTML, Markdown or PDF."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import click

from hubbub.cli.data import db_option, store_from, workspace_option
from hubbub.cli.output_file import (
    check_out,
    format_for_out,
    is_stdout,
    open_binary_out,
    out_format_help,
    out_option,
)
from hubbub.i18n import _

if TYPE_CHECKING:
    from hubbub.post import Post
    from hubbub.store import Store

FORMATS = ("html", "md", "pdf", "json")


@click.command("recap")
@click.argument("tag")
@click.option(
    "--on", "day", metavar="YYYY-MM-DD", help="The day (UTC). Default: the latest day with posts."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Output format. " + out_format_help(FORMATS, "json"),
)
@out_option(
    "Write to FILE instead of standard output (replaced only once complete); "
    "'-' for standard output."
)
@db_option
@workspace_option
def recap_command(
    tag: str, day: str | None, fmt: str | None, out: str | None, db: str | None, workspace: str
) -> None:
    """Recap the chat on hashtag TAG for one UTC day: questions with their
    answers, participants, new voices, top answers, unanswered questions,
    sentiment and reach."""
    from hubbub.chat.pdf_fonts import FontsMissing
    from hubbub.chat.recap import RecapError, build_recap, parse_day
    from hubbub.chat.recap_output import render_recap

    fmt = format_for_out(out, fmt, FORMATS, "json")
    if is_stdout(out):
        out = None
    check_out(out, db)  # never over the database, never into a missing folder
    try:
        on = parse_day(day) if day else None
        with store_from(db, must_exist=True, workspace=workspace) as store:
            recap = build_recap(
                store, tag, day=on, workspace=workspace, visible=_room_rule(store, tag, workspace)
            )
        data = render_recap(recap, fmt)
    except (RecapError, FontsMissing) as exc:
        raise click.ClickException(str(exc)) from None
    if out is None:
        # Only the recap on stdout, so it can be piped (JSON into jq, PDF into a file).
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        except OSError as exc:
            # A full disk or a closed pipe: one line, and (as Python's docs do for
            # a closed pipe) nothing left for the exit's flush to fail on.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.ClickException(
                f"cannot write the recap to standard output: {exc.strerror}"
            ) from None
        _audit(db, workspace, recap, fmt, "stdout")
        return
    with open_binary_out(out) as fh:
        fh.write(data)
    _audit(db, workspace, recap, fmt, out)
    click.echo(
        _("recap of #{tag} on {day}: {questions} questions, {people} participants → {out}").format(
            tag=recap["tag"],
            day=recap["day"],
            questions=len(recap["questions"]),
            people=recap["participants"]["total"],
            out=out,
        ),
        err=True,
    )


def _audit(
    db: str | None, workspace: str, recap: Mapping[str, object], fmt: str, target: str
) -> None:
    """A recap carries a day of the room's posts out: audited as an export."""
    from hubbub.cli.audit import cli_record

    with store_from(db) as store:
        detail = {
            "command": "recap",
            "format": fmt,
            "tag": str(recap["tag"]),
            "day": str(recap["day"]),
        }
        cli_record(store, workspace, "export", target=target, detail=detail)


def _room_rule(store: Store, tag: str, workspace: str) -> Callable[[list[Post]], list[Post]]:
    """The room's rule, as its recap download applies it: no author a host
    muted or blocked, no post held for approval or rejected."""
    from hubbub.query.tokens import fold
    from hubbub.web.rooms import RoomRepo

    rooms = RoomRepo(store, workspace)
    room = rooms.find(fold(tag.strip().lstrip("#")))

    def visible(posts: list[Post]) -> list[Post]:
        held = rooms.withheld(posts)
        return [
            p
            for p in posts
            if (p.network, p.id) not in held and (room is None or not room.is_hidden(p))
        ]

    return visible


COMMANDS = [recap_command]
