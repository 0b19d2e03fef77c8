"""``hubbub simulate TAG``: the simulator's raw payloads as JSONL (import files,
demos, piping into other tools)."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

import click
import orjson

from hubbub.i18n import _
from hubbub.post import parse_time
from hubbub.sources.sim import SimSource


@click.command("simulate")
@click.argument("tag")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=2.0, show_default=True,
              help=_("Posts per second (average)."))  # fmt: skip
@click.option("--seed", type=int, default=1, show_default=True, help=_("Same seed, same chat."))
@click.option("--speed", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help=_("Compress the chat's clock (questions come SPEED times as often)."))  # fmt: skip
@click.option("--limit", type=click.IntRange(min=0), default=None,
              help=_("Stop after N posts (default: run forever)."))  # fmt: skip
@click.option("--start", default=None, metavar="TIME",
              help=_("Timestamp of the first post (RFC 3339); default now. Fixes the ids too."))  # fmt: skip
@click.option("--live", is_flag=True, help=_("Pace the output in real time instead of at once."))
def simulate(
    tag: str, rate: float, seed: int, speed: float, limit: int | None, start: str | None, live: bool
) -> None:
    """Print a simulated chat on TAG as network payloads, one JSON per line
    (X API v2 stream lines, Bluesky Jetstream events, Mastodon streaming
    messages), ready for ``hubbub import`` or ``--source replay:FILE``."""
    began = datetime.now(UTC)
    if start is not None:
        parsed = parse_time(start)
        if parsed is None:
            raise click.BadParameter(_("not an RFC 3339 time"), param_hint="--start")
        began = parsed
    try:
        source = SimSource(tag, rate=rate, seed=seed, speed=speed, limit=limit, start=began)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="TAG") from None
    out = sys.stdout.buffer
    # A closed pipe (`hubbub simulate x | head`) and Ctrl-C, the usual way to end
    # `--live`, end this command as every other: the top-level group turns them into
    # SIGPIPE's status and 130 ("hubbub: interrupted"), as coreutils do.
    if live:
        asyncio.run(_live(source, out))
    else:
        for item in source.items():
            out.write(orjson.dumps(item.value) + b"\n")
    out.flush()


async def _live(source: SimSource, out: object) -> None:
    async for item in source:
        out.write(orjson.dumps(item.value) + b"\n")  # type: ignore[attr-defined]
        out.flush()  # type: ignore[attr-defined]


COMMANDS = [simulate]
