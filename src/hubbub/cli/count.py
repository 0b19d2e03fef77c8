"""``hubbub count``: how each network counts a text before anything is sent."""

from __future__ import annotations

import sys

import click
import orjson

from hubbub.cli.dash_args import DashArgsCommand
from hubbub.i18n import _

_MAX_INPUT = 1_000_000  # characters; far above any network's limit


def _networks(value: str) -> tuple[str, ...]:
    from hubbub.counting import NETWORKS

    names = tuple(dict.fromkeys(n.strip().lower() for n in value.split(",") if n.strip()))
    unknown = [n for n in names if n not in NETWORKS]
    if unknown or not names:
        raise click.BadParameter(
            _("unknown network {names} (choose from {choices})").format(
                names=", ".join(unknown) or "''", choices=", ".join(NETWORKS)
            ),
            param_hint="--network",
        )
    return names


@click.command(
    "count",
    cls=DashArgsCommand,
    help=_(
        "Show how X, Bluesky and Mastodon count TEXT ('-' or nothing: standard input): "
        "X's weighted length (URLs 23, emoji and CJK 2), Bluesky graphemes (limit 300) "
        "with its link/mention/hashtag facets at UTF-8 byte offsets, Mastodon characters "
        "(URLs 23, @user@host as @user; 500 unless the server says otherwise)."
    ),
)
@click.argument("text", required=False, default="-")
@click.option(
    "--network",
    "networks",
    default="x,bluesky,mastodon",
    show_default=True,
    help=_("Comma-separated networks to count for."),
)
@click.option(
    "--json", "as_json", is_flag=True, help=_("One JSON line: {network: {length, limit, ok}}.")
)
def count(text: str, networks: str, as_json: bool) -> None:
    from hubbub.cli.outbox import read_post_text
    from hubbub.counting import count_text
    from hubbub.counting.bluesky import MAX_BYTES as BLUESKY_MAX_BYTES

    chosen = _networks(networks)
    text = read_post_text(text, _MAX_INPUT)
    if len(text) > _MAX_INPUT:
        raise click.UsageError(_("text longer than {n} characters").format(n=_MAX_INPUT))
    counts = count_text(text, chosen)
    if as_json:
        payload = {name: c.to_json() for name, c in counts.items()}
        sys.stdout.buffer.write(orjson.dumps(payload) + b"\n")
        return
    for name, c in counts.items():
        state = _("ok") if c.ok else _("too long") if c.length > c.limit else _("refused")
        size = len(text.encode())
        if name == "bluesky" and size > BLUESKY_MAX_BYTES:  # under 300 graphemes, over 3,000 bytes
            state = _("too long: {n} of {limit} bytes").format(n=size, limit=BLUESKY_MAX_BYTES)
        click.echo(f"{name:<9} {c.length:>6} / {c.limit:<6} {state}")


COMMANDS = [count]
