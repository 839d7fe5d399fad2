"""Plumbing made cheaper: the database ping, JSON encoding and the cookie session on every request, and
`in_values` for the background worker's batch look-ups.

Each piece replaces a default that costs something on every request or batch (measured with callgrind on the
intake loop, `bench/intake_cost.py`, and with `pg_stat_statements` under `bench/load.py`), and keeps its
behaviour where a client or an operator can see it.
"""
from __future__ import annotations

import time

import orjson
import sqlalchemy as sa
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import exc


def ping_when_idle(engine: sa.Engine, idle_seconds: float) -> None:
    """Pessimistic disconnect handling, but only for a connection that sat idle in the pool.

    SQLAlchemy's `pool_pre_ping` spends a round trip on every checkout. A connection checked in moments ago
    is as good as the last query proved it; one that sat idle may have been cut by a restart, a failover
    or a firewall, and is pinged first (a dead one is replaced before the request sees it). A connection cut
    in between is still caught: its error invalidates the pool, a creating view is run again on a fresh
    connection when nothing can have been written (`resources.common.transactional`), and any other request
    gets a JSON 503 with Retry-After.
    """

    @sa.event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record):
        record.info["checked_in"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, proxy):
        checked_in = record.info.get("checked_in")
        if checked_in is not None and time.monotonic() - checked_in < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # the pool replaces it: up to three tries, then the error itself
            raise exc.DisconnectionError(f"stale connection: {type(error).__name__}") from None


class FastJSONProvider(DefaultJSONProvider):
    """Flask's JSON responses written by orjson (several times faster than the json module).

    What a client sees is unchanged: dates still go through Flask's own conversion (HTTP dates), and
    Decimal, UUID and dataclasses as before; only the whitespace differs (orjson writes compact JSON and
    UTF-8 instead of \\u escapes). Pretty-printed output in debug mode keeps the json module.
    """

    _OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS

    def dumps(self, obj, **kwargs) -> str:
        if kwargs:
            return super().dumps(obj, **kwargs)
        option = self._OPTIONS | (orjson.OPT_SORT_KEYS if self.sort_keys else 0)
        try:
            return orjson.dumps(obj, default=self.default, option=option).decode()
        except TypeError:  # what orjson refuses (an int beyond 64 bits, a lone surrogate): the json module
            return super().dumps(obj)

    def response(self, *args, **kwargs):
        if self.compact is False or (self.compact is None and self._app.debug):
            return super().response(*args, **kwargs)
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self.dumps(obj) + "\n", mimetype=self.mimetype)


class LazySessionInterface(SecureCookieSessionInterface):
    """The signed cookie session, built only when a request carries the cookie.

    Flask builds its signing serializer on every request, even for an API call with no cookie at all.
    """

    def open_session(self, app, request):
        # No Cookie header at all (an API client): not even the cookie parser runs.
        if "HTTP_COOKIE" not in request.environ or request.cookies.get(self.get_cookie_name(app)) is None:
            if not app.secret_key:
                return None
            return self.session_class()
        return super().open_session(app, request)


def in_values(column, values):
    """`column IN (...)` with the values written into the statement's text instead of bound.

    For the batch look-ups whose list of ids changes on every call (a relay batch's messages, their items and
    deliveries). psycopg prepares a statement on the server after its fifth run, and
    PostgreSQL may then keep one generic plan for it: chosen while a table is still small (a fresh install,
    a worker that started early), that plan is a sequential scan, and it stays with the connection as the
    table grows. Under `bench/load.py`, before this, loading a batch's 50 items by primary key took 44 ms
    (PostgreSQL's costliest statement, a third of its CPU). With the values in the text each statement is
    planned for what it asks, by the index; SQLAlchemy renders them with the column's type, so they are
    quoted as any bound value would be.
    """
    return column.in_(sa.bindparam(None, list(values), expanding=True, literal_execute=True))
