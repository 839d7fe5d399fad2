"""Insert a transaction's brand-new rows with one Core INSERT per table instead of a unit-of-work flush.

Intake creates only new rows (item, contact, events, attachments, outbox) and nothing else; the ORM's
flush costs about 3 ms of CPU for them, a bulk INSERT per table about 1 ms. The domain code is the same:
it builds ORM objects; this only changes how they reach the database.
"""
from __future__ import annotations

import functools
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal

import orjson
from sqlalchemy.orm import object_mapper

from feedback_app.extensions import db
from feedback_app.models import Attachment, FeedbackItem, IdempotencyRecord, ItemContact, ItemEvent, OutboxMessage

# Parents before children: SQLite checks the foreign keys row by row.
INSERT_ORDER = (FeedbackItem, ItemContact, ItemEvent, Attachment, OutboxMessage)


def _row(obj) -> dict:
    mapper = object_mapper(obj)
    state = obj.__dict__
    row = {key: state[key] for key in _column_keys(mapper) if key in state}
    # A child that knows its parent only through the relationship: copy the parent's key.
    parent = state.get("item")
    if parent is not None and row.get("item_id") is None:
        row["item_id"] = parent.id
    # Python-side column defaults, filled here: SQLAlchemy applies none inside a CTE, and rows that share
    # one key set share one statement.
    for column, default in _python_defaults(mapper.local_table):
        if column.key not in row:
            row[column.key] = default.arg if default.is_scalar else default.arg(None)
    return row


@functools.cache
def _column_keys(mapper) -> tuple[str, ...]:
    return tuple(prop.key for prop in mapper.column_attrs)


@functools.cache
def _python_defaults(table) -> tuple:
    return tuple((c, c.default) for c in table.columns
                 if c.default is not None and (c.default.is_scalar or c.default.is_callable))


# Set by the view's transaction wrapper (`resources.common.transactional`) when nothing outside the view
# needs to share its transaction (no Idempotency-Key record to write with the answer).
SOLE_TRANSACTION = "bulk.sole_transaction"
# Set while a statement that commits itself runs: a connection cut then may have committed, so the
# wrapper must not run the view again.
SELF_COMMITTING = "bulk.self_committing"
# Set by the wrapper when the request's Idempotency-Key record is to be written by the same statement as the
# view's rows (`insert_with_claim`): `insert_pending(last_write=True)` then keeps the rows aside (under
# DEFERRED) until the view's answer, which the record stores, is known.
CLAIM_IN_STATEMENT = "bulk.claim_in_statement"
DEFERRED = "bulk.deferred"


_collected: ContextVar[list | None] = ContextVar("bulk_collected", default=None)


def add(obj) -> None:
    """`db.session.add`, except while intake builds a new item (`collecting`): then the row is kept aside for
    `insert_pending`, and never enters the session (no unit-of-work bookkeeping for rows that are only
    inserted)."""
    rows = _collected.get()
    if rows is None:
        db.session.add(obj)
    else:
        rows.append(obj)


def is_collecting() -> bool:
    return _collected.get() is not None


def new_row(model, **values):
    """A new, transient instance of `model` with `values`, as `model(**values)` would make it but without an
    attribute event per value: for rows built only to be inserted by `insert_pending` (an item's twenty-odd
    columns cost more through the instrumented constructor than the rest of its handling)."""
    obj = model.__mapper__.class_manager.new_instance()
    obj.__dict__.update(values)
    return obj


def add_new(model, **values):
    """A new row of `model`, added: while `collecting`, built by `new_row` and kept aside for `insert_pending`;
    otherwise `model(**values)` added to the session."""
    obj = new_row(model, **values) if is_collecting() else model(**values)
    add(obj)
    return obj


@contextmanager
def collecting():
    token = _collected.set([])
    try:
        yield
    finally:
        _collected.reset(token)


def insert_pending(*, last_write: bool = False) -> None:
    """Bulk-insert the rows kept aside by `add` while `collecting` (intake), or else every pending new object
    of the session, which are then detached (they stay usable as values).

    `last_write=True` is the caller's promise that nothing more is written in this transaction. If nothing
    was written before either, and the wrapper allows it, the one PostgreSQL statement commits itself
    (autocommit): one round trip instead of BEGIN, INSERT and COMMIT, and still all or nothing, since a
    statement is atomic. The session's later commit then has nothing to do.
    """
    session = db.session
    collected = _collected.get()
    if collected is not None:  # rows kept aside by `add`: they never were in the session
        pending = list(collected)
        collected.clear()
        if any(obj in session for obj in pending):
            raise RuntimeError("a collected row was also added to the session")
        if last_write and session.info.get(CLAIM_IN_STATEMENT):
            session.info[DEFERRED] = _by_model(pending)
            return
        _insert_rows(session, _by_model(pending), last_write=last_write)
        return
    if any(isinstance(obj, INSERT_ORDER) for obj in session.dirty):
        raise RuntimeError("insert_pending is for brand-new rows; an intake row was already flushed")
    pending = list(session.new)
    by_model = _by_model(pending)
    for obj in pending:
        if obj in session:  # expunging the item takes its children (cascade) with it
            session.expunge(obj)
    assert not session.new, "rows left pending after the bulk insert"
    with session.no_autoflush:
        _insert_rows(session, by_model, last_write=last_write)


def _by_model(pending: list) -> dict[type, list]:
    by_model: dict[type, list] = {}
    for obj in pending:
        by_model.setdefault(type(obj), []).append(obj)
    unknown = set(by_model) - set(INSERT_ORDER)
    if unknown:
        raise RuntimeError(f"insert_pending only knows intake rows, not {sorted(m.__name__ for m in unknown)}")
    return by_model


def _groups(by_model: dict) -> list[tuple]:
    """(table, keys, rows) for each INSERT to run, parents first."""
    groups: list[tuple] = []
    for model in INSERT_ORDER:
        objects = by_model.get(model)
        if not objects:
            continue
        # One INSERT per distinct key set (rows of a table usually share one).
        by_keys: dict[tuple, list[dict]] = {}
        for row in (_row(obj) for obj in objects):
            by_keys.setdefault(tuple(sorted(row)), []).append(row)
        groups.extend((model.__table__, keys, rows) for keys, rows in by_keys.items())
    return groups


def _insert_rows(session, by_model: dict, *, last_write: bool = False, claim: dict | None = None):
    """Insert the rows; with `claim` (PostgreSQL only), return whether the key's record went in with them."""
    groups = _groups(by_model)
    if not groups:
        return None
    sole = last_write and session.info.get(SOLE_TRANSACTION)
    if sole and not session().in_transaction() and db.engine.dialect.name == "postgresql":
        # Nothing has used the session in this request: the statement takes a pooled connection of its own,
        # commits itself there, and the session never opens a transaction.
        with db.engine.connect() as connection:
            return _postgresql_insert(session, connection, groups, self_commit=True, claim=claim)
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        for table, _keys, rows in groups:  # parents first; an executemany each
            connection.execute(table.insert(), rows)
        return None
    from psycopg.pq import TransactionStatus

    # The session's connection: the statement may commit itself only if nothing was sent since the last commit.
    idle = connection.connection.dbapi_connection.info.transaction_status == TransactionStatus.IDLE
    return _postgresql_insert(session, connection, groups, self_commit=bool(sole and idle), claim=claim)


def _postgresql_insert(session, connection, groups: list[tuple], *, self_commit: bool, claim: dict | None = None):
    """One statement, one round trip, one parameter per table. The parents' INSERTs ride as data-modifying CTEs
    of the last one (the foreign keys are checked at the end of the statement, when every row is there), and
    each table's rows travel as one JSON array read by json_populate_recordset: short SQL that psycopg and
    PostgreSQL cache, whatever the number of rows. With `self_commit` the statement runs in autocommit: its
    own transaction, all or nothing.

    With `claim` (an Idempotency-Key record) the statement first inserts the record, unless the key is already
    there, and inserts the rest only if it did: it returns whether the key was claimed (the rows written)."""
    shape = (tuple((table.name, keys) for table, keys, _rows in groups), tuple(sorted(claim)) if claim else None)
    sql = _POSTGRESQL_STATEMENTS.get(shape)
    if sql is None:
        sql = _POSTGRESQL_STATEMENTS[shape] = _build_postgresql(connection.dialect, groups, claim)
    params = {f"g{g}": _json_rows(rows) for g, (_table, _keys, rows) in enumerate(groups)}
    if claim:
        params["claim"] = _json_rows([claim])
    if not self_commit:
        result = connection.exec_driver_sql(sql, params)
    else:
        session.info[SELF_COMMITTING] = True
        with autocommit(connection):
            result = connection.exec_driver_sql(sql, params)
    return bool(result.scalar()) if claim else None


def _json_rows(rows: list[dict]) -> str:
    return orjson.dumps(rows, default=_json_value, option=orjson.OPT_PASSTHROUGH_DATETIME).decode()


_CLAIM_UNIQUE = ("client_scope", "key")


def insert_with_claim(record: dict) -> bool:
    """Write the Idempotency-Key `record` (its answer filled in) together with the rows `insert_pending` kept
    aside, all or nothing; False, with nothing written, when the key is already taken (the caller then looks
    at the record that holds it). On PostgreSQL with intake's rows this is one statement, which commits
    itself when nothing else was written in the request: the claim, the work and the stored answer in one
    round trip, instead of a committed claim, the work, and the answer in a second transaction.

    Two requests with one key: the second's INSERT waits on the unique index until the first commits, then
    inserts nothing."""
    session = db.session
    by_model = session.info.pop(DEFERRED, None)
    table = IdempotencyRecord.__table__
    if by_model and db.engine.dialect.name == "postgresql":
        return _insert_rows(session, by_model, last_write=True, claim=record)
    # Elsewhere (SQLite, or a view that wrote through the session): the record joins the view's transaction.
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(record).on_conflict_do_nothing(index_elements=list(_CLAIM_UNIQUE))
    if session.connection().execute(statement.returning(table.c.id)).first() is None:
        return False
    if by_model:
        _insert_rows(session, by_model)
    return True


@contextmanager
def autocommit(connection):
    """The connection's statements commit themselves (PostgreSQL): one round trip, no BEGIN nor COMMIT."""
    dbapi = connection.connection.dbapi_connection
    dbapi.autocommit = True
    try:
        yield connection
    finally:
        if not dbapi.closed:
            dbapi.autocommit = False


def execute_self_committing(statement, parameters: dict | None = None) -> list | None:
    """One statement as its own transaction, on a pooled connection of its own in autocommit, its rows
    returned; None where that does not apply (not PostgreSQL, or the session has a transaction open: then
    the caller runs it in the session)."""
    if db.engine.dialect.name != "postgresql" or db.session().in_transaction():
        return None
    with db.engine.connect() as connection, autocommit(connection):
        return connection.execute(statement, parameters).all()


_POSTGRESQL_STATEMENTS: dict[tuple, str] = {}


def _build_postgresql(dialect, groups: list[tuple], claim: dict | None = None) -> str:
    quote = dialect.identifier_preparer.quote

    def insert(table, keys, param: str, condition: str = "") -> str:
        columns = ", ".join(quote(table.c[key].name) for key in keys)
        return (f"INSERT INTO {quote(table.name)} ({columns}) SELECT {columns} "
                f"FROM json_populate_recordset(NULL::{quote(table.name)}, %({param})s::json){condition}")

    if claim:
        # The rows go in only if the key's record did: the record's RETURNING is empty on a conflict. Every
        # data-modifying CTE runs whether or not the final SELECT reads it.
        records = IdempotencyRecord.__table__
        unique = ", ".join(quote(c) for c in _CLAIM_UNIQUE)
        ctes = [("intake_claim", insert(records, sorted(claim), "claim")
                 + f" ON CONFLICT ({unique}) DO NOTHING RETURNING {quote(records.c.id.name)}")]
        ctes += [(f"intake_{g}", insert(table, keys, f"g{g}", " WHERE EXISTS (SELECT 1 FROM intake_claim)"))
                 for g, (table, keys, _rows) in enumerate(groups)]
        return "WITH " + ", ".join(f"{name} AS ({cte})" for name, cte in ctes) + " SELECT count(*) FROM intake_claim"
    parts = [insert(table, keys, f"g{g}") for g, (table, keys, _rows) in enumerate(groups)]
    *ctes, last = parts
    if not ctes:
        return last
    return "WITH " + ", ".join(f"intake_{i} AS ({cte})" for i, cte in enumerate(ctes)) + " " + last


def _json_value(value):
    """The PostgreSQL text form of what orjson does not write itself (datetimes come here to be checked)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: every instant is stored in UTC")
        return value.isoformat()
    if isinstance(value, (date, uuid.UUID, Decimal)):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} through the bulk insert")
