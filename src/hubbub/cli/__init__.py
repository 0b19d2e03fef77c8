"""The ``hubbub`` command line. Thin: every command calls the library.

Each command group lives in its own module here and is registered below.
"""

from __future__ import annotations

import click

from hubbub import __version__
from hubbub.cli.errors import HubbubGroup


# HubbubGroup: store errors from any command end as one clean line, not a traceback.
@click.group(cls=HubbubGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hubbub")
def main() -> None:
    """Hubbub: hashtag chats, listening, a team inbox and audience quality
    across X, Bluesky and Mastodon."""


def _register() -> None:
    from hubbub.cli import (
        accounts,
        audience,
        audit,
        classify,
        count,
        data,
        inbox,
        listen,
        outbox,
        recap,
        serve,
        simulate,
        users,
        worker,
        workspaces,
    )

    for command in (
        data.COMMANDS
        + classify.COMMANDS
        + count.COMMANDS
        + serve.COMMANDS
        + users.COMMANDS
        + simulate.COMMANDS
        + listen.COMMANDS
        + accounts.COMMANDS
        + recap.COMMANDS
        + outbox.COMMANDS
        + inbox.COMMANDS
        + audience.COMMANDS
        + audit.COMMANDS
        + worker.COMMANDS
        + workspaces.COMMANDS
    ):
        main.add_command(command)


_register()
