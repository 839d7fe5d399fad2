"""The rate limiter: GCRA buckets in Redis, one round trip for all of a request's limits, memory when Redis is down."""
from __future__ import annotations

import logging
import threading

import pytest
from flask import Flask

from feedback_app.extensions import limiter
from feedback_app.ratelimit import Limit, RateLimited, RateLimiter, _Store, parse_limits


def test_limits_are_parsed_in_the_usual_forms():
    assert parse_limits("10 per minute;100 per day") == (Limit(10, 60, "10 per 1 minute"),
                                                        Limit(100, 86400, "100 per 1 day"))
    assert parse_limits("30/minute") == (Limit(30, 60, "30 per 1 minute"),)
    assert parse_limits(" 5 per 10 seconds , 2 per hour ") == (Limit(5, 10, "5 per 10 seconds"),
                                                              Limit(2, 3600, "2 per 1 hour"))
    assert parse_limits("") == ()
    for bad in ("ten per minute", "10 per fortnight", "0 per minute", "10 minute"):
        with pytest.raises(ValueError, match="not a rate limit"):
            parse_limits(bad)


def _hits(app, limits: str, key: str, n: int, scope: str = "test"):
    verdicts = []
    with app.test_request_context():
        for _ in range(n):
            try:
                verdicts.append(limiter.hit(parse_limits(limits), key, scope=scope))
            except RateLimited as refused:
                verdicts.append(refused)
    return verdicts


@pytest.fixture(params=["redis", "memory"])
def store_app(app, request):
    """The app's own store (Redis: the embedded one, or the real one in CI's second pass), then memory only."""
    kept = app.extensions["ratelimit"]
    if request.param == "memory":
        app.extensions["ratelimit"] = _Store("memory://", {})
    limiter.reset(app)
    yield app
    app.extensions["ratelimit"] = kept
    limiter.reset(app)


def test_a_full_bucket_refuses_with_the_time_to_wait(store_app):
    first, second, third, refused = _hits(store_app, "3 per minute", "citizen-a", 4)
    assert [v.remaining for v in (first, second, third)] == [2, 1, 0]
    assert isinstance(refused, RateLimited) and refused.limit.text == "3 per 1 minute"
    assert 1 <= refused.retry_after <= 20  # one request's share of the minute: 20 s
    # Another citizen has a budget of its own, and so has another route.
    assert _hits(store_app, "3 per minute", "citizen-b", 1)[0].remaining == 2
    assert _hits(store_app, "3 per minute", "citizen-a", 1, scope="other")[0].remaining == 2


def test_a_refused_request_counts_against_no_limit(store_app):
    limits = "2 per minute;5 per hour"
    assert [v.limit.text for v in _hits(store_app, limits, "c", 2)] == ["2 per 1 minute"] * 2
    refused = _hits(store_app, limits, "c", 3)
    assert all(isinstance(r, RateLimited) for r in refused)
    # The hour's bucket saw two requests, not five: three more fit in it.
    assert _hits(store_app, "5 per hour", "c", 1, scope="test")[0].remaining == 2


def test_concurrent_callers_share_one_budget(store_app):
    allowed = []

    def caller():
        allowed.extend(v for v in _hits(store_app, "40 per hour", "shared", 20) if not isinstance(v, RateLimited))

    threads = [threading.Thread(target=caller) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 40


def test_redis_down_keeps_limits_in_memory(app, caplog):
    kept = app.extensions["ratelimit"]
    app.extensions["ratelimit"] = _Store("redis://127.0.0.1:1/0", {"socket_connect_timeout": 0.5})
    try:
        limiter.reset(app)
        with caplog.at_level(logging.WARNING, logger="feedback_app.ratelimit"):
            verdicts = _hits(app, "2 per minute", "offline", 3)
        assert [type(v).__name__ for v in verdicts] == ["Verdict", "Verdict", "RateLimited"]
        assert "rate limits kept in memory" in caplog.text
        assert app.extensions["ratelimit"].down_until > 0  # not retried on every request
    finally:
        app.extensions["ratelimit"] = kept
        limiter.reset(app)


def _small_app(**config) -> Flask:
    own = RateLimiter(key_func=lambda: "everyone")
    app = Flask(__name__)
    app.config.update(RATELIMIT_STORAGE_URI="memory://", RATELIMIT_DEFAULT="2 per minute", **config)
    own.init_app(app)

    @app.get("/open")
    def open_route():
        return "ok"

    @app.route("/own", methods=["GET", "POST"])
    @own.limit("1 per minute", methods=["POST"])
    def own_route():
        return "ok"

    @app.errorhandler(RateLimited)
    def refused(error):
        return {"limit": error.limit.text}, 429, {"Retry-After": str(error.retry_after)}

    return app


def test_default_limits_apply_where_a_route_has_none_for_the_method():
    client = _small_app().test_client()
    answers = [client.get("/open") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert answers[0].headers["X-RateLimit-Limit"] == "2" and int(answers[0].headers["X-RateLimit-Reset"]) > 0
    assert int(answers[2].headers["Retry-After"]) >= 1
    # The route's own limit replaces the default for POST; GET keeps the default.
    assert [client.post("/own").status_code for _ in range(2)] == [200, 429]
    assert [client.get("/own").status_code for _ in range(3)] == [200, 200, 429]


def test_switched_off_and_headers_off():
    client = _small_app(RATELIMIT_ENABLED=False).test_client()
    assert {client.get("/open").status_code for _ in range(5)} == {200}
    assert "X-RateLimit-Limit" not in client.get("/open").headers
    quiet = _small_app(RATELIMIT_HEADERS_ENABLED=False).test_client()
    assert "X-RateLimit-Limit" not in quiet.get("/open").headers


def test_the_service_sends_the_headers_and_exempts_health_checks(client):
    answer = client.get("/api/v1/categories")
    assert answer.status_code == 200 and answer.headers["X-RateLimit-Limit"] == "300"
    assert "X-RateLimit-Limit" not in client.get("/healthz").headers


def test_the_store_follows_the_settings(app_config, monkeypatch):
    from feedback_app import create_app

    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    monkeypatch.setenv("RATELIMIT_HEADERS_ENABLED", "0")
    own = create_app({k: v for k, v in app_config.items() if not k.startswith("RATELIMIT")})
    assert own.extensions["ratelimit"].redis is None and own.config["RATELIMIT_HEADERS_ENABLED"] is False
    monkeypatch.delenv("RATELIMIT_STORAGE_URI")
    default = create_app(app_config)
    assert default.extensions["ratelimit"].redis is not None  # REDIS_URL's, embedded or real
