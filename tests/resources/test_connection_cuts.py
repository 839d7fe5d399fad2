"""A database connection cut under a request (a restart, a failover, pg_terminate_backend): a submission cut
before its commit is retried on a fresh connection and stored once; any other request gets a JSON 503 to
retry, never a 500. On PostgreSQL the cut is real: the request's own backend is terminated."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from feedback_app.extensions import db
from feedback_app.models import FeedbackItem, IdempotencyRecord, OutboxMessage
from tests.factories import ROAD_REPORT


def _cut_this_connection(app) -> None:
    """Cut the connection the request's session is using, the way the database or the network would."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        killer = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        with killer.begin() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killer.dispose()
    else:  # SQLite has no server to lose: the driver's error, as SQLAlchemy reports a dead connection
        error = OperationalError("INSERT ...", {}, Exception("server closed the connection unexpectedly"))
        error.connection_invalidated = True
        raise error


def _cut_intake_inserts(app, monkeypatch, times: int) -> list:
    """Cut the connection just before intake writes its rows, the first `times` times."""
    import feedback_app.services.bulk as bulk

    real, cuts = bulk.insert_pending, []

    def cut_then_insert(**kwargs):
        if len(cuts) < times:
            cuts.append(1)
            _cut_this_connection(app)
        return real(**kwargs)

    monkeypatch.setattr(bulk, "insert_pending", cut_then_insert)
    return cuts


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_submission_cut_before_its_commit_is_retried_and_stored_once(client, app, monkeypatch):
    cuts = _cut_intake_inserts(app, monkeypatch, times=1)
    response = client.post("/api/v1/feedback", json=ROAD_REPORT)
    assert response.status_code == 201, response.get_json()
    assert cuts == [1]
    assert _count(app, FeedbackItem) == 1 and _count(app, OutboxMessage) == 1
    # The pool works on: the next request is served normally.
    assert client.post("/api/v1/feedback", json=ROAD_REPORT).status_code == 201


def test_a_submission_cut_twice_is_a_503_and_leaves_nothing(client, app, monkeypatch):
    cuts = _cut_intake_inserts(app, monkeypatch, times=2)
    response = client.post("/api/v1/feedback", json=ROAD_REPORT)
    assert response.status_code == 503 and response.get_json()["code"] == 503
    assert cuts == [1, 1]
    assert _count(app, FeedbackItem) == 0 and _count(app, OutboxMessage) == 0


def _inside_the_tracking_read(app, monkeypatch, action) -> None:
    """Run `action` inside the tracking view, before its last statement. On PostgreSQL the view is one
    statement, run after the code is normalised; on SQLite the timeline is read after the item."""
    import feedback_app.services.public_view as public_view

    postgresql = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    name = "normalise_tracking_code" if postgresql else "public_timeline"
    real = getattr(public_view, name)

    def wrapped(*args, **kwargs):
        action()
        return real(*args, **kwargs)

    monkeypatch.setattr(public_view, name, wrapped)


def test_a_read_cut_mid_way_is_a_json_503_with_retry_after(client, app, monkeypatch):
    code = client.post("/api/v1/feedback", json=ROAD_REPORT).get_json()["tracking_code"]
    _inside_the_tracking_read(app, monkeypatch, lambda: _cut_this_connection(app))
    response = client.get(f"/api/v1/feedback/{code}")
    assert response.status_code == 503
    body = response.get_json()
    assert set(body) == {"code", "status", "message", "errors"} and body["code"] == 503
    assert int(response.headers["Retry-After"]) > 0
    monkeypatch.undo()
    assert client.get(f"/api/v1/feedback/{code}").status_code == 200


def _postgresql_engine(app):
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("the self-committing statement is PostgreSQL's")
    return engine


def test_a_cut_during_a_self_committing_insert_is_a_503_and_not_run_again(client, app):
    """With no Idempotency-Key, intake's one statement commits itself on PostgreSQL (bulk.insert_pending):
    a cut during it may have landed, like a cut during a COMMIT, so the view is not run a second time."""
    engine = _postgresql_engine(app)
    seen = []

    def cut_self_committing(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("WITH", "INSERT")) and conn.connection.dbapi_connection.autocommit:
            seen.append(statement)
            pid = conn.connection.dbapi_connection.info.backend_pid
            killer = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
            with killer.begin() as other:
                other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            killer.dispose()

    # The first request of a process reads the directory and calendar into their caches inside its
    # transaction, so it is not the statement's only business; the ones after it are.
    assert client.post("/api/v1/feedback", json=ROAD_REPORT).status_code == 201
    sa.event.listen(engine, "before_cursor_execute", cut_self_committing)
    try:
        response = client.post("/api/v1/feedback", json=ROAD_REPORT)
    finally:
        sa.event.remove(engine, "before_cursor_execute", cut_self_committing)
    assert len(seen) == 1, "the keyless submission did not take the self-committing path, or ran twice"
    assert response.status_code == 503 and response.get_json()["code"] == 503
    assert _count(app, FeedbackItem) == 1  # the cut came before the statement reached the server
    assert client.post("/api/v1/feedback", json=ROAD_REPORT).status_code == 201


def test_a_keyed_submission_is_one_self_committing_statement_with_its_key_record(client, app):
    """With an Idempotency-Key too, the submission is one statement that commits itself: the key's record,
    its stored answer and the item's rows together (no separate claim, no second transaction for the answer).
    A replay of the key writes nothing: its statement finds the key taken, and the stored answer is sent."""
    engine = _postgresql_engine(app)
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, conn.connection.dbapi_connection.autocommit))

    assert client.post("/api/v1/feedback", json=ROAD_REPORT).status_code == 201  # fills the caches
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.post("/api/v1/feedback", json=ROAD_REPORT).status_code == 201
        keyless = list(statements)
        first = client.post("/api/v1/feedback", json=ROAD_REPORT, headers={"Idempotency-Key": "k-1"})
        keyed = statements[len(keyless):]
        again = client.post("/api/v1/feedback", json=ROAD_REPORT, headers={"Idempotency-Key": "k-1"})
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert [mode for sql, mode in keyless if "json_populate_recordset" in sql] == [True]
    assert len(keyed) == 1, [sql[:80] for sql, _ in keyed]
    sql, mode = keyed[0]
    assert mode is True and "idempotency_records" in sql and "feedback_items" in sql
    assert first.status_code == again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(app, FeedbackItem) == 3 and _count(app, OutboxMessage) == 3  # item.routed each (item.received: no recipient)
    with app.app_context():
        stored = db.session.scalars(sa.select(IdempotencyRecord)).one()
        assert stored.state == "done" and stored.response_status == 201
        assert json.loads(stored.response_body) == first.get_json()


def test_a_rollback_that_fails_on_a_lost_connection_still_answers_503(client, app, monkeypatch):
    """The driver may lose the connection so that even ROLLBACK fails ("connection socket closed", then
    "another command is already in progress"): the answer is still the JSON 503, and the next request is served."""
    from sqlalchemy.orm import Session

    code = client.post("/api/v1/feedback", json=ROAD_REPORT).get_json()["tracking_code"]

    def lost():
        raise OperationalError("SELECT ...", {}, Exception("connection socket closed"))

    real_rollback, failed = Session.rollback, []

    def rollback_fails(self):
        if not failed:
            failed.append(1)
            raise OperationalError("ROLLBACK", {}, Exception("another command is already in progress"))
        return real_rollback(self)

    _inside_the_tracking_read(app, monkeypatch, lost)
    monkeypatch.setattr(Session, "rollback", rollback_fails)
    response = client.get(f"/api/v1/feedback/{code}")
    assert failed == [1]
    assert response.status_code == 503
    assert set(response.get_json()) == {"code", "status", "message", "errors"}
    monkeypatch.undo()
    assert client.get(f"/api/v1/feedback/{code}").status_code == 200
