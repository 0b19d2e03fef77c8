"""A saved reply's refused field is quoted as the user typed it, with its position.

``Hi {name:{agent}}`` (str.format's nested spec) used to be reported as
``'{name:{agent}'``, its last brace dropped, and a long field gained a ``}``
the user never typed (found by a newcomer review)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hubbub.cli import main
from hubbub.inbox.errors import TemplateError
from hubbub.inbox.templates import check_fields
from hubbub.store import open_store


@pytest.mark.parametrize(
    ("text", "quoted", "position"),
    [
        ("Hi {name:{agent}} there", "'{name:{agent}}'", 4),
        ("Hi {name:{agent}", "'{name:{agent}'", 4),  # the outer brace is never closed
        ("{n:{a}{b}}!", "'{n:{a}{b}}'", 1),
        ("{{ok}} {case[0]}", "'{case[0]}'", 8),
        ("{name!r}", "'{name!r}'", 1),
        ("Dear {name.__class__}", "'{name.__class__}'", 6),
        ("{" + "x" * 33 + "}", "'{" + "x" * 33 + "}'", 1),  # one letter over the limit
    ],
)
def test_the_refused_field_is_quoted_exactly_with_its_position(
    text: str, quoted: str, position: int
) -> None:
    with pytest.raises(TemplateError) as caught:
        check_fields(text)
    message = str(caught.value)
    assert message.startswith(f"{quoted} at character {position} is not a field"), message


def test_a_long_field_is_cut_visibly_and_unprintables_are_escaped() -> None:
    with pytest.raises(TemplateError) as caught:
        check_fields("{" + "y" * 200 + "}")
    assert str(caught.value).startswith("'{" + "y" * 58 + "…' at character 1"), caught.value
    with pytest.raises(TemplateError) as caught:
        check_fields("ok {na\x1b[2Jme}")
    assert str(caught.value).startswith("'{na\\x1b[2Jme}' at character 4"), caught.value
    assert "\x1b" not in str(caught.value)


def test_saved_add_prints_what_was_typed_and_saves_nothing(sqlite_url: str) -> None:
    with open_store(sqlite_url) as store:
        store.workspace_id("default")
    runner = CliRunner()
    bad = runner.invoke(
        main, ["inbox", "saved", "add", "hi", "Hi {name:{agent}}, thanks", "--db", sqlite_url]
    )
    assert bad.exit_code == 1, bad.output
    assert "'{name:{agent}}' at character 4 is not a field" in bad.output
    assert "Traceback" not in bad.output
    listed = runner.invoke(main, ["inbox", "saved", "list", "--db", sqlite_url])
    assert "hi" not in listed.output.split()
