"""Rate limits in one Redis round trip per request, whatever the number of limits.

Each limit ("10 per minute") is a generic cell rate algorithm (GCRA) bucket: one key holding the time at
which the bucket is next empty ("theoretical arrival time"). A request passes when every limit it is under
has room, and then counts against all of them at once, inside one Lua script: atomic across API
processes and machines, clocked by Redis's own TIME (the API machines' clocks do not matter). A refused
request counts against none, so a citizen held by the day limit does not also drain the minute one.

Why not Flask-Limiter: in the load test (bench/load.py) its moving windows cost three Redis round trips
per submission (one per limit, one more for the headers) and about a third of a submission's CPU in the
API process; gunicorn's workers spent 19% of their time waiting on those round trips. This module does
the same job for the routes here in one round trip (bench/intake_cost.py --case load-submit).

Redis down or slow: limits are kept in this process's memory with the same algorithm until Redis answers
again (checked at most every RETRY_REDIS_SECONDS), so intake never stops for the limiter's sake.
"""
from __future__ import annotations

import functools
import logging
import math
import re
import threading
import time
from dataclasses import dataclass

import redis
from flask import Flask, current_app, g, request
from werkzeug.exceptions import TooManyRequests

log = logging.getLogger(__name__)

PREFIX = "phananh:rl:"
RETRY_REDIS_SECONDS = 5.0
UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "month": 30 * 86400, "year": 365 * 86400}
_LIMIT = re.compile(r"^\s*(\d+)\s*(?:per|/)\s*(\d+)?\s*(second|minute|hour|day|month|year)s?\s*$", re.I)

# KEYS: one per limit. ARGV: for each limit, its period and amount (ms, count).
# Returns {allowed (1/0), index of the limit with least room (1-based), room left there,
#          ms until that limit's bucket is empty, ms to wait before a retry can pass (0 when allowed)}.
GCRA = """
local t = redis.call('TIME')
local now = t[1] * 1000 + t[2] / 1000
local n = #KEYS
local tats, starts = {}, {}
local wait = 0
for i = 1, n do
  local period, amount = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i])) or now
  if tat < now then tat = now end
  local new_tat = tat + period / amount
  if new_tat - period > now then wait = math.max(wait, new_tat - period - now) end
  starts[i], tats[i] = tat, new_tat
end
local allowed = wait == 0
local best, room, reset = 1, nil, 0
for i = 1, n do
  local period, amount = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local tat = allowed and tats[i] or starts[i]
  if allowed then redis.call('SET', KEYS[i], tostring(tat), 'PX', math.ceil(tat - now)) end
  local left = math.floor((period - (tat - now)) / (period / amount) + 1e-9)
  if left < 0 then left = 0 end
  if room == nil or left < room then best, room, reset = i, left, tat - now end
end
return {allowed and 1 or 0, best, room, math.ceil(reset), math.ceil(wait)}
"""


@dataclass(frozen=True)
class Limit:
    amount: int
    seconds: int
    text: str

    @property
    def period_ms(self) -> int:
        return self.seconds * 1000


@functools.lru_cache(maxsize=256)
def parse_limits(value: str) -> tuple[Limit, ...]:
    """'10 per minute;100 per day', '30/minute', '5 per 10 seconds' -> Limits. Bad text is a startup error."""
    limits = []
    for part in filter(str.strip, re.split(r"[;,]", value or "")):
        found = _LIMIT.match(part)
        if not found or int(found.group(1)) < 1:
            raise ValueError(f"not a rate limit: {part!r} (expected e.g. '10 per minute')")
        multiple = int(found.group(2) or 1)
        unit = found.group(3).lower()
        seconds = multiple * UNITS[unit]
        text = f"{found.group(1)} per {multiple} {unit}" + ("s" if multiple > 1 else "")
        limits.append(Limit(int(found.group(1)), seconds, text))
    return tuple(limits)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: Limit
    remaining: int
    reset_ms: int
    retry_ms: int


class RateLimited(TooManyRequests):
    def __init__(self, verdict: Verdict):
        super().__init__(description=verdict.limit.text)
        self.limit = verdict.limit
        self.retry_after = max(1, math.ceil(verdict.retry_ms / 1000))


class _MemoryBuckets:
    """The same algorithm in this process: used when Redis is down, or by choice (`memory://`)."""

    def __init__(self):
        self._tats: dict[str, float] = {}
        self._lock = threading.Lock()

    def check(self, keys: list[str], limits: tuple[Limit, ...]) -> tuple:
        now = time.time() * 1000
        with self._lock:
            if len(self._tats) > 100_000:
                self._tats = {k: v for k, v in self._tats.items() if v > now}
            starts = [max(self._tats.get(k, now), now) for k in keys]
            tats = [s + lim.period_ms / lim.amount for s, lim in zip(starts, limits)]
            wait = max([0.0] + [t - lim.period_ms - now for t, lim in zip(tats, limits)])
            allowed = wait <= 0
            if allowed:
                self._tats.update(zip(keys, tats))
            best, room, reset = 1, None, 0.0
            for i, (lim, tat) in enumerate(zip(limits, tats if allowed else starts), start=1):
                left = max(0, math.floor((lim.period_ms - (tat - now)) / (lim.period_ms / lim.amount) + 1e-9))
                if room is None or left < room:
                    best, room, reset = i, left, tat - now
            return (int(allowed), best, room, math.ceil(reset), math.ceil(max(wait, 0)))

    def clear(self) -> None:
        with self._lock:
            self._tats.clear()


class _Store:
    """One app's Redis (or none: memory://) and whether it is known to be down."""

    def __init__(self, uri: str, options: dict, enabled: bool = True):
        self.enabled = enabled
        self.redis = None if uri.startswith("memory://") else redis.Redis.from_url(uri, **options)
        self.script = self.redis.register_script(GCRA) if self.redis is not None else None
        self.down_until = 0.0


class RateLimiter:
    """The app's limiter: `limit(...)` on a view, default limits on every other route, X-RateLimit-* headers.

    Settings: RATELIMIT_ENABLED, RATELIMIT_DEFAULT (every route without limits of its own, per route and
    caller), RATELIMIT_STORAGE_URI (a Redis URL, or memory:// for one process), RATELIMIT_STORAGE_OPTIONS
    (keyword arguments of the Redis client), RATELIMIT_HEADERS_ENABLED.
    """

    def __init__(self, key_func):
        self.key_func = key_func
        self._exempt_blueprints: set[str] = set()
        self._own_limits: dict[tuple[str, str], bool] = {}
        self._memory = _MemoryBuckets()

    @property
    def enabled(self) -> bool:
        return current_app.extensions["ratelimit"].enabled

    def init_app(self, app: Flask) -> None:
        """Settings are read here, once: switched off (RATELIMIT_ENABLED=0), a request pays for no hook at all."""
        parse_limits(app.config.get("RATELIMIT_DEFAULT") or "")  # a typo fails at start, not per request
        enabled = bool(app.config.get("RATELIMIT_ENABLED", True))
        app.extensions["ratelimit"] = _Store(app.config.get("RATELIMIT_STORAGE_URI") or "memory://",
                                             app.config.get("RATELIMIT_STORAGE_OPTIONS") or {}, enabled)
        if enabled:
            app.before_request(self._default_limits)
            app.after_request(self._headers)

    def exempt(self, blueprint) -> None:
        self._exempt_blueprints.add(blueprint.name)

    def limit(self, value, *, key_func=None, methods=None):
        """Limits of a view of its own ('10 per minute;100 per day', or a callable giving that text, read
        per request so that settings can change); they replace the default limits on that route."""
        methods = {m.upper() for m in methods} if methods else None

        def decorator(view):
            @functools.wraps(view)
            def wrapper(*args, **kwargs):
                if (methods is None or request.method in methods) and self.enabled:
                    text = value() if callable(value) else value
                    self.hit(parse_limits(text), (key_func or self.key_func)(), scope=request.endpoint)
                return view(*args, **kwargs)

            wrapper._rate_limit_methods = methods
            return wrapper

        return decorator

    def hit(self, limits: tuple[Limit, ...], key: str, *, scope: str | None) -> Verdict:
        """Count one request against `limits` for `key`; raise RateLimited when one of them is full."""
        if not limits:
            return None
        keys = [f"{PREFIX}{scope}:{lim.amount}/{lim.seconds}:{key}" for lim in limits]
        result = None
        store = current_app.extensions["ratelimit"]
        if store.script is not None and time.monotonic() >= store.down_until:
            args = [number for lim in limits for number in (lim.period_ms, lim.amount)]
            try:
                result = store.script(keys=keys, args=args)
            except redis.RedisError as error:
                store.down_until = time.monotonic() + RETRY_REDIS_SECONDS
                log.warning("rate limits kept in memory for %ss: Redis failed (%s)", RETRY_REDIS_SECONDS,
                            type(error).__name__)
        if result is None:
            result = self._memory.check(keys, limits)
        allowed, index, remaining, reset_ms, retry_ms = (int(x) for x in result)
        verdict = Verdict(bool(allowed), limits[index - 1], remaining, reset_ms, retry_ms)
        g._rate_limit = verdict
        if not verdict.allowed:
            raise RateLimited(verdict)
        return verdict

    def reset(self, app: Flask) -> None:
        """Forget every count (tests)."""
        self._memory.clear()
        store = app.extensions["ratelimit"]
        store.down_until = 0.0
        if store.redis is not None:
            try:
                keys = list(store.redis.scan_iter(match=PREFIX + "*", count=1000))
                if keys:
                    store.redis.delete(*keys)
            except redis.RedisError:
                pass

    def _has_own_limits(self, endpoint: str, method: str) -> bool:
        known = self._own_limits.get((endpoint, method))
        if known is None:
            view = current_app.view_functions.get(endpoint)
            cls = getattr(view, "view_class", None)
            target = getattr(cls, method.lower(), None) if cls is not None else view
            methods = getattr(target, "_rate_limit_methods", False)
            known = self._own_limits[(endpoint, method)] = methods is not False and (
                methods is None or method in methods)
        return known

    def _default_limits(self):
        endpoint = request.endpoint
        if (endpoint is None or request.blueprint in self._exempt_blueprints or endpoint == "static"
                or self._has_own_limits(endpoint, request.method)):
            return None
        self.hit(parse_limits(current_app.config.get("RATELIMIT_DEFAULT") or ""), self.key_func(), scope=endpoint)
        return None

    def _headers(self, response):
        verdict = g.get("_rate_limit")
        if verdict is not None and current_app.config.get("RATELIMIT_HEADERS_ENABLED", True):
            headers = response.headers
            headers["X-RateLimit-Limit"] = str(verdict.limit.amount)
            headers["X-RateLimit-Remaining"] = str(verdict.remaining)
            headers["X-RateLimit-Reset"] = str(math.ceil(time.time() + verdict.reset_ms / 1000))
            if not verdict.allowed:
                headers["Retry-After"] = str(max(1, math.ceil(verdict.retry_ms / 1000)))
        return response
