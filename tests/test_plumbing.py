"""The cheaper per-request plumbing keeps what clients and operators see: JSON, links, the cookie session, and a
dead pooled connection replaced before use when it sat idle."""
from __future__ import annotations

import dataclasses
import json
import os
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask.json.provider import DefaultJSONProvider

from feedback_app.plumbing import FastJSONProvider, ping_when_idle


@dataclasses.dataclass
class Point:
    lat: float
    lon: float


SAMPLE = {
    "b": 1, "a": "Đường Lý Thái Tổ ngập nước", "when": datetime(2026, 11, 22, 8, 30, tzinfo=timezone.utc),
    "day": date(2026, 11, 22), "amount": Decimal("1.50"), "id": uuid.UUID(int=7), "point": Point(21.18, 106.07),
    "nested": [{"z": None, "y": True}],
}


def test_fast_json_says_what_flask_said(app):
    fast, default = FastJSONProvider(app), DefaultJSONProvider(app)
    assert json.loads(fast.dumps(SAMPLE)) == json.loads(default.dumps(SAMPLE))
    # Keys are still sorted, as Flask sorts them.
    assert list(json.loads(fast.dumps({"b": 1, "a": 2}))) == ["a", "b"]


def test_fast_json_falls_back_for_what_orjson_refuses(app):
    fast = FastJSONProvider(app)
    assert json.loads(fast.dumps({"big": 2**80})) == {"big": 2**80}
    assert json.loads(fast.dumps({"s": "\ud800"})) == {"s": "\ud800"}


def test_the_app_answers_through_the_fast_provider(app, client):
    assert isinstance(app.json, FastJSONProvider)
    response = client.get("/api/v1/categories")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json()  # parses


def test_a_request_without_the_cookie_gets_an_empty_session(app):
    with app.test_request_context("/"):
        session = app.session_interface.open_session(app, __import__("flask").request)
        assert session is not None and dict(session) == {}


def test_a_signed_cookie_still_opens_its_session():
    from flask import Flask, session

    from feedback_app.plumbing import LazySessionInterface

    app = Flask(__name__)
    app.secret_key = "test"
    app.session_interface = LazySessionInterface()

    @app.get("/_plumbing_test_set")
    def _set():
        session["who"] = "officer-1"
        return "ok"

    @app.get("/_plumbing_test_get")
    def _get():
        return session.get("who", "nobody")

    client = app.test_client()
    assert client.get("/_plumbing_test_set").status_code == 200
    assert client.get("/_plumbing_test_get").get_data(as_text=True) == "officer-1"
    assert app.test_client().get("/_plumbing_test_get").get_data(as_text=True) == "nobody"


def _postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("a real server connection to cut: PostgreSQL only")
    return url


def _kill(url: str, pid: int) -> None:
    killer = sa.create_engine(url)
    with killer.begin() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()


@pytest.mark.parametrize("idle_seconds, survives", [(0.0, True), (3600.0, False)])
def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(idle_seconds, survives):
    """With the idle threshold passed, the dead connection is pinged and replaced before use; within it, it is
    not pinged, and its first use fails (the case `transactional` and the 503 handler cover)."""
    url = _postgres_url()
    engine = sa.create_engine(url, pool_size=1, max_overflow=0, pool_pre_ping=False)
    ping_when_idle(engine, idle_seconds)
    try:
        with engine.connect() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        _kill(url, pid)
        if survives:
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
        else:
            with pytest.raises(sa.exc.OperationalError) as caught:
                with engine.connect() as conn:
                    conn.exec_driver_sql("SELECT 1")
            assert caught.value.connection_invalidated
            with engine.connect() as conn:  # the pool has moved on
                assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()


TRICKY = ["1:webhook:https://ubnd.example.vn/hook?a=1&b=%20%(x)s", "2:email:o'brien@example.vn", "3:log:a\\b;--",
          "4:webhook:Đường Lý Thái Tổ", "5:%s"]


def test_in_values_writes_the_values_into_the_statement_and_finds_exactly_them(db_session):
    """Batch look-ups put their ids into the statement's text (so each is planned for what it asks):
    quoting, percent signs and backslashes must come through as bound values would, on both databases."""
    from feedback_app.extensions import db
    from feedback_app.plumbing import in_values

    connection = db.session.connection()
    table = sa.Table("in_values_probe", sa.MetaData(), sa.Column("id", sa.Uuid), sa.Column("k", sa.String(200)),
                     prefixes=["TEMPORARY"])
    table.create(connection)
    ids = [uuid.UUID(int=n + 1) for n in range(len(TRICKY))]
    connection.execute(table.insert(), [{"id": i, "k": k} for i, k in zip(ids, TRICKY)])
    sent = []
    sa.event.listen(connection, "before_cursor_execute", lambda *args: sent.append((args[2], args[3])))

    assert sorted(connection.execute(sa.select(table.c.k).where(in_values(table.c.k, TRICKY[1:4]))).scalars()) \
        == sorted(TRICKY[1:4])
    text, parameters = sent[-1]
    assert "brien" in text and not parameters  # in the text, not bound
    # Beside other bound parameters, and for ids.
    found = connection.execute(
        sa.select(table.c.k).where(in_values(table.c.id, ids[::2]), table.c.k != sa.bindparam("other", "x")))
    assert sorted(found.scalars()) == sorted(TRICKY[::2])
    assert connection.execute(sa.select(table.c.k).where(in_values(table.c.k, ["nobody"]))).first() is None


def test_an_arguments_schema_given_as_a_class_is_made_once_not_per_request():
    """Our Blueprint makes the schema instance when the route is declared: webargs would make one (deep-copying
    its fields) on every request. Bad input is still refused with the usual 422."""
    import flask
    import flask_smorest
    import marshmallow as ma

    from feedback_app.extensions import Blueprint

    made = []

    class Query(ma.Schema):
        n = ma.fields.Integer(required=True)

        def __init__(self, *args, **kwargs):
            made.append(1)
            super().__init__(*args, **kwargs)

    app = flask.Flask(__name__)
    app.config.update(API_TITLE="t", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    api = flask_smorest.Api(app)
    blp = Blueprint("probe", __name__, url_prefix="/probe")

    @blp.route("")
    @blp.arguments(Query, location="query")
    def probe(query):
        return {"n": query["n"]}

    api.register_blueprint(blp)
    client = app.test_client()
    before = len(made)
    assert [client.get(f"/probe?n={n}").get_json() for n in range(3)] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert client.get("/probe?n=x").status_code == 422
    assert len(made) == before
