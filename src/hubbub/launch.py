"""The ``hubbub`` script's entry point.

``hubbub classify`` is the one command people pipe large files through, and its
speed is measured as a whole process against VADER's (docs/classifiers.md):
importing the full CLI (store, SQLAlchemy, alembic, the web app's modules) took
1.5-2.5 s of a 6 s run on 60,000 texts. So that command starts alone, with only
the classifier imported; every other command goes through ``hubbub.cli``.
"""

from __future__ import annotations

import sys


def run() -> None:
    args = sys.argv[1:]
    if args[:1] == ["classify"]:
        from hubbub.classify.command import classify

        # The same help options as the group gives its commands.
        classify.main(
            args=args[1:], prog_name="hubbub classify", help_option_names=["-h", "--help"]
        )
        return
    from hubbub.cli import main

    main()
