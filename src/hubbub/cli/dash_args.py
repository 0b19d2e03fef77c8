"""Positional arguments that start with '-': search queries.

``hubbub search '-is:repost brexit'`` is a query (exclude reposts), but Click
reads any argument that starts with '-' as an option and stops with "No such
option: -i". ``ignore_unknown_options`` is not the answer: Click then splits
the argument into one-letter options, so ``-hello`` runs ``-h`` (help), and a
mistyped ``--limt`` would silently become the query.

:class:`DashArgsCommand` sorts the arguments before Click parses them: an
argument that starts with a single '-' and is not one of the command's own
options is a positional argument. Options keep working wherever they are
(``search -is:repost --limit 5``), unknown ``--long`` options are still
refused, and ``--`` still ends the options.
"""

from __future__ import annotations

import click


def _option_arity(ctx: click.Context, command: click.Command) -> dict[str, bool]:
    """Every option name of ``command`` → whether it takes a value."""
    names: dict[str, bool] = {}
    for param in command.get_params(ctx):
        if isinstance(param, click.Option):
            takes_value = not (param.is_flag or param.count)
            for name in (*param.opts, *param.secondary_opts):
                names[name] = takes_value
    return names


def split_dash_positionals(args: list[str], options: dict[str, bool]) -> list[str]:
    """``args`` reordered as options first, then ``--``, then the positional
    arguments in their order, so that positionals starting with '-' reach the
    command as positionals. Arguments after a ``--`` of the user's are
    positional as given."""
    leading: list[str] = []
    positional: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            positional.extend(args[i:])
            break
        if arg.startswith("--"):
            leading.append(arg)  # a long option; an unknown one stays an error
            if "=" not in arg and options.get(arg, False) and i < len(args):
                leading.append(args[i])  # its value, whatever it looks like
                i += 1
            continue
        if arg.startswith("-") and len(arg) > 1:
            if arg in options:
                leading.append(arg)
                if options[arg] and i < len(args):
                    leading.append(args[i])
                    i += 1
                continue
            if options.get(arg[:2], False):
                leading.append(arg)  # a short option with its value attached: -n5
                continue
        positional.append(arg)
    if not positional:
        return leading
    return [*leading, "--", *positional]


class DashArgsCommand(click.Command):
    """A command whose positional arguments (a search query) may start with '-'."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, split_dash_positionals(args, _option_arity(ctx, self)))
