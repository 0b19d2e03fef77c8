"""A file parsed in the importer's second process stores exactly what an
in-process import stores: every row of every table (clock columns aside),
the same report, and the same matches and classes when import listens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hubbub.listen.imported import listen_after_import
from hubbub.listen.saved import add_query
from hubbub.store import open_store
from hubbub.transfer.importer import ImportReport, import_paths
from tests.conftest import require_shared_data
from tests.store.test_import_real import payload_files

# Times set from the clock (stored, fetched, classified...) differ between two
# runs: any time after the test began reads as "now".
_NOW = "now"


def _import(db: Path, worker: bool) -> ImportReport:
    files = [str(p) for p in payload_files()]
    # The same files twice: the second pass is all duplicates, edits and replays.
    with open_store(f"sqlite:///{db}") as store:
        add_query(store, "words", "the OR a OR de OR #brexit OR lang:ja")
        report = import_paths(
            store,
            files + files,
            on_batch=listen_after_import(store, "default"),
            worker_min_bytes=0 if worker else 1 << 62,
        )
    return report


def _clock(value: object, since: datetime) -> object:
    if isinstance(value, datetime) and value.replace(tzinfo=None) >= since:
        return _NOW
    return value


def _dump(db: Path, since: datetime) -> dict[str, list[tuple[Any, ...]]]:
    engine = sa.create_engine(f"sqlite:///{db}")
    meta = sa.MetaData()
    meta.reflect(engine)
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            rows = conn.execute(sa.select(table)).all()
            out[name] = sorted((tuple(_clock(v, since) for v in r) for r in rows), key=repr)
    engine.dispose()
    return out


def test_worker_import_stores_what_an_in_process_import_stores(tmp_path: Path) -> None:
    require_shared_data()
    since = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
    inline_report = _import(tmp_path / "inline.db", worker=False)
    worker_report = _import(tmp_path / "worker.db", worker=True)
    assert worker_report.as_json() == inline_report.as_json()
    inline, worker = _dump(tmp_path / "inline.db", since), _dump(tmp_path / "worker.db", since)
    assert inline["posts"] and inline["post_classes"] and inline["query_matches"]
    for name in inline:
        assert worker[name] == inline[name], name
