"""The store is the one door: no code outside ``hubbub/store/`` scopes by
workspace itself or reaches the tables the store's repositories guard.

Two checks over every ``.py`` file of ``src/hubbub`` outside ``store/``:

- the text ``workspace_id`` appears nowhere (not in code, not in a comment:
  a feature that names the column is a feature that filters by hand, and one
  forgotten filter is a leak between workspaces);
- no table is imported from the store's schema modules (``hubbub.store.schema``
  and every ``hubbub.store.*_schema``). A table in a feature's hands is an
  unscoped statement waiting to be written.

What may still be imported from a schema module: names that are not tables
(nor the ``MetaData`` that holds them all), e.g. a column type such as
``UTCDateTime`` or a constant such as ``LISTEN_TABLES``. They carry no rows,
so no read or write can be built from them. A whole schema module
(``from hubbub.store import schema``) is refused: it is every table at once.

Each finding is reported as ``path:line: what``, so the failure message is
the to-do list.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "hubbub"
STORE = PACKAGE / "store"
COLUMN = "workspace_id"


def _outside_store() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if STORE in path.parents:
            continue
        yield path


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_schema_module(name: str) -> bool:
    if not name.startswith("hubbub.store."):
        return False
    last = name.rsplit(".", 1)[1]
    return last == "schema" or last.endswith("_schema")


def _absolute(path: Path, node: ast.ImportFrom) -> str:
    """The module an ``from X import ...`` names, relative imports resolved."""
    if node.level == 0:
        return node.module or ""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _guards_rows(module: str, name: str) -> bool:
    """Whether ``module.name`` is a table or the metadata holding the tables."""
    value = getattr(importlib.import_module(module), name, None)
    return isinstance(value, sa.Table | sa.MetaData)


def schema_imports(path: Path, source: str) -> list[str]:
    """Findings for imports of store tables in one file."""
    found: list[str] = []
    where = path.relative_to(ROOT)
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_schema_module(alias.name):
                    found.append(f"{where}:{node.lineno}: imports module {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(path, node)
            for alias in node.names:
                if _is_schema_module(f"{module}.{alias.name}"):
                    found.append(f"{where}:{node.lineno}: imports module {module}.{alias.name}")
                elif _is_schema_module(module) and (
                    alias.name == "*" or _guards_rows(module, alias.name)
                ):
                    found.append(f"{where}:{node.lineno}: imports table {module}.{alias.name}")
    return found


def column_mentions(path: Path, source: str) -> list[str]:
    where = path.relative_to(ROOT)
    return [
        f"{where}:{number}: names {COLUMN}: {line.strip()}"
        for number, line in enumerate(source.splitlines(), start=1)
        if COLUMN in line
    ]


def test_no_workspace_column_outside_the_store() -> None:
    findings = [
        finding
        for path in _outside_store()
        for finding in column_mentions(path, path.read_text(encoding="utf-8"))
    ]
    assert not findings, "workspace scoping written outside store/:\n" + "\n".join(findings)


def test_no_store_tables_outside_the_store() -> None:
    findings = [
        finding
        for path in _outside_store()
        for finding in schema_imports(path, path.read_text(encoding="utf-8"))
    ]
    assert not findings, "store tables imported outside store/:\n" + "\n".join(findings)


# -- the checks themselves find what they are meant to find --------------------

FEATURE = PACKAGE / "listen" / "example.py"  # never written: only its name is used


def test_the_column_check_names_file_and_line() -> None:
    source = "x = 1\nstmt = t.c.workspace_id == ws\n"
    assert column_mentions(FEATURE, source) == [
        "src/hubbub/listen/example.py:2: names workspace_id: stmt = t.c.workspace_id == ws"
    ]


def test_the_import_check_refuses_tables_and_modules_but_not_types() -> None:
    source = "\n".join(
        [
            "from hubbub.store import schema as t",
            "from hubbub.store.listen_schema import query_matches",
            "from hubbub.store.schema import UTCDateTime, posts",
            "import hubbub.store.web_schema",
            "from ..store import outbox_schema",
            "from ..store.schema import metadata",
            "from hubbub.store.listen_schema import LISTEN_TABLES",
            "from hubbub.store import Store",
            "from hubbub.store.scope import Scope",
        ]
    )
    assert schema_imports(FEATURE, source) == [
        "src/hubbub/listen/example.py:1: imports module hubbub.store.schema",
        "src/hubbub/listen/example.py:2: imports table hubbub.store.listen_schema.query_matches",
        "src/hubbub/listen/example.py:3: imports table hubbub.store.schema.posts",
        "src/hubbub/listen/example.py:4: imports module hubbub.store.web_schema",
        "src/hubbub/listen/example.py:5: imports module hubbub.store.outbox_schema",
        "src/hubbub/listen/example.py:6: imports table hubbub.store.schema.metadata",
    ]


def test_the_walk_covers_the_package_and_skips_the_store() -> None:
    walked = list(_outside_store())
    assert PACKAGE / "listen" / "saved.py" in walked
    assert PACKAGE / "cli" / "main.py" in walked or any(p.parent.name == "cli" for p in walked)
    assert not any(STORE in p.parents for p in walked)
