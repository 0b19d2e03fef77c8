"""A case number no database key can hold is a usage error, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hubbub.cli import main


@pytest.mark.parametrize("command", ["show", "resolve"])
@pytest.mark.parametrize("number", ["99999999999999999999999", "0", "-3"])
def test_out_of_range_case_numbers_are_usage_errors(
    tmp_path: Path, command: str, number: str
) -> None:
    db = str(tmp_path / "h.db")
    result = CliRunner().invoke(main, ["inbox", command, "--db", db, "--", number])
    assert result.exit_code == 2, result.output
    assert "not in the range" in result.output
    assert not isinstance(result.exception, OverflowError)
