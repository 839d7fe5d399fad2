"""The migrations build exactly the schema the models declare (what `flask db check` checks), on the test
database of the run: SQLite by default, PostgreSQL in CI's second run."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from feedback_app.extensions import db


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], differences


def test_revision_ids_fit_alembic_version():
    """Alembic's version table holds 32 characters: a longer revision id passes on SQLite (which does not
    enforce a VARCHAR's length) and fails `flask db upgrade` on PostgreSQL."""
    import re
    from pathlib import Path

    versions = Path(__file__).resolve().parents[1] / "migrations" / "versions"
    ids = {path.name: re.search(r"^revision = [\"']([^\"']+)", path.read_text(), re.M).group(1)
           for path in versions.glob("*.py")}
    assert len(ids) >= 17
    assert {name: rid for name, rid in ids.items() if len(rid) > 32} == {}
