"""The Store: the one door to the database for every other part of Hubbub."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from hubbub.post import Post
from hubbub.query.ast import Node
from hubbub.query.parser import parse
from hubbub.store import schema as t
from hubbub.store.engine import (
    DamagedDatabase,
    StoreError,
    create_engine,
    migrate,
    resolve_db_url,
)
from hubbub.store.ingest import Ingest, IngestCounts, IngestResult, RawPayload, ingest_batch
from hubbub.store.rows import row_to_post
from hubbub.store.search import compile_query
from hubbub.store.search_plan import page as search_page
from hubbub.store.sql import dialect_insert as _dialect_insert
from hubbub.store.sql import insert_ignore as _insert_ignore
from hubbub.store.transactions import run_write
from hubbub.store.workspace_names import (
    MAX_WORKSPACE_NAME,
    WorkspaceNameError,
    check_new_workspace_name,
    check_workspace_name,
    folded,
    looks_alike_error,
)

__all__ = [
    "DamagedDatabase",
    "Ingest",
    "IngestCounts",
    "IngestResult",
    "RawPayload",
    "Store",
    "QueryTooComplex",
    "StoreError",
    "WorkspaceNameError",
    "check_workspace_name",
    "open_store",
    "resolve_db_url",
]

DEFAULT_WORKSPACE = "default"


class QueryTooComplex(StoreError, ValueError):
    """A valid query that goes past the database's own limits (expression
    depth, number of terms): the user's query is refused, the database is fine."""


def _too_complex(exc: sa.exc.DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate.startswith("54")  # PostgreSQL: program_limit_exceeded class
    text = str(exc.orig).lower()
    return any(
        words in text for words in ("too large", "too many", "too complex", "stack overflow")
    )


def open_store(db: str | None = None, *, migrate_schema: bool = True) -> Store:
    """Open (and by default migrate) the database named by a path or URL."""
    url = resolve_db_url(db)
    engine = create_engine(url)
    target = make_url(url).render_as_string(hide_password=True)
    try:
        if migrate_schema:
            migrate(engine)
    except sa.exc.OperationalError as exc:
        engine.dispose()
        raise StoreError(f"cannot open database {target}: {exc.orig}") from None
    except sa.exc.DatabaseError as exc:
        # SQLite: "file is not a database", "database disk image is malformed".
        engine.dispose()
        raise DamagedDatabase(
            f"database {target} is damaged or not a database: {exc.orig}"
        ) from None
    return Store(engine)


class Store:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._workspace_ids: dict[str, int] = {}
        # Told the name of each workspace this store creates (not the default's
        # row): the CLI says so, since a mistyped --workspace on a write would
        # otherwise become a new empty workspace without a word.
        self.on_new_workspace: Callable[[str], None] | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- workspaces --------------------------------------------------------

    def workspace_id(self, name: str = DEFAULT_WORKSPACE) -> int:
        """The id of workspace ``name``, creating it on first use."""
        if name in self._workspace_ids:
            return self._workspace_ids[name]
        check_workspace_name(name)
        w = t.workspaces
        with self.engine.connect() as c:
            found = c.execute(sa.select(w.c.id).where(w.c.name == name)).scalar()
        if found is None:
            # Only a new workspace must meet the stricter rule: names stored
            # before it keep working (hubbub.store.workspace_names).
            check_new_workspace_name(name)
            self._refuse_look_alike(name)
            made: list[bool] = []

            def create(c: sa.Connection) -> int:
                # Insert-or-ignore: another process may create it at the same time.
                stmt = _insert_ignore(c, w).values(name=name, created_at=datetime.now(UTC))
                # RETURNING, not rowcount: the PostgreSQL driver reports -1 here.
                inserted = c.execute(stmt.returning(w.c.id)).scalar()
                made[:] = [inserted is not None]
                if inserted is not None:
                    return int(inserted)
                return c.execute(sa.select(w.c.id).where(w.c.name == name)).scalar_one()

            found = run_write(self.engine, create)
            if made == [True] and name != DEFAULT_WORKSPACE and self.on_new_workspace:
                self.on_new_workspace(name)
        self._workspace_ids[name] = found
        return found

    def _refuse_look_alike(self, name: str) -> None:
        """WorkspaceNameError when a workspace whose name differs only in case exists."""
        w = t.workspaces
        with self.engine.connect() as c:
            existing = c.execute(
                sa.select(w.c.name).where(sa.func.lower(w.c.name) == folded(name)).limit(1)
            ).scalar()
        if existing is not None and existing != name:
            raise looks_alike_error(name, existing)

    def find_workspace(self, name: str) -> int | None:
        """The id of workspace ``name`` if it exists; never creates one."""
        if name in self._workspace_ids:
            return self._workspace_ids[name]
        if not name or len(name) > MAX_WORKSPACE_NAME:
            return None
        w = t.workspaces
        with self.engine.connect() as c:
            found = c.execute(sa.select(w.c.id).where(w.c.name == name)).scalar()
        if found is not None:
            self._workspace_ids[name] = found
        return found

    def workspaces(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(sa.select(t.workspaces.c.name).order_by(t.workspaces.c.id)).scalars()
            )

    # -- writing -----------------------------------------------------------

    def ingest(
        self,
        items: Sequence[Ingest],
        workspace: str = DEFAULT_WORKSPACE,
        cursor: tuple[str, str] | None = None,
    ) -> IngestResult:
        """Store a batch in one transaction; ``cursor`` (source, value) is
        committed with the posts it covers, so a restart resumes exactly."""
        ws = self.workspace_id(workspace)

        def write(conn: sa.Connection) -> IngestResult:
            result = ingest_batch(conn, ws, items)
            if cursor is not None:
                self._set_cursor(conn, ws, *cursor)
            return result

        # Retried as a whole when a concurrent writer (another import, serve,
        # a worker) stored some of the same rows first.
        return run_write(self.engine, write)

    def get_cursor(self, source: str, workspace: str = DEFAULT_WORKSPACE) -> str | None:
        ws = self.workspace_id(workspace)
        c = t.source_cursors
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(c.c.value).where(c.c.workspace_id == ws, c.c.source == source)
            ).scalar()

    def set_cursor(self, source: str, value: str, workspace: str = DEFAULT_WORKSPACE) -> None:
        ws = self.workspace_id(workspace)
        run_write(self.engine, lambda conn: self._set_cursor(conn, ws, source, value))

    def _set_cursor(self, conn: sa.Connection, ws: int, source: str, value: str) -> None:
        c = t.source_cursors
        stmt = _dialect_insert(conn, c).values(
            workspace_id=ws, source=source, value=value, updated_at=datetime.now(UTC)
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[c.c.workspace_id, c.c.source],
            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
        )
        conn.execute(stmt)

    # -- reading -----------------------------------------------------------

    @contextmanager
    def _querying(self) -> Iterator[sa.Connection]:
        """A read connection for a user's query; a query beyond the database's
        limits is a ``QueryTooComplex``, not a database failure."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except sa.exc.OperationalError as exc:
            if _too_complex(exc):
                raise QueryTooComplex(f"query too complex for the database: {exc.orig}") from None
            raise

    def _select_posts(self, query: str | Node | None, workspace: str) -> sa.Select:
        ws = self.workspace_id(workspace)
        p = t.posts
        # "= false", not "IS false": PostgreSQL uses an index only for the former.
        stmt = sa.select(p).where(p.c.workspace_id == ws, p.c.deleted == sa.false())
        if query is not None and query != "":
            stmt = stmt.where(compile_query(query, self.dialect))
        return stmt

    def search(
        self,
        query: str | Node | None = None,
        workspace: str = DEFAULT_WORKSPACE,
        limit: int | None = 50,
        offset: int = 0,
    ) -> list[Post]:
        """Posts matching ``query`` (the Hubbub search language), newest first.
        A page (``limit``) is planned by store/search_plan.py."""
        p = t.posts
        node: Node | None = (parse(query) if query else None) if isinstance(query, str) else query
        with self._querying() as conn:
            if limit is None:
                stmt = self._select_posts(node, workspace).order_by(
                    p.c.created_at.desc(), p.c.pk.desc()
                )
                if offset:
                    stmt = stmt.offset(offset)
                return [row_to_post(row) for row in conn.execute(stmt).mappings()]
            base = self._select_posts(None, workspace)
            rows = search_page(conn, self.dialect, base, node, limit, offset)
            return [row_to_post(row) for row in rows]

    def count(self, query: str | Node | None = None, workspace: str = DEFAULT_WORKSPACE) -> int:
        inner = self._select_posts(query, workspace).subquery()
        with self._querying() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(inner)).scalar_one()

    def iter_posts(
        self, query: str | Node | None = None, workspace: str = DEFAULT_WORKSPACE, batch: int = 1000
    ) -> Iterator[Post]:
        """Every matching post, oldest first, streamed in keyset pages."""
        p = t.posts
        base = self._select_posts(query, workspace)
        last = 0
        while True:
            stmt = base.where(p.c.pk > last).order_by(p.c.pk).limit(batch)
            with self._querying() as conn:
                rows = list(conn.execute(stmt).mappings())
            if not rows:
                return
            for row in rows:
                yield row_to_post(row)
            last = rows[-1]["pk"]

    def iter_raw(
        self, query: str | Node | None = None, workspace: str = DEFAULT_WORKSPACE
    ) -> Iterator[tuple[str | None, bytes]]:
        """The original payloads (format, bytes as received) behind matching posts,
        each once, in the order they were stored."""
        p, pr, r = t.posts, t.post_raws, t.raw_payloads
        matching = self._select_posts(query, workspace).with_only_columns(p.c.pk).subquery()
        raw_ids = (
            sa.select(pr.c.raw_id).where(pr.c.post_pk.in_(sa.select(matching.c.pk))).distinct()
        )
        stmt = sa.select(r.c.id, r.c.format, r.c.body).where(r.c.id.in_(raw_ids)).order_by(r.c.id)
        with self._querying() as conn:
            for row in conn.execute(stmt):
                yield row.format, zlib.decompress(row.body)

    def get_post(
        self, network: str, post_id: str, workspace: str = DEFAULT_WORKSPACE
    ) -> Post | None:
        """A stored post by identity (tombstones included, with ``deleted`` set)."""
        ws = self.workspace_id(workspace)
        p = t.posts
        stmt = sa.select(p).where(
            p.c.workspace_id == ws, p.c.network == network, p.c.post_id == post_id
        )
        with self.engine.connect() as conn:
            row = conn.execute(stmt).mappings().first()
        return row_to_post(row) if row else None

    def post_versions(
        self, network: str, post_id: str, workspace: str = DEFAULT_WORKSPACE
    ) -> list[str]:
        """Earlier texts of an edited post, oldest first."""
        ws = self.workspace_id(workspace)
        p, v = t.posts, t.post_versions
        stmt = (
            sa.select(v.c.text)
            .join(p, p.c.pk == v.c.post_pk)
            .where(p.c.workspace_id == ws, p.c.network == network, p.c.post_id == post_id)
            .order_by(v.c.version_rank, v.c.version_id)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(stmt).scalars())

    def get_author(
        self, network: str, author_id: str, workspace: str = DEFAULT_WORKSPACE
    ) -> dict | None:
        ws = self.workspace_id(workspace)
        a = t.authors
        stmt = sa.select(a).where(
            a.c.workspace_id == ws, a.c.network == network, a.c.author_id == author_id
        )
        with self.engine.connect() as conn:
            row = conn.execute(stmt).mappings().first()
        return dict(row) if row else None
