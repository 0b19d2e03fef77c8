"""Write docs/cli.md from the commands' own help, so the reference cannot
drift from the code (``tests/cli/test_reference.py`` checks it is current).

    .venv/bin/python -m hubbub.cli.reference > docs/cli.md
"""

from __future__ import annotations

import click

from hubbub.cli import main as root


def _walk(ctx: click.Context) -> list[click.Context]:
    """Contexts for a command and its subcommands, nested as at run time (so
    settings such as ``-h`` carry down)."""
    found = [ctx]
    command = ctx.command
    if isinstance(command, click.Group):
        for name in sorted(command.list_commands(ctx)):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                found.extend(_walk(click.Context(sub, info_name=name, parent=ctx)))
    return found


def render() -> str:
    lines = [
        "# Command-line reference",
        "",
        "Generated from `hubbub --help` by `python -m hubbub.cli.reference`; do not edit by hand.",
        "",
    ]
    top = click.Context(
        root, info_name="hubbub", terminal_width=100, max_content_width=100, **root.context_settings
    )
    for ctx in _walk(top):
        lines += [
            f"## `{ctx.command_path}`",
            "",
            "```text",
            ctx.command.get_help(ctx).rstrip(),
            "```",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    click.echo(render(), nl=False)
