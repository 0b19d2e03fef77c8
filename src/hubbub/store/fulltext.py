"""Full-text indexing of ``posts.search_text`` on each backend.

SQLite: an FTS5 table with external content (no second copy of the text),
kept in step by triggers, tokenizer ``unicode61 remove_diacritics 2``.
PostgreSQL: a stored generated ``tsvector`` column with the ``simple``
configuration over ``unaccent`` (wrapped as IMMUTABLE so it may be used in a
generated column), with a GIN index.

Both engines index ``search_text``, which Hubbub has already tokenised and
normalised, so they split and match words identically.
"""

from __future__ import annotations

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE posts_fts USING fts5("
    "search_text, content='posts', content_rowid='pk', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER posts_fts_ai AFTER INSERT ON posts BEGIN "
    "INSERT INTO posts_fts(rowid, search_text) VALUES (new.pk, new.search_text); END",
    "CREATE TRIGGER posts_fts_ad AFTER DELETE ON posts BEGIN "
    "INSERT INTO posts_fts(posts_fts, rowid, search_text) "
    "VALUES ('delete', old.pk, old.search_text); END",
    "CREATE TRIGGER posts_fts_au AFTER UPDATE OF search_text ON posts BEGIN "
    "INSERT INTO posts_fts(posts_fts, rowid, search_text) "
    "VALUES ('delete', old.pk, old.search_text); "
    "INSERT INTO posts_fts(rowid, search_text) VALUES (new.pk, new.search_text); END",
)

SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS posts_fts_au",
    "DROP TRIGGER IF EXISTS posts_fts_ad",
    "DROP TRIGGER IF EXISTS posts_fts_ai",
    "DROP TABLE IF EXISTS posts_fts",
)

POSTGRES_CREATE = (
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE OR REPLACE FUNCTION hubbub_unaccent(text) RETURNS text "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT "
    "AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$",
    "ALTER TABLE posts ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, hubbub_unaccent(search_text))) STORED",
    "CREATE INDEX ix_posts_search_vector ON posts USING gin (search_vector)",
)

POSTGRES_DROP = (
    "DROP INDEX IF EXISTS ix_posts_search_vector",
    "ALTER TABLE posts DROP COLUMN IF EXISTS search_vector",
    "DROP FUNCTION IF EXISTS hubbub_unaccent(text)",
)


def create_statements(dialect: str) -> tuple[str, ...]:
    return {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}[dialect]


def drop_statements(dialect: str) -> tuple[str, ...]:
    return {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}[dialect]
