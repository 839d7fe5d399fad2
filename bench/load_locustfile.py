"""The users of bench/load.py and bench/chaos.py, for locust (headless); not meant to be run by hand.

Everything comes from the JSON file named by PHANANH_LOAD_CONFIG (written by bench/load.py):
- citizens submit through the mobile app's backend (X-API-Key with the intake scope), each submission from a
  new citizen (its own X-Device-Id, so the per-citizen limit is the real one) with an Idempotency-Key, and
  retry with the same key after a failure, as an app backend does;
- citizens track items that were acknowledged (201) earlier;
- officers, one per agency, list their queue and accept / resolve the first item with If-Match;
- managers read the processing-rate report.
Each 201 is appended to the `acks` file (tracking code, item id, time answered, time offered) so that the
caller can count what was acknowledged against what was stored, and what was offered in a window.
"""
from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from datetime import date, timedelta

import gevent
from locust import FastHttpUser, events, task

CONFIG = json.load(open(os.environ["PHANANH_LOAD_CONFIG"], encoding="utf-8"))
BODIES = [json.dumps(b, ensure_ascii=False).encode("utf-8") for b in
          json.load(open(CONFIG["bodies"], encoding="utf-8"))]
API_KEY = CONFIG["api_key"]
RETRY_SECONDS = float(CONFIG.get("retry_seconds", 120))

ACKED: list[tuple[str, str]] = []  # (tracking code, device id) of acknowledged submissions
_acks = open(CONFIG["acks"], "a", encoding="utf-8", buffering=1)
_marks = open(CONFIG["marks"], "a", encoding="utf-8", buffering=1)
_officer_accounts = itertools.cycle(CONFIG["officers"])
_manager_accounts = itertools.cycle(CONFIG["managers"])
_given_up = open(CONFIG["given_up"], "a", encoding="utf-8", buffering=1)


WARMUP_SECONDS = float(CONFIG.get("warmup_seconds", 0))
_environment = []


@events.init.add_listener
def _init(environment, **kwargs):
    _environment.append(environment)


def _measure_after_warm_up() -> None:
    """The same load goes on; what was counted during the warm-up is forgotten and the measured window begins."""
    gevent.sleep(WARMUP_SECONDS)
    _environment[0].runner.stats.reset_all()
    _marks.write(json.dumps({"mark": "measuring", "t": time.time()}) + "\n")


@events.spawning_complete.add_listener
def _spawned(user_count, **kwargs):
    _marks.write(json.dumps({"mark": "spawned", "t": time.time(), "users": user_count}) + "\n")
    if WARMUP_SECONDS > 0:
        gevent.spawn(_measure_after_warm_up)


@events.test_stopping.add_listener
def _stopping(**kwargs):
    _marks.write(json.dumps({"mark": "stopping", "t": time.time()}) + "\n")
    # bench/load.py reads the CPU of every process when it sees this mark: locust stays a moment, so that
    # a quick exit does not leave the run without its CPU figures (seen once in a 150-s run).
    gevent.sleep(0.3)


@events.quitting.add_listener
def _quitting(**kwargs):
    _marks.write(json.dumps({"mark": "quit", "t": time.time()}) + "\n")
    for handle in (_acks, _marks, _given_up):
        handle.flush()


def paced_at_random(rate: float):
    """One task per period of 1/rate, started at a random moment of each period (a task that overruns its
    period is followed at once, and at most one period is made up): the rate offered is exact, and no two
    users keep a phase from one period to the next."""
    period = 1.0 / rate

    def wait_time(user) -> float:
        now = time.monotonic()
        user._period = max(getattr(user, "_period", now - period) + period, now - period)
        return _offer(user, user._period + random.uniform(0.0, period), now)

    return wait_time


def poisson_throughput(rate: float):
    """The gap from one task's offer to the next drawn from an exponential distribution of mean 1/rate: each
    user's offers, and all users' together, are a Poisson process, burstier than `paced_at_random`, and the
    count offered in a window varies (about ±4.5/s over 10 s at 200/s). The offers are a chain of their own:
    a task that overruns its gap is followed at once and the next offers keep their times, so how many are
    offered in a window does not depend on how fast the service answers."""

    def wait_time(user) -> float:
        now = time.monotonic()
        return _offer(user, getattr(user, "_offer", now) + random.expovariate(rate), now)

    return wait_time


def _offer(user, at: float, now: float) -> float:
    """Keep the moment the user's next task is offered (monotonic `at`, and as wall-clock time for the
    tasks that record it) and return the wait until then."""
    user._offer = at
    user._offered_at = time.time() + (at - now)
    return max(0.0, at - now)


# Independent citizens do not act in step. With locust's constant_throughput (fixed gaps) the users fell into
# lock-step: those a slow moment had delayed all fired again together, gunicorn's accept queue swung between
# 0 and 306 connections within a second, and latencies measured the draining of waves of the load
# generator's own making. Both schedules above draw each start at random.
ARRIVALS = {"paced": paced_at_random, "poisson": poisson_throughput}[CONFIG.get("arrivals", "paced")]


def _retryable(status: int) -> bool:
    # 0: no answer (connection refused or reset); 5xx: the server failed; 409: the same key is still running;
    # 429: slow down. A 4xx other than these is the client's fault and would fail again.
    return status == 0 or status >= 500 or status in (409, 429)


class SubmittingCitizen(FastHttpUser):
    """One submission per iteration, each from a new citizen of the app (new device id)."""

    fixed_count = CONFIG["submitters"]
    wait_time = ARRIVALS(CONFIG["submit_rate_per_user"])

    @task
    def submit(self):
        # When this submission was offered by the schedule (it starts then, or at once if the user ran late):
        # bench/load.py counts the offers of a window from it.
        offered = getattr(self, "_offered_at", None) or time.time()
        body = random.choice(BODIES)
        device = uuid.uuid4().hex
        headers = {"Content-Type": "application/json", "X-API-Key": API_KEY, "X-Device-Id": device,
                   "Idempotency-Key": uuid.uuid4().hex}
        deadline = time.monotonic() + RETRY_SECONDS
        name, delay = "POST /api/v1/feedback", 0.5
        while True:
            with self.client.post("/api/v1/feedback", data=body, headers=headers, name=name,
                                  catch_response=True) as response:
                status = response.status_code
                if status == 201:
                    answer = response.json()
                    ACKED.append((answer["tracking_code"], device))
                    _acks.write(f"{answer['tracking_code']}\t{answer['id']}\t{time.time():.3f}\t{offered:.3f}\n")
                    response.success()
                    return
                response.failure(f"HTTP {status}")
            if not _retryable(status) or time.monotonic() > deadline:
                _given_up.write(json.dumps({"key": headers["Idempotency-Key"], "status": status,
                                            "offered": round(offered, 3)}) + "\n")
                return
            name = "POST /api/v1/feedback (retry)"
            gevent.sleep(delay)
            delay = min(delay * 2, 8)


class TrackingCitizen(FastHttpUser):
    """A citizen of the app looking at an item acknowledged earlier."""

    fixed_count = CONFIG["trackers"]
    wait_time = ARRIVALS(CONFIG["track_rate_per_user"])

    @task
    def track(self):
        if not ACKED:
            return
        code, device = ACKED[random.randrange(max(0, len(ACKED) - 5000), len(ACKED))]  # a recent one
        self.client.get(f"/api/v1/feedback/{code}", headers={"X-API-Key": API_KEY, "X-Device-Id": device},
                        name="GET /api/v1/feedback/{tracking_code}")


class _Staff(FastHttpUser):
    abstract = True
    account: dict

    def on_start(self):
        self.token = None
        while self.token is None:
            with self.client.post("/api/v1/auth/token", json={"username": self.account["username"],
                                                             "password": self.account["password"]},
                                  name="POST /api/v1/auth/token", catch_response=True) as response:
                if response.status_code == 200:
                    self.token = response.json()["access_token"]
                    response.success()
                else:
                    response.failure(f"HTTP {response.status_code}")
                    gevent.sleep(2)

    def headers(self, **extra) -> dict:
        return {"Authorization": f"Bearer {self.token}", **extra}


class Officer(_Staff):
    """An agency officer: the queue of items to take in, accept the first; the items in progress, resolve one."""

    fixed_count = len(CONFIG["officers"])
    wait_time = ARRIVALS(CONFIG["officer_rate"])

    def on_start(self):
        self.account = next(_officer_accounts)
        super().on_start()

    def _first(self, status: str) -> dict | None:
        with self.client.get(f"/api/v1/triage/items?status={status}&page_size=20", headers=self.headers(),
                             name=f"GET /api/v1/triage/items?status={status}", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return None
            items = response.json()["items"]
            return items[0] if items else None

    def _act(self, item: dict, payload: dict) -> None:
        tag = f'"{item["id"]}-{item["version"]}"'
        with self.client.post(f"/api/v1/triage/items/{item['id']}/actions", json=payload,
                              headers=self.headers(**{"If-Match": tag}),
                              name=f"POST /api/v1/triage/items/{{id}}/actions [{payload['action']}]",
                              catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")

    @task
    def work_the_queue(self):
        item = self._first("routed")
        if item is not None:
            self._act(item, {"action": "accept", "message": "Đã tiếp nhận, đang xử lý."})
        item = self._first("in_progress")
        if item is not None:
            self._act(item, {"action": "resolve", "text": "Đơn vị đã kiểm tra và khắc phục tại hiện trường.",
                             "evidence_reason": "Kiểm tra trực tiếp, không chụp ảnh."})


class Manager(_Staff):
    """A manager reading the processing-rate report: this month by agency, by field, the year by month."""

    fixed_count = len(CONFIG["managers"])
    wait_time = ARRIVALS(CONFIG["manager_rate"])

    def on_start(self):
        self.account = next(_manager_accounts)
        super().on_start()

    @task
    def read_report(self):
        today = date.today()
        group_by, start = random.choice([("agency", today - timedelta(days=30)), ("category", today - timedelta(days=30)),
                                         ("month", today - timedelta(days=365))])
        self.client.get(f"/api/v1/reports/processing-rate?from={start}&to={today}&group_by={group_by}",
                        headers=self.headers(), name="GET /api/v1/reports/processing-rate")
