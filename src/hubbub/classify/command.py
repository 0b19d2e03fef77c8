"""``hubbub classify``: classify texts or JSONL posts, streaming, one JSON object out per line in.

Registered in the CLI by ``hubbub.cli.classify``; ``hubbub.launch`` runs it directly
so that classifying a file does not pay for importing the store, web and alembic.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from typing import IO, Any, cast

import click
import orjson

from hubbub.i18n import _
from hubbub.launch import EndsLikeCoreutils

BATCH = 512
#: Line numbers the closing summary names; the rest are in the error rows.
NAMED_ERROR_LINES = 5


def _parse(line: str, number: int, fmt: str) -> tuple[dict[str, Any] | None, str | None]:
    """(item, None) for a usable line, (None, error) for a broken one; item None + error None = skip."""
    if fmt == "text":
        return {"text": line}, None
    if not line.strip():
        return None, None  # blank lines between JSON objects are not posts
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return None, _("invalid JSON: {error}").format(error=exc)
    if not isinstance(obj, dict):
        return None, _("expected a JSON object")
    text = obj.get("text")
    if not isinstance(text, str):
        return None, _("missing string field 'text'")
    return obj, None


def payload_lang(obj: dict[str, Any]) -> Any:
    """The language a post's own payload states: ``lang`` (X, Hubbub's JSONL), ``langs``
    (Bluesky, also inside a Jetstream ``commit.record``), ``language`` (Mastodon)."""
    for key in ("lang", "langs", "language"):
        if obj.get(key):
            return obj[key]
    record = obj.get("record")
    if not isinstance(record, dict):
        commit = obj.get("commit")
        record = commit.get("record") if isinstance(commit, dict) else None
    if isinstance(record, dict) and record.get("langs"):
        return record["langs"]
    return None


def classify_lines(
    lines: Iterator[str], fmt: str, lang_default: str | None = "en", first_line: int = 1
) -> Iterator[dict[str, Any]]:
    """Result objects for each input line, in order; errors keep their place.

    ``first_line`` is the number of the first of ``lines`` in the whole input (error
    objects name it), for a chunk of a larger input (``workers.py``).
    """
    from hubbub.classify import classify_texts

    if fmt == "text":
        # Every line is a text with no id, no language and no way to be broken:
        # no per-line dict or payload lookup (the same answers, a few % of the run).
        while batch := [raw.rstrip("\r\n") for raw in islice(lines, BATCH)]:
            for classification in classify_texts(batch, None, lang_default):
                yield classification.to_dict()
        return

    pending: list[tuple[int, dict[str, Any] | None, str | None]] = []

    def flush() -> Iterator[dict[str, Any]]:
        items = [item for _, item, _ in pending if item is not None]
        results = iter(
            classify_texts(
                [i["text"] for i in items], [payload_lang(i) for i in items], lang_default
            )
        )
        for number, item, error in pending:
            if item is None:
                yield {"error": error, "line": number}
                continue
            result = next(results).to_dict()
            if "id" in item:
                result = {"id": item["id"], **result}
            yield result
        pending.clear()

    for number, raw in enumerate(lines, start=first_line):
        line = raw.rstrip("\r\n")
        item, error = _parse(line, number, fmt)
        if item is None and error is None:
            continue
        pending.append((number, item, error))
        if len(pending) >= BATCH:
            yield from flush()
    if pending:
        yield from flush()


class _ClassifyCommand(EndsLikeCoreutils):
    """Adds the measured accuracy (package data) to the help, read only when help is shown.

    Started alone by ``hubbub.launch`` (outside the ``hubbub`` group, which does the
    same), it ends as coreutils do when its reader goes away.
    """

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from hubbub.classify.accuracy import help_text

        for paragraph in help_text().split("\n\n"):
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(paragraph)
        super().format_epilog(ctx, formatter)


@click.command(
    "classify",
    cls=_ClassifyCommand,
    help=_(
        "Classify posts: sentiment, intent, spam, offensive, language. Writes JSONL to "
        "stdout.\n\nFILE is a path or '-' for standard input. A line that cannot be read "
        'gives {"error": ..., "line": N} in its place; in jsonl mode blank lines are skipped.'
        "\n\nExit status 0 when every line was classified; 1 when some could not be "
        "(one line on standard error, after all the output, counts them and names the "
        "first few) or the input could not be read to its end; 2 for usage errors."
    ),
)
@click.argument("file", type=click.File("rb"), default="-")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "jsonl"]),
    default="text",
    show_default=True,
    help=_(
        "text: one text per line; jsonl: one post object per line with a 'text' key "
        "('id' is passed through; the post's language is read from 'lang', 'langs' or "
        "'language' when it has one)."
    ),
)
@click.option(
    "--lang-default",
    "lang_default",
    default="en",
    show_default=True,
    metavar="CODE",
    help=_(
        "Language assumed for a short text whose language the input does not give and "
        "detection is not confident about ('none': keep the detector's guess)."
    ),
)
@click.option(
    "--stored",
    is_flag=True,
    help=_(
        "Instead of reading FILE: classify the posts stored in the database that have "
        "no classes yet (a database from before classification was part of import and "
        "of the live pipeline), in batches; an interrupted run keeps what it did."
    ),
)
@click.option(
    "--db",
    envvar="HUBBUB_DB",
    default=None,
    metavar="URL",
    help=_("With --stored: the database (a file path or an SQLAlchemy URL; default ./hubbub.db)."),
)
@click.option(
    "--workspace",
    default="default",
    show_default=True,
    callback=lambda ctx, param, value: _workspace_name(ctx, param, value),
    help=_("With --stored: the workspace whose posts are classified."),
)
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=32),
    default=None,
    metavar="N",
    help=_(
        "Processes that classify a large input, 1 to 32 (default: the CPUs available, at most 8); "
        "output order is the input's either way."
    ),
)
def classify(
    file: IO[bytes],
    fmt: str,
    lang_default: str,
    stored: bool,
    db: str | None,
    workspace: str,
    workers: int | None,
) -> None:
    # The help text is given above through _() so it can be translated.
    if stored:
        ctx = click.get_current_context()
        given = [
            name
            for name in ("file", "fmt", "lang_default", "workers")
            if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
        ]
        if given:
            raise click.UsageError(
                _(
                    "--stored classifies the database's posts: it takes no FILE, --format, --lang-default or --workers"
                )
            )
        _classify_stored(db, workspace)
        return
    # Bytes straight to the binary buffer: orjson's UTF-8 must not meet a narrower
    # locale encoding on its way out.
    out = sys.stdout.buffer
    from hubbub.classify.language import normalise_lang

    default = None if lang_default.lower() == "none" else normalise_lang(lang_default)
    if default is None and lang_default.lower() != "none":
        raise click.BadParameter(
            _("not a language code: {value!r}").format(value=lang_default),
            param_hint="--lang-default",
        )
    from hubbub.classify.workers import classify_stream, default_workers

    tally = _ErrorRows(out)
    # Text mode has no broken line (every line is a text): its rows pass as they were.
    sink = cast("IO[bytes]", tally) if fmt == "jsonl" else out
    try:
        with _text_input(file) as text:
            classify_stream(
                text, fmt, default, sink, default_workers() if workers is None else workers
            )
    except click.ClickException:
        _say_error_rows(tally, file)  # the input ended early: its own line follows
        raise
    out.flush()
    # Like `hubbub import`: a run that left lines unclassified is no success
    # for a script checking the status, and says so once all else is written.
    if _say_error_rows(tally, file):
        sys.exit(1)


def _say_error_rows(tally: _ErrorRows, file: IO[bytes]) -> bool:
    if tally.count:
        click.echo(tally.summary(_name(file)), err=True)
    return tally.count > 0


class _ErrorRows:
    """Passes rows on to ``out``, counting the error rows among them and keeping
    the first few line numbers. ``classify_stream`` only writes to its output, so
    this is all the file it needs. An error row is exactly a row that starts with
    ``{"error":`` (orjson writes no spaces; a result row starts with ``"id"`` or
    ``"sentiment"``; inside a string the quotes would be escaped)."""

    _MARK = b'{"error":'

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.count = 0
        self.first_lines: list[int] = []

    def write(self, data: bytes) -> int:
        if self._MARK in data:  # one scan in C; most chunks have no error at all
            for row in data.splitlines():
                if row.startswith(self._MARK):
                    self.count += 1
                    if len(self.first_lines) < NAMED_ERROR_LINES:
                        self.first_lines.append(int(orjson.loads(row)["line"]))
        return self.out.write(data)

    def flush(self) -> None:
        self.out.flush()

    def summary(self, source: str) -> str:
        lines = ", ".join(str(n) for n in self.first_lines)
        if self.count > len(self.first_lines):
            lines += ", …"
        if self.count == 1:
            text = _("{source}: 1 line could not be classified (line {lines}); its row says why")
        else:
            text = _(
                "{source}: {count} lines could not be classified (lines {lines}); "
                "their rows say why"
            )
        return text.format(source=source, count=self.count, lines=lines)


@contextmanager
def _text_input(binary: IO[bytes]) -> Iterator[IO[str]]:
    """The input as text, decided from its first bytes as ``hubbub import`` does
    (``formats.sniff``; no cost per line): UTF-16/32 is decoded (read as UTF-8 it
    gave more rows than lines), gzip is read through, an archive or a database is
    refused; bad UTF-8 bytes become U+FFFD. A gzip stream cut short ends the rows
    there and exit 1 with one line saying so (click took gzip's EOFError for
    Ctrl-C: "Aborted!"). The file itself stays click's to close (it may be stdin)."""
    from hubbub.formats.sniff import NotReadable, opened_text

    damage: list[str] = []
    try:
        text = opened_text(binary, damage)
    except NotReadable as exc:
        raise click.ClickException(f"{_name(binary)}: {exc}") from None
    yield text
    if damage:
        raise click.ClickException(f"{_name(binary)}: {damage[0]}")


def _name(binary: IO[bytes]) -> str:
    name = getattr(binary, "name", None)
    return name if isinstance(name, str) and not name.startswith("<") else "standard input"


def _workspace_name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if value == "default":
        # Click runs this callback on every call, --stored or not, and importing the
        # CLI package below (store, SQLAlchemy) cost 0.7 s of a plain file's run.
        return value
    # Imported when called: this module must start without the CLI package (launch.py).
    from hubbub.cli.errors import workspace_name

    return workspace_name(ctx, param, value)


def _classify_stored(db: str | None, workspace: str) -> None:
    """``hubbub classify --stored``: backfill the classes of stored posts."""
    from rich.console import Console
    from rich.progress import Progress

    from hubbub.classify.stored import classify_stored, count_unclassified
    from hubbub.cli.data import store_from

    with store_from(db, must_exist=True) as store:
        total = count_unclassified(store, workspace)
        if total == 0:
            click.echo(_("Every stored post is classified."))
            return
        with Progress(transient=True, console=Console(stderr=True)) as progress:
            task = progress.add_task(_("classifying"), total=total)
            done = classify_stored(store, workspace, on_batch=lambda n: progress.advance(task, n))
        left = count_unclassified(store, workspace)
    click.echo(
        _("classified {done} stored posts; {left} left unclassified").format(done=done, left=left)
    )
