"""``hubbub audience score``: bot / fake scores for a file of profiles."""

from __future__ import annotations

import csv
import io
import sys

import click
import orjson

from hubbub.i18n import _

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    # A spreadsheet runs a cell starting with these as a formula.
    return "'" + value if value.startswith(_FORMULA_START) else value


@click.group("audience")
def audience() -> None:
    """Audience quality: bot and fake-account scores."""


def _score_help() -> str:
    from hubbub.audience.bot_model import accuracy

    figures = accuracy()
    return _(
        "Score FILE ('-': standard input) of account profiles: X API v2 user objects "
        "(twarc2 pages or one per line), X v1.1 users, Mastodon accounts, Bluesky profile "
        "views. One row per account in input order: network, id, handle, suspicion (0-1), "
        "suspicious (at threshold {threshold}), reasons. Measured accuracy: F1 {f1} on the "
        "suspicious class in 10-fold cross-validation on the Cresci 2017 training file "
        "(X profiles from 2014-2015; see docs/audience.md for where not to trust it)."
    ).format(threshold=figures.get("threshold"), f1=figures.get("f1_suspicious"))


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
    problems = 0
    name = getattr(file, "name", "-")
    for item in score_stream(file):
        if isinstance(item, Problem):
            problems += 1
            click.echo(f"{name}:{item.line}: {item.message}", err=True)
            continue
        if writer is not None:
            writer.writerow(
                [
                    item.network,
                    _cell(item.id),
                    _cell(item.handle),
                    f"{item.suspicion:.4f}",
                    "true" if item.suspicious else "false",
                    _cell("; ".join(item.reasons)),
                ]
            )
        else:
            sys.stdout.buffer.write(orjson.dumps(item.to_json()) + b"\n")
            sys.stdout.buffer.flush()
    out.flush()
    if problems:
        sys.exit(1)


COMMANDS = [audience]
