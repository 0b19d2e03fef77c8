"""Batched, idempotent writes: posts, deletions, authors, raw payloads, cursors.

One call is one transaction. Within it the batch is merged in memory against
the rows already stored (one SELECT per kind of key), then written with one
executemany per table. The rules:

- Upsert on identity ``(workspace, network, post_id)``; the same payload
  replayed changes nothing (``duplicates``).
- Edits: the newest version's text wins wherever it arrives in the stream;
  every other version's text is kept in ``post_versions``.
- Metrics only grow (element-wise maximum), so replaying old pages never
  rolls numbers back and re-importing is order-independent.
- A deletion leaves a tombstone (text and facets removed, out of search) that
  no later create, update or replay undoes. A deletion that names a Mastodon
  alias we have not seen yet is remembered and applied when the post arrives.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hubbub.post import Author, Deletion, Item, Post, Skipped
from hubbub.store import schema as t
from hubbub.store.repost_index import index_reposts, indexed_as, load_originals
from hubbub.store.rows import author_to_row, post_to_row, row_to_post, term_rows
from hubbub.store.sql import bulk_insert as _bulk_insert
from hubbub.store.sql import chunks as _chunks
from hubbub.store.sql import dialect_insert as _dialect_insert
from hubbub.store.sql import insert_ignore as _insert_ignore
from hubbub.store.storable import storable

# Columns that make a post "visibly" different when they change.
_VISIBLE = ("text", "metrics", "deleted", "withheld", "sensitive", "content_warning", "edited_at")
# Columns that feed post_terms.
_TERM_SOURCES = ("hashtags", "mentions", "langs", "author_handle", "deleted")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class RawPayload:
    """A payload exactly as received, with where and when it was fetched."""

    body: bytes
    source: str
    fetched_at: datetime
    format: str | None = None
    # (sha256 hex of the body, the body as stored: zlib level 1), computed
    # ahead by ``pack`` (the importer's parser process does it, off the
    # writer); the body itself is then dropped, so it is not sent twice.
    packed: tuple[str, bytes] | None = None

    def pack(self) -> None:
        if self.packed is None:
            self.packed = (hashlib.sha256(self.body).hexdigest(), zlib.compress(self.body, 1))
            self.body = b""

    def digest_and_stored(self) -> tuple[str, bytes]:
        if self.packed is not None:
            return self.packed
        return hashlib.sha256(self.body).hexdigest(), zlib.compress(self.body, 1)


@dataclass(slots=True)
class Ingest:
    item: Item
    raw: RawPayload | None = None
    # ``index_text(item.text)`` when the parser already computed it (the
    # importer's parser process does, off the writer); None: computed here.
    search_text: str | None = None


@dataclass(slots=True)
class IngestCounts:
    imported: int = 0
    duplicates: int = 0
    updated: int = 0
    deleted: int = 0
    skipped: int = 0

    def add(self, other: IngestCounts) -> None:
        self.imported += other.imported
        self.duplicates += other.duplicates
        self.updated += other.updated
        self.deleted += other.deleted
        self.skipped += other.skipped


@dataclass(slots=True)
class IngestResult:
    counts: IngestCounts = field(default_factory=IngestCounts)
    new: list[Post] = field(default_factory=list)  # posts new to the store, in arrival order
    updated: list[Post] = field(default_factory=list)
    deleted: list[tuple[str, str]] = field(default_factory=list)  # (network, post_id)


def _version_key(row: dict[str, Any]) -> tuple[int, datetime]:
    """Order of versions of one post: X by position in the edit chain, others
    by their edit time."""
    position = 0
    version_id, chain = row.get("version_id"), row.get("edit_ids") or []
    if version_id and version_id in chain:
        position = chain.index(version_id)
    return position, row.get("edited_at") or _EPOCH


def _version_label(row: dict[str, Any]) -> str:
    if row.get("version_id"):
        return str(row["version_id"])
    edited = row.get("edited_at")
    return edited.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if edited else "original"


def _max_metrics(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    merged = dict(a)
    for key, value in b.items():
        if value is None:
            continue
        if key not in merged or merged[key] is None or value > merged[key]:
            merged[key] = value
    return merged


def _tombstone(row: dict[str, Any], now: datetime) -> None:
    row.update(
        text="",
        search_text="",
        hashtags=[],
        mentions=[],
        links=[],
        deleted=True,
        deleted_at=now,
        updated_at=now,
    )


class _Batch:
    """The in-memory merge of one ingest call."""

    def __init__(self, conn: sa.Connection, workspace_id: int, now: datetime) -> None:
        self.conn = conn
        self.ws = workspace_id
        self.now = now
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}  # key → current row
        self.status: dict[tuple[str, str], str] = {}  # key → "new" | "changed" | "same"
        self.term_dirty: set[tuple[str, str]] = set()
        # Reposts indexed by their original in this batch: the facets they
        # are searched by (their own plus the original's hashtags, mentions,
        # languages), written to post_terms instead of the row's own.
        self.term_view: dict[tuple[str, str], dict[str, Any]] = {}
        self.versions: dict[tuple[tuple[str, str], str], dict[str, Any]] = {}
        self.aliases: dict[tuple[str, str], dict[str, Any]] = {}  # (network, alias) → row
        self.alias_dirty: set[tuple[str, str]] = set()
        self.post_raws: set[tuple[tuple[str, str], int]] = set()
        self.authors: dict[tuple[str, str], dict[str, Any]] = {}
        self.handles: dict[tuple[str, str], str] = {}  # (network, author id) → known handle
        self.renamed: dict[tuple[str, str], str] = {}  # identities learnt in this batch
        self.result = IngestResult()

    # -- loading ---------------------------------------------------------

    def load(self, items: Sequence[Ingest]) -> None:
        keys: set[tuple[str, str]] = set()
        alias_keys: set[tuple[str, str]] = set()
        star_aliases: set[tuple[str, str]] = set()
        for ingest in items:
            item = ingest.item
            if isinstance(item, Post):
                keys.add((item.network, item.id))
                for alias in item.aliases:
                    alias_keys.add((item.network, alias))
                    alias_keys.add((item.network, "*/" + alias.split("/", 1)[-1]))
            elif isinstance(item, Deletion):
                if item.id:
                    keys.add((item.network, item.id))
                elif item.alias:
                    if item.alias.startswith("*/"):
                        star_aliases.add((item.network, item.alias))
                    alias_keys.add((item.network, item.alias))
                    # A post stored without knowing its server has "*/ID".
                    alias_keys.add((item.network, "*/" + item.alias.split("/", 1)[-1]))
        self._load_known_handles(items)
        self._load_aliases(alias_keys, star_aliases)
        keys.update(
            (network, row["post_id"])
            for (network, _alias), row in self.aliases.items()
            if row["post_id"]
        )
        self._load_posts(keys)

    def _load_known_handles(self, items: Sequence[Ingest]) -> None:
        """Handles already learnt for authors this batch names only by id
        (Jetstream gives a DID; an identity event or an XRPC view gave the handle)."""
        unknown: dict[str, set[str]] = {}
        for ingest in items:
            item = ingest.item
            if isinstance(item, Post) and item.author.handle == item.author.id and item.author.id:
                unknown.setdefault(item.network, set()).add(item.author.id)
        a = t.authors
        for network, ids in unknown.items():
            for chunk in _chunks(sorted(ids), 500):
                query = sa.select(a.c.author_id, a.c.handle).where(
                    a.c.workspace_id == self.ws,
                    a.c.network == network,
                    a.c.author_id.in_(chunk),
                    a.c.handle != a.c.author_id,
                )
                for row in self.conn.execute(query):
                    self.handles[(network, row.author_id)] = row.handle

    def _load_aliases(self, alias_keys: set[tuple[str, str]], stars: set[tuple[str, str]]) -> None:
        by_network: dict[str, list[str]] = {}
        for network, alias in alias_keys:
            by_network.setdefault(network, []).append(alias)
        a = t.post_aliases
        for network, names in by_network.items():
            for chunk in _chunks(sorted(names), 500):
                query = sa.select(a).where(
                    a.c.workspace_id == self.ws, a.c.network == network, a.c.alias.in_(chunk)
                )
                for row in self.conn.execute(query).mappings():
                    self.aliases[(network, row["alias"])] = dict(row)
        for network, star in stars:
            # "*/ID": the server is unknown; find the alias on any server.
            local = star.split("/", 1)[1]
            pattern = "%/" + local.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = sa.select(a).where(
                a.c.workspace_id == self.ws,
                a.c.network == network,
                a.c.alias.like(pattern, escape="\\"),
                a.c.post_id.is_not(None),
            )
            for row in self.conn.execute(query).mappings():
                self.aliases[(network, row["alias"])] = dict(row)

    def _load_posts(self, keys: set[tuple[str, str]], only_pk: bool = False) -> None:
        """Load stored rows for ``keys``; with ``only_pk``, just fill in the
        primary keys of rows this batch has inserted."""
        by_network: dict[str, list[str]] = {}
        for network, post_id in keys:
            by_network.setdefault(network, []).append(post_id)
        p = t.posts
        columns = (p.c.pk, p.c.post_id) if only_pk else tuple(p.columns)
        for network, ids in sorted(by_network.items()):
            for chunk in _chunks(sorted(ids), 500):
                query = sa.select(*columns).where(
                    p.c.workspace_id == self.ws, p.c.network == network, p.c.post_id.in_(chunk)
                )
                if not only_pk:
                    # PostgreSQL: lock the rows this batch may rewrite, so a
                    # concurrent batch waits and merges with our result instead
                    # of overwriting it (metrics only grow, tombstones stay).
                    # Always in the same (network, post_id) order: no lock cycles.
                    # SQLite holds its write lock already (BEGIN IMMEDIATE).
                    query = query.with_for_update()
                for row in self.conn.execute(query).mappings():
                    key = (network, row["post_id"])
                    if only_pk:
                        self.rows[key]["pk"] = row["pk"]
                    else:
                        self.rows[key] = dict(row)
                        self.status[key] = "same"

    # -- merging ---------------------------------------------------------

    def add(self, ingest: Ingest, raw_id: int | None) -> None:
        item = ingest.item
        if isinstance(item, Skipped):
            self.result.counts.skipped += 1
        elif isinstance(item, Deletion):
            self._delete(item)
        elif isinstance(item, Author):
            # An identity record is not a post (counted as skipped), but the
            # handle it names is kept for this author's posts, past and future.
            self.result.counts.skipped += 1
            self._author(item)
            if item.handle and item.handle != item.id:
                key = (item.network, item.id)
                self.handles[key] = item.handle
                self.renamed[key] = item.handle
        else:
            known = self.handles.get((item.network, item.author.id))
            if known and item.author.handle == item.author.id:
                item.author.handle = known
            fetched_at = ingest.raw.fetched_at if ingest.raw else None
            self._upsert(item, fetched_at, ingest.search_text)
            self._author(item.author)
            if raw_id is not None:
                self.post_raws.add(((item.network, item.id), raw_id))

    def _alias_tombstoned(self, post: Post) -> bool:
        for alias in post.aliases:
            for name in (alias, "*/" + alias.split("/", 1)[-1]):
                row = self.aliases.get((post.network, name))
                if row is not None and row["tombstone"]:
                    return True
        return False

    def _record_aliases(self, post: Post) -> None:
        for alias in post.aliases:
            key = (post.network, alias)
            row = self.aliases.get(key)
            if row is None:
                self.aliases[key] = {"alias": alias, "post_id": post.id, "tombstone": False}
                self.alias_dirty.add(key)
            elif row["post_id"] != post.id:
                row["post_id"] = post.id
                self.alias_dirty.add(key)

    def _upsert(self, post: Post, fetched_at: datetime | None, search_text: str | None) -> None:
        key = (post.network, post.id)
        incoming = post_to_row(post, self.now, fetched_at, search_text)
        current = self.rows.get(key)
        self._record_aliases(post)
        if current is None:
            if self._alias_tombstoned(post):
                _tombstone(incoming, self.now)
                self.result.counts.duplicates += 1  # its deletion was counted already
            else:
                self.result.counts.imported += 1
                self.result.new.append(post)
            self.rows[key] = incoming
            self.status[key] = "new"
            self.term_dirty.add(key)
            return
        if current["deleted"]:
            self.result.counts.duplicates += 1  # a tombstone is never undone
            return
        before = {name: current[name] for name in _VISIBLE + _TERM_SOURCES}
        self._merge(key, current, incoming)
        after = {name: current[name] for name in _VISIBLE + _TERM_SOURCES}
        if before == after and not (current.get("_upgraded")):
            self.result.counts.duplicates += 1
            return
        current.pop("_upgraded", None)
        if any(before[name] != after[name] for name in _TERM_SOURCES):
            self.term_dirty.add(key)
        if self.status[key] == "same":
            self.status[key] = "changed"
        if any(before[name] != after[name] for name in _VISIBLE):
            self.result.counts.updated += 1
            self.result.updated.append(row_to_post(current))
        else:
            self.result.counts.duplicates += 1

    def _merge(
        self, key: tuple[str, str], current: dict[str, Any], incoming: dict[str, Any]
    ) -> None:
        cur_version, inc_version = _version_key(current), _version_key(incoming)
        if inc_version > cur_version:
            self._keep_version(key, current)
            for name in (
                "text", "search_text", "hashtags", "mentions", "links", "langs", "media_count",
                "sensitive", "content_warning", "version_id", "edit_ids", "edited_at", "url",
            ):  # fmt: skip
                current[name] = incoming[name]
        elif inc_version < cur_version:
            self._keep_version(key, incoming)
            if len(incoming["edit_ids"]) > len(current["edit_ids"]):
                current["edit_ids"] = incoming["edit_ids"]
        elif current["embedded"] and not incoming["embedded"]:
            # A full payload of a post we only knew embedded: take its fields.
            for name in (
                "text", "search_text", "hashtags", "mentions", "links", "langs", "media_count",
                "sensitive", "content_warning", "url", "place", "source", "reply_to",
                "quote_of", "repost_of", "conversation_id", "author_handle", "author_name",
            ):  # fmt: skip
                if incoming[name] not in (None, "", [], 0) or name in ("text", "search_text"):
                    current[name] = incoming[name]
            current["embedded"] = False
            current["_upgraded"] = True
        metrics = _max_metrics(current["metrics"] or {}, incoming["metrics"] or {})
        if metrics != current["metrics"]:
            current["metrics"] = metrics
        if incoming["withheld"] and incoming["withheld"] != current["withheld"]:
            current["withheld"] = incoming["withheld"]
        for name in ("place", "seen_at", "matching_rules"):
            if current[name] in (None, []) and incoming[name] not in (None, []):
                current[name] = incoming[name]
        current["updated_at"] = self.now

    def _keep_version(self, key: tuple[str, str], row: dict[str, Any]) -> None:
        label = _version_label(row)
        self.versions.setdefault(
            (key, label),
            {
                "version_id": label,
                "version_rank": _version_key(row)[0],
                "text": row["text"],
                "stored_at": self.now,
            },
        )

    def _delete(self, deletion: Deletion) -> None:
        keys: list[tuple[str, str]] = []
        if deletion.id:
            keys.append((deletion.network, deletion.id))
        elif deletion.alias:
            if deletion.alias.startswith("*/"):
                suffix = "/" + deletion.alias[2:]
                found = {
                    row["post_id"]
                    for (network, alias), row in self.aliases.items()
                    if network == deletion.network and alias.endswith(suffix) and row["post_id"]
                }
                # A local id on several servers names different posts: only
                # act when it is unambiguous.
                keys.extend((deletion.network, post_id) for post_id in found if len(found) == 1)
            else:
                row = self.aliases.get((deletion.network, deletion.alias))
                if row is None or not row["post_id"]:
                    # The post may have been stored before its server was known.
                    star = "*/" + deletion.alias.split("/", 1)[-1]
                    row = self.aliases.get((deletion.network, star))
                if row is not None and row["post_id"]:
                    keys.append((deletion.network, row["post_id"]))
            if not keys:
                key = (deletion.network, deletion.alias)
                row = self.aliases.get(key)
                if row is not None and row["tombstone"]:
                    self.result.counts.duplicates += 1
                    return
                self.aliases[key] = {"alias": deletion.alias, "post_id": None, "tombstone": True}
                self.alias_dirty.add(key)
                self.result.counts.deleted += 1
                return
        for key in keys:
            current = self.rows.get(key)
            if current is None:
                row = post_to_row(_placeholder(deletion, key[1], self.now), self.now, None)
                _tombstone(row, self.now)
                self.rows[key] = row
                self.status[key] = "new"
                self.result.counts.deleted += 1
            elif current["deleted"]:
                self.result.counts.duplicates += 1
            else:
                _tombstone(current, self.now)
                if self.status[key] == "same":
                    self.status[key] = "changed"
                self.term_dirty.add(key)
                self.result.counts.deleted += 1
                self.result.deleted.append(key)
            for alias_key, alias_row in self.aliases.items():
                same_post = alias_key[0] == key[0] and alias_row["post_id"] == key[1]
                if same_post and not alias_row["tombstone"]:
                    alias_row["tombstone"] = True
                    self.alias_dirty.add(alias_key)

    def _author(self, author: Author) -> None:
        key = (author.network, author.id)
        row = author_to_row(author, self.now)
        existing = self.authors.get(key)
        if existing is None:
            self.authors[key] = row
        else:  # later, non-empty values win; a bare id never replaces a handle
            for name, value in row.items():
                if value is None or (name == "handle" and value == author.id):
                    continue
                existing[name] = value

    # -- writing ---------------------------------------------------------

    def _index_reposts(self) -> set[tuple[str, str]]:
        """Index the batch's new and changed reposts by their originals before
        they are written, when the original is in the batch or stored; returns
        their keys. (Rewriting them after the INSERT cost a second full-text
        update and facet rewrite per repost: a fifth of an X archive import.)"""
        pending = {
            key: row
            for key, row in self.rows.items()
            if self.status[key] != "same" and row["repost_of"] and not row["deleted"]
        }
        if not pending:
            return set()
        wanted = {(key[0], row["repost_of"]) for key, row in pending.items()}
        stored = load_originals(self.conn, self.ws, wanted - self.rows.keys())
        indexed: set[tuple[str, str]] = set()
        for key, row in pending.items():
            origin = (key[0], row["repost_of"])
            original = self.rows.get(origin) or stored.get(origin)
            if original is None:
                continue  # indexed when its original arrives
            view = indexed_as(row, original)
            row["search_text"] = view["search_text"]
            self.term_view[key] = {name: view[name] for name in ("hashtags", "mentions", "langs")}
            self.term_dirty.add(key)
            indexed.add(key)
        return indexed

    def write(self) -> None:
        conn, ws, p = self.conn, self.ws, t.posts
        indexed = self._index_reposts()
        new_keys = [key for key, status in self.status.items() if status == "new"]
        if new_keys:
            if conn.dialect.name == "sqlite":
                # This transaction holds SQLite's write lock (BEGIN IMMEDIATE),
                # so the keys after the largest are ours: given explicitly
                # they are the ones SQLite would pick (pk is the rowid, no
                # AUTOINCREMENT), and no SELECT has to read them back.
                top = conn.exec_driver_sql(f"SELECT max(pk) FROM {p.name}").scalar()
                for offset, key in enumerate(new_keys, start=int(top or 0) + 1):
                    self.rows[key]["pk"] = offset
                _bulk_insert(conn, p, [{**self.rows[key], "workspace_id": ws} for key in new_keys])
            else:
                params = [{**self.rows[key], "workspace_id": ws} for key in new_keys]
                # A plain executemany, then one SELECT for the new keys.
                _bulk_insert(conn, p, params)
                self._load_posts({key for key in new_keys}, only_pk=True)
        changed = [key for key, status in self.status.items() if status == "changed"]
        if changed:
            mutable = [
                c.name
                for c in p.columns
                if c.name not in ("pk", "workspace_id", "network", "post_id", "stored_at")
            ]
            stmt = (
                sa.update(p)
                .where(p.c.pk == sa.bindparam("_pk"))
                .values({name: sa.bindparam("_" + name) for name in mutable})
            )
            conn.execute(
                stmt,
                [
                    {"_pk": self.rows[key]["pk"], **{"_" + n: self.rows[key][n] for n in mutable}}
                    for key in changed
                ],
            )
        self._write_terms()
        self._write_versions()
        self._write_aliases()
        self._write_post_raws()
        self._write_authors()
        self._write_renames()
        # Reposts are searched by their original's text and facets (store/repost_index.py).
        written = [key for key, status in self.status.items() if status != "same"]
        reposts = {key for key in written if self.rows[key]["repost_of"]} - indexed
        index_reposts(conn, ws, written, indexed=indexed, reposts_among=reposts)

    def _write_renames(self) -> None:
        """Show a newly learnt handle on the author's stored posts."""
        p = t.posts
        for (network, author_id), handle in sorted(self.renamed.items()):
            where = (
                (p.c.workspace_id == self.ws)
                & (p.c.network == network)
                & (p.c.author_id == author_id)
                & (p.c.author_handle != handle)
                & p.c.deleted.is_(False)
            )
            rows = [dict(r) for r in self.conn.execute(sa.select(p).where(where)).mappings()]
            if not rows:
                continue
            self.conn.execute(sa.update(p).where(where).values(author_handle=handle))
            for row in rows:
                row["author_handle"] = handle
            self._rewrite_terms(rows, stale=[row["pk"] for row in rows])

    def _rewrite_terms(self, rows: list[dict[str, Any]], stale: list[int]) -> None:
        """Write the facet rows of ``rows``, first dropping those of ``stale`` posts."""
        for chunk in _chunks(stale, 500):
            self.conn.execute(sa.delete(t.post_terms).where(t.post_terms.c.post_pk.in_(chunk)))
        params = [
            {"post_pk": row["pk"], "kind": kind, "value": value}
            for row in rows
            for kind, value in term_rows(row)
        ]
        if params:
            _bulk_insert(self.conn, t.post_terms, params)

    def _write_terms(self) -> None:
        if not self.term_dirty:
            return
        stale = [self.rows[key]["pk"] for key in self.term_dirty if self.status[key] == "changed"]
        self._rewrite_terms(
            [{**self.rows[key], **self.term_view.get(key, {})} for key in self.term_dirty], stale
        )

    def _write_versions(self) -> None:
        params = []
        for (key, _label), version in self.versions.items():
            row = self.rows.get(key)
            if row is None or row["deleted"]:
                continue
            params.append({"post_pk": row["pk"], **version})
        if params:
            self.conn.execute(_insert_ignore(self.conn, t.post_versions), params)
        deleted_pks = [
            self.rows[key]["pk"]
            for key, status in self.status.items()
            if status == "changed" and self.rows[key]["deleted"]
        ]
        for chunk in _chunks(deleted_pks, 500):
            # Earlier texts of a deleted post go with it.
            self.conn.execute(
                sa.delete(t.post_versions).where(t.post_versions.c.post_pk.in_(chunk))
            )

    def _write_aliases(self) -> None:
        if not self.alias_dirty:
            return
        a = t.post_aliases
        params = [
            {
                "workspace_id": self.ws,
                "network": network,
                "alias": alias,
                "post_id": self.aliases[(network, alias)]["post_id"],
                "tombstone": self.aliases[(network, alias)]["tombstone"],
            }
            for network, alias in sorted(self.alias_dirty)
        ]
        stmt = _dialect_insert(self.conn, a)
        stmt = stmt.on_conflict_do_update(
            index_elements=[a.c.workspace_id, a.c.network, a.c.alias],
            set_={"post_id": stmt.excluded.post_id, "tombstone": stmt.excluded.tombstone},
        )
        self.conn.execute(stmt, params)

    def _write_post_raws(self) -> None:
        params = [
            {"post_pk": self.rows[key]["pk"], "raw_id": raw_id}
            for key, raw_id in sorted(self.post_raws)
            if key in self.rows
        ]
        _bulk_insert(self.conn, t.post_raws, params, on_conflict_do_nothing=True)

    def _write_authors(self) -> None:
        if not self.authors:
            return
        a = t.authors
        stmt = _dialect_insert(self.conn, a)
        set_: dict[str, Any] = {
            c.name: sa.func.coalesce(getattr(stmt.excluded, c.name), c)
            for c in a.columns
            if c.name not in ("workspace_id", "network", "author_id", "handle", "updated_at")
        }
        set_["updated_at"] = stmt.excluded.updated_at
        # A post that names its author only by id (a Bluesky DID) must not
        # overwrite a handle we already know.
        set_["handle"] = sa.case(
            (stmt.excluded.handle == stmt.excluded.author_id, a.c.handle),
            else_=stmt.excluded.handle,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[a.c.workspace_id, a.c.network, a.c.author_id], set_=set_
        )
        params = [{**row, "workspace_id": self.ws} for _key, row in sorted(self.authors.items())]
        self.conn.execute(stmt, params)


def _placeholder(deletion: Deletion, post_id: str, now: datetime) -> Post:
    """The row a deletion of a never-seen post leaves behind."""
    nobody = Author(network=deletion.network, id="", handle="")
    return Post(
        network=deletion.network,
        id=post_id,
        author=nobody,
        text="",
        created_at=deletion.at or now,
        deleted=True,
    )


def store_raw_payloads(
    conn: sa.Connection, workspace_id: int, raws: Iterable[RawPayload]
) -> dict[int, int]:
    """Store each distinct payload once per workspace; map ``id(raw)`` → row id."""
    by_hash: dict[str, list[RawPayload]] = {}
    stored_body: dict[str, bytes] = {}
    hashed: set[int] = set()
    for raw in raws:
        if id(raw) in hashed:
            continue  # one payload (a page) is shared by all the posts in it
        hashed.add(id(raw))
        if raw.packed is not None:
            digest, body = raw.packed
            stored_body.setdefault(digest, body)
        else:
            digest = hashlib.sha256(raw.body).hexdigest()
        by_hash.setdefault(digest, []).append(raw)
    if not by_hash:
        return {}
    r = t.raw_payloads
    ids: dict[str, int] = {}
    hashes = sorted(by_hash)
    for chunk in _chunks(hashes, 500):
        query = sa.select(r.c.id, r.c.sha256).where(
            r.c.workspace_id == workspace_id, r.c.sha256.in_(chunk)
        )
        ids.update({row.sha256: row.id for row in conn.execute(query)})
    missing = [digest for digest in hashes if digest not in ids]
    if missing:
        params = [
            {
                "workspace_id": workspace_id,
                "sha256": digest,
                "source": by_hash[digest][0].source,
                "format": by_hash[digest][0].format,
                "fetched_at": by_hash[digest][0].fetched_at,
                "body": stored_body.get(digest) or by_hash[digest][0].digest_and_stored()[1],
            }
            for digest in missing
        ]
        # Another process may store the same payload at the same moment.
        conn.execute(_insert_ignore(conn, r), params)
        for chunk in _chunks(missing, 500):
            query = sa.select(r.c.id, r.c.sha256).where(
                r.c.workspace_id == workspace_id, r.c.sha256.in_(chunk)
            )
            ids.update({row.sha256: row.id for row in conn.execute(query)})
    return {id(raw): ids[digest] for digest, group in by_hash.items() for raw in group}


def ingest_batch(
    conn: sa.Connection, workspace_id: int, items: Sequence[Ingest], now: datetime | None = None
) -> IngestResult:
    """Merge and write one batch inside the caller's transaction."""
    batch = _Batch(conn, workspace_id, now or datetime.now(UTC))
    # No NUL reaches a row, whichever source the item came from (PostgreSQL
    # refuses it and would fail the whole batch): see hubbub.store.storable.
    items = [i if (clean := storable(i.item)) is i.item else Ingest(clean, i.raw) for i in items]
    raw_ids = store_raw_payloads(conn, workspace_id, (i.raw for i in items if i.raw is not None))
    batch.load(items)
    for ingest in items:
        batch.add(ingest, raw_ids.get(id(ingest.raw)) if ingest.raw is not None else None)
    batch.write()
    return batch.result
