"""Processing-rate reports at scale: a year of 1,000,000 items with realistic histories on PostgreSQL.

Run: nice -n 5 .venv/bin/python bench/reports.py [--items 1000000] [--keep] [--runs 20]

Seeds (COPY) items and their event rows the way `transition` writes them: texts from ../shared/data, fields,
areas and agencies of the demo directory routed by its rules, deadlines from its SLA policies and the working
calendar, a year of local days (fewer on weekends and holidays); about 95% handled (a few % rejected), 85% of
those on time, the rest open (some overdue, ~10% waiting for the citizen), ~3% rerouted, ~65% routed by the
classifier, ~40% rated. The item's report facts (handled_at, resolve_seconds, paused_seconds, reroutes,
auto_routed, due_at) are the ones its events define, so every figure is recomputable from the events.

Then times: refresh_rollups() building every day (then VACUUM ANALYZE); processing_rate for a year by agency,
month, category and area (service and HTTP, p50/p95 of 20 runs after 2 warm-ups); the dashboard page, signed in
through its form (p50 of 10 runs, this month and the last 12 months); an as_of report for last month and the
first page of the overdue list. Targets (issue 6): a year by agency and by month p50 < 300 ms, the dashboard page
< 1 s. A missed target (or --explain) prints EXPLAIN ANALYZE of the report's statements over 10 ms.
Checks on the way: a sample of items' events, folded by services.reports.ItemFacts, equals their columns; and
last month's as_of report (events alone) equals the rollup report at the same instant, figure for figure.
Seeding runs in two processes (CHUNKS of days, each with its own random stream: the same data for the same hour).

The database (phananh_bench_reports) is dropped at the end unless --keep; --keep reuses it when it holds --items items.
The texts are other people's data: they go into the bench database only, and are never printed.
"""
from __future__ import annotations

import argparse
import bisect
import csv
import hashlib
import json
import math
import os
import random
import re
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.common import PG_ADMIN, bench_env, drop_database, fresh_database, migrate_and_load  # noqa: E402

DB_NAME = "phananh_bench_reports"
REDIS_URL = "redis://127.0.0.1:6379/13"
DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
SEED = 20240601
LOCAL_OFFSET = 7 * 3600  # Asia/Ho_Chi_Minh: UTC+7 all year (checked against zoneinfo below)
DAY = 86400
MANAGER = ("bench.manager", "bench manager password 1")
TARGETS_MS = {"service_agency": 300, "service_month": 300, "dashboard": 1000}

# Field shares of a province's feedback (traffic and the environment lead, as in every city's open data).
FIELD_WEIGHTS = {"environment": 20, "traffic": 18, "urban_order": 12, "water": 9, "electricity": 8, "land": 8,
                 "construction": 7, "public_order": 7, "health": 3, "education": 3, "admin_procedures": 3,
                 "social_welfare": 2}
# Which real texts stand for which field (the labelled datasets' own categories).
TEXT_SOURCES = {
    "jarokelo_budapest_2023-11_2025-03.csv": ("category", "hu", {
        "Forgalomtechnika": "traffic", "Kátyú": "traffic", "Járda": "traffic", "Közösségi közlekedés": "traffic",
        "Kerékpározás": "traffic", "Parkolás": "urban_order", "Köztisztaság": "environment",
        "Parkok és zöldterületek": "environment", "Közművek": "water", "Közvilágítás": "electricity",
        "Elhagyott jármű": "urban_order", "Graffiti": "urban_order", "Akadálymentesítés": "construction",
        "Egyéb": "land"}),
    "seeclickfix_georgia_2013.csv": ("type_large", "en", {
        "Roadway": "traffic", "Traffic": "traffic", "Signage": "traffic", "Sidewalk": "traffic",
        "Garbage": "environment", "Dumping": "environment", "Cleanup": "environment", "Vegetation": "environment",
        "Drainage": "water", "Utilities": "water", "Lighting": "electricity", "Delapidated": "construction",
        "Illegal_sign": "urban_order", "Parking": "urban_order", "Parks": "urban_order",
        "Misbehavior": "public_order", "Animal": "health", "Other": "health", "Billing": "admin_procedures"}),
    "cfpb_complaints_sample.csv": ("product", "en", {
        "Mortgage": "land", "Student loan": "education", "Credit reporting": "admin_procedures",
        "Bank account or service": "admin_procedures", "Money transfers": "admin_procedures",
        "Prepaid card": "admin_procedures", "Debt collection": "social_welfare", "Consumer Loan": "social_welfare",
        "Payday loan": "social_welfare", "Credit card": "social_welfare", "Other financial service": "public_order"}),
}
PRIORITIES = (("normal", 85), ("urgent", 8), ("complex", 7))
CHANNELS = (("app", 62), ("web", 22), ("hotline", 8), ("email", 4), ("open311", 4))
RATINGS = ((5, 38), (4, 27), (3, 15), (2, 10), (1, 10))
# Local hour of submission: a working day's shape, quieter at night.
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 11, 12, 11, 9, 6, 7, 10, 10, 9, 8, 7, 7, 6, 5, 3, 2)
REJECT_REASONS = ("spam", "duplicate", "out_of_scope", "insufficient_info")
ANSWER = "Đơn vị đã kiểm tra và xử lý nội dung phản ánh; kết quả đã được cập nhật."

ITEM_COLUMNS = (
    "id", "tracking_code", "citizen_token_hash", "status", "version", "title", "description", "language", "channel",
    "priority", "anonymous", "consent_public", "lat", "lon", "area_id", "area_source", "citizen_category_id",
    "category_id", "agency_id", "predicted_category", "prediction_probability", "model_version", "routed_by",
    "created_at", "created_day", "updated_at", "routed_at", "triaged_at", "accepted_at", "resolved_at",
    "reopened_at", "closed_at", "rejected_at", "clock_started_at", "ack_warn_at", "ack_due_at", "warn_at", "due_at",
    "paused_at", "handled_at", "resolve_seconds", "paused_seconds", "reroutes", "routed_agency_id", "auto_routed",
    "answer", "answered_at", "merged_into_id", "sent_back_at", "rejection_reason", "rating", "rated_at",
)
EVENT_COLUMNS = ("id", "item_id", "kind", "from_status", "to_status", "actor_kind", "actor_id", "public", "message",
                 "data", "created_at")
HANDLED = frozenset({"resolved", "closed", "rejected"})
STATUSES = ("received", "needs_triage", "routed", "in_progress", "waiting_citizen", "reopened", "resolved", "closed",
            "rejected")
STAMPS = {"routed": "routed_at", "needs_triage": "triaged_at", "in_progress": "accepted_at", "resolved": "resolved_at",
          "reopened": "reopened_at", "closed": "closed_at", "rejected": "rejected_at"}
N = "\\N"


def copy_text(value: str) -> str:
    """A value in COPY's text format."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs)
    cum = []
    total = 0
    for w in weights:
        total += w
        cum.append(total)
    return lambda: values[bisect.bisect_right(cum, rng.random() * total)]


# --- time ----------------------------------------------------------------------------------------------------

_day_text: dict[int, str] = {}


def _day(d: int) -> str:
    text = _day_text.get(d)
    if text is None:
        text = _day_text[d] = (date(1970, 1, 1) + timedelta(days=d)).isoformat()
    return text


HMS = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY)]
_json = json.JSONEncoder().encode


def ts(t: int | None) -> str:
    """Epoch seconds as a COPY timestamptz."""
    if t is None:
        return N
    d, s = divmod(t, DAY)
    return f"{_day_text.get(d) or _day(d)} {HMS[s]}+00"


def iso(t: int | None) -> str | None:
    """Epoch seconds as datetime.isoformat() of the aware UTC instant (what `transition` writes in data)."""
    if t is None:
        return None
    d, s = divmod(t, DAY)
    return f"{_day_text.get(d) or _day(d)}T{HMS[s]}+00:00"


def epoch(dt: datetime) -> int:
    return int(dt.timestamp())


class WorkClock:
    """The app's working calendar as a cumulative function of office seconds: O(log n) per question.

    W(t) is the office time before t; working_time_between(a, b) = W(b) - W(a), and add_working_time(t, s) is
    the first instant where W reaches W(t) + s. The periods come from services.clocks.calendar(), so the
    holidays, decreed days and office hours are the app's own."""

    def __init__(self, cal, first: date, last: date):
        self.starts, self.ends, self.cum = [], [], []
        total = 0
        day = first
        while day <= last:
            for start, end in cal.periods(day):
                self.starts.append(epoch(start))
                self.ends.append(epoch(end))
                self.cum.append(total)
                total += epoch(end) - epoch(start)
            day += timedelta(days=1)
        self.cum_end = [c + e - s for c, s, e in zip(self.cum, self.starts, self.ends)]
        self.day_seconds = int(cal.day_length.total_seconds())
        self.working_days = {date(1970, 1, 1) + timedelta(days=(s + LOCAL_OFFSET) // DAY) for s in self.starts}

    def w(self, t: int) -> int:
        k = bisect.bisect_right(self.starts, t) - 1
        if k < 0:
            return 0
        return self.cum[k] + min(t, self.ends[k]) - self.starts[k]

    def add(self, t: int, seconds: float) -> int:
        target = self.w(t) + int(seconds)
        k = bisect.bisect_left(self.cum_end, target)
        if k >= len(self.starts):
            return self.ends[-1] + DAY  # beyond the horizon: later than anything the seed keeps
        return self.starts[k] + target - self.cum[k]

    def between(self, a: int, b: int) -> int:
        return max(self.w(b) - self.w(a), 0) if b > a else 0


# --- the seed ------------------------------------------------------------------------------------------------


def load_texts(rng: random.Random) -> dict[str, list[tuple[str, str, str]]]:
    """(title, description, language) by field, escaped for COPY, from the labelled datasets (never printed)."""
    pools: dict[str, list] = {code: [] for code in FIELD_WEIGHTS}
    for name, (label, language, mapping) in TEXT_SOURCES.items():
        with open(DATA / name, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                field = mapping.get(row[label])
                text = (row.get("description") or row.get("text") or "").strip()
                if field is None or len(text) < 10:
                    continue
                title = (row.get("title") or "").strip()[:200]
                pools[field].append((copy_text(title) if title else N, copy_text(text[:4000]), language))
    for pool in pools.values():
        rng.shuffle(pool)
    return pools


class Seeder:
    """Writes items and events as COPY text; each event updates the item as `transition` would."""

    def __init__(self, app, anchor: int, rng: random.Random):
        from feedback_app.models import Area, SlaPolicy
        from feedback_app.extensions import db
        from feedback_app.services.clocks import calendar, policy_for
        from feedback_app.services.directory import directory

        self.rng, self.now = rng, anchor
        with app.app_context():
            snap = directory()
            cal = calendar()
            today = date(1970, 1, 1) + timedelta(days=(anchor + LOCAL_OFFSET) // DAY)
            self.clock = WorkClock(cal, today - timedelta(days=400), today + timedelta(days=400))
            self.fields = {code: snap.field(code) for code in FIELD_WEIGHTS}
            missing = [code for code, ref in self.fields.items() if ref is None]
            if missing:
                raise SystemExit(f"the demo directory has no field {missing}")
            self.field_codes = list(FIELD_WEIGHTS)
            self.policies = {(f.id, p): policy_for(f.id, p) for f in self.fields.values() for p, _ in PRIORITIES}
            assert db.session.scalar(sa.select(sa.func.count()).select_from(SlaPolicy)) > 0
            self.root = snap.root
            deepest = max(x.depth for x in snap.areas.values())
            self.leaves = sorted((a for a in snap.areas.values() if a.depth == deepest),
                                 key=lambda a: a.code)
            # Routing as the rules say: field x area (most specific first) -> agency.
            self.route = {}
            for f in self.fields.values():
                for area in self.leaves + [None]:
                    agency = snap.agency_for(f.id, area)
                    if agency is not None:
                        self.route[(f.id, area.code if area else None)] = agency
            self.province_agency = {f.id: snap.agency_for(f.id, None) for f in self.fields.values()}
            levels = dict(db.session.execute(sa.select(Area.code, Area.level)).all())
        self.texts = load_texts(rng)
        # The cities' wards send most, then the towns' wards and townships, then rural communes.
        self.area_weights = [(a, 3 if a.path.split("/")[1] in ("256", "261") and levels[a.code] == "ward"
                              else (2 if levels[a.code] in ("ward", "township") else 1)) for a in self.leaves]
        self.start(rng, 0)

    def start(self, rng: random.Random, first_event_id: int) -> None:
        """A chunk's own random stream and event ids: the seed is the same whatever runs it, in any order."""
        self.rng = rng
        self.pick_field = weighted(rng, [(self.fields[c], w) for c, w in FIELD_WEIGHTS.items()])
        self.pick_area = weighted(rng, self.area_weights)
        self.pick_priority = weighted(rng, PRIORITIES)
        self.pick_channel = weighted(rng, CHANNELS)
        self.pick_rating = weighted(rng, RATINGS)
        self.pick_hour = weighted(rng, list(enumerate(HOUR_WEIGHTS)))
        elapsed = (self.now + LOCAL_OFFSET) % DAY // 3600
        self.pick_hour_today = weighted(rng, list(enumerate(HOUR_WEIGHTS[:elapsed]))) if elapsed else None
        self.event_id = first_event_id
        self.last_in_place: dict[tuple, tuple[uuid.UUID, str]] = {}
        self.stats: Counter = Counter()

    # one item ----------------------------------------------------------------------------------------------

    def item(self, index: int, created: int, items, events) -> None:
        rng, clock, now = self.rng, self.clock, self.now
        item_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        sid, code = str(item_id), self.code(index)
        field = self.pick_field()
        area = None if rng.random() < 0.03 else self.pick_area()
        area_code = area.code if area else None
        agency = self.route.get((field.id, area_code)) or self.province_agency[field.id]
        priority = self.pick_priority()
        policy = self.policies[(field.id, priority)]
        title, description, language = rng.choice(self.texts[field.code])
        channel = self.pick_channel()
        citizen_field = field if rng.random() < 0.35 else (self.pick_field() if rng.random() < 0.08 else None)
        path = rng.random()
        if 0.655 <= path < 0.69:
            citizen_field = field  # the model was down: the citizen's own field routed it
        s = {  # the item's columns that events change
            "status": "received", "version": 1, "agency_id": None, "category_id": None, "routed_by": None,
            "routed_at": None, "triaged_at": None, "accepted_at": None, "resolved_at": None, "reopened_at": None,
            "closed_at": None, "rejected_at": None, "clock_started_at": None, "ack_warn_at": None,
            "ack_due_at": None, "warn_at": None, "due_at": None, "paused_at": None, "handled_at": None,
            "resolve_seconds": None, "paused_seconds": 0, "reroutes": 0, "routed_agency_id": None,
            "auto_routed": False, "answer": None, "answered_at": None, "merged_into_id": None,
            "sent_back_at": None, "rejection_reason": None, "rating": None, "rated_at": None, "updated_at": created,
        }
        staff = lambda: str(1000 + (s["agency_id"] or 0))  # noqa: E731  (an officer of the item's agency)
        out: list[str] = []
        stop = False

        def event(kind, at, actor_kind, data, *, actor_id=None, public=True, message=None, to=None, frm=None):
            self.event_id += 1
            text = _json(data)
            if "\\" in text:
                text = copy_text(text)
            out.append(f"{self.event_id}\t{sid}\t{kind}\t{frm or N}\t{to or N}\t{actor_kind}\t"
                       f"{actor_id or N}\t{'t' if public else 'f'}\t{message or N}\t{text}\t{ts(at)}\n")
            s["updated_at"] = at

        def move(to, at, actor_kind, data=None, *, actor_id=None, public=True, message=None, changes=None) -> bool:
            """`transition` with `clocks.on_transition`, after the action's own `changes` to the item's columns;
            False (and nothing changed or written) when `at` is after now."""
            nonlocal stop
            if stop or at > now:
                stop = True
                return False
            if changes:
                s.update(changes)
            frm = s["status"]
            data = {} if data is None else data
            stamp = STAMPS.get(to)
            if stamp and not (stamp == "accepted_at" and s["accepted_at"]):
                s[stamp] = at
            s["status"] = to
            if to == "routed":
                if s["routed_agency_id"] is not None and s["agency_id"] != s["routed_agency_id"]:
                    s["reroutes"] += 1
                s["routed_agency_id"] = s["agency_id"]
            if frm == "waiting_citizen" and to != "waiting_citizen":
                paused = clock.between(s["paused_at"], at)
                for mark in ("ack_warn_at", "ack_due_at", "warn_at", "due_at"):
                    if s[mark] is not None and paused:
                        s[mark] = clock.add(s[mark], paused)
                s["paused_at"] = None
                s["paused_seconds"] += paused
                data["paused_working_seconds"] = paused
            if to == "routed" and s["clock_started_at"] is None:  # a reroute keeps the first clock
                ack, resolve = policy.ack_hours * 3600, clock.day_seconds * policy.resolve_days
                s["clock_started_at"] = at
                s["ack_warn_at"], s["ack_due_at"] = clock.add(at, ack * 0.75), clock.add(at, ack)
                s["warn_at"], s["due_at"] = clock.add(at, resolve * 0.75), clock.add(at, resolve)
            elif to == "waiting_citizen" and s["paused_at"] is None:
                s["paused_at"] = at
            if to in HANDLED and frm not in HANDLED:
                s["handled_at"] = at
                s["resolve_seconds"] = max(clock.between(created, at) - s["paused_seconds"], 0)
                data["working_seconds"] = s["resolve_seconds"]
            elif to not in HANDLED:
                s["handled_at"] = s["resolve_seconds"] = None
            data["due_at"] = iso(s["due_at"])
            if at > created:
                s["version"] += 1
            event("status", at, actor_kind, data, actor_id=actor_id, public=public, message=message, to=to, frm=frm)
            return True

        # Received, then routed at once by the classifier (or the citizen's field), or sent to the triage desk.
        event("received", created, "citizen", {"channel": channel, "attachments": int(rng.random() < 0.3),
                                                "area": area_code}, to="received")
        reroute = rng.random() < 0.031
        first_field, first_agency = field, agency
        if reroute:  # the first routing was wrong: another field, so another agency (else no reroute)
            for _ in range(6):
                other = self.pick_field()
                other_agency = self.route.get((other.id, area_code)) or self.province_agency[other.id]
                if other.id != field.id and other_agency.id != agency.id:
                    first_field, first_agency = other, other_agency
                    break
            else:
                reroute = False
        prediction = {"predicted_category": first_field.code, "model_version": "bench-seed"}
        if path < 0.655:
            probability = round(0.8 + 0.19 * rng.random(), 3)
            s["category_id"], s["agency_id"], s["routed_by"], s["auto_routed"] = (
                first_field.id, first_agency.id, "classifier", True)
            move("routed", created, "classifier", {**prediction, "probability": probability,
                                                   "category": first_field.code, "agency": first_agency.code,
                                                   "routed_by": "classifier"})
        elif path < 0.69:
            probability = None
            prediction = {"predicted_category": None, "model_version": None}
            s["category_id"], s["agency_id"], s["routed_by"] = first_field.id, first_agency.id, "citizen"
            move("routed", created, "system", {**prediction, "probability": None,
                                               "category": first_field.code, "agency": first_agency.code,
                                               "routed_by": "citizen"})
        else:
            probability = round(0.25 + 0.45 * rng.random(), 3)
            guess = first_field if rng.random() < 0.6 else self.pick_field()
            prediction["predicted_category"] = guess.code
            s["category_id"] = guess.id
            move("needs_triage", created, "system", {**prediction, "probability": probability,
                                                     "reason": "low_confidence", "category": guess.code})
        fate = rng.random()
        stuck = fate < 0.036  # never handled: the backlog every province has
        stuck_at = rng.random()
        t = created
        if s["status"] == "needs_triage":
            if stuck and stuck_at < 0.1:
                stop = True
            elif rng.random() < 0.02:  # spam or out of scope, rejected at the desk: no clock ever ran
                t = clock.add(t, rng.expovariate(1 / 7200) + 300)
                reason = rng.choice(REJECT_REASONS)
                move("rejected", t, "staff", {"reason": reason}, actor_id="900",
                     message="Không thuộc phạm vi tiếp nhận.", changes={"rejection_reason": reason})
                stop = True
            else:
                t = clock.add(t, rng.expovariate(1 / 10800) + 300)
                previous = {"agency_id": None, "category_id": s["category_id"]}
                move("routed", t, "staff", {"agency": first_agency.code, "category": first_field.code,
                                            "label": first_field.code, "previous": previous,
                                            "correction": previous["category_id"] != first_field.id},
                     actor_id="900", changes={"agency_id": first_agency.id, "category_id": first_field.id,
                                              "routed_by": "staff"})
        if reroute and not stop:
            t = clock.add(t, rng.expovariate(1 / 14400) + 600)
            previous = {"agency_id": s["agency_id"], "category_id": s["category_id"]}
            if rng.random() < 0.6:  # the agency sends it back, the desk routes it on
                move("needs_triage", t, "staff", {"previous_agency_id": previous["agency_id"], "reason": "not_ours"},
                     actor_id=staff(), public=False, message="Không thuộc thẩm quyền của đơn vị.",
                     changes={"agency_id": None, "sent_back_at": t})
                t = clock.add(t, rng.expovariate(1 / 7200) + 300)
            move("routed", t, "staff", {"agency": agency.code, "category": field.code, "label": field.code,
                                        "previous": previous, "correction": True}, actor_id="900",
                 changes={"agency_id": agency.id, "category_id": field.id, "routed_by": "staff"})
        if not stop and stuck and stuck_at < 0.3:
            stop = True  # routed, never taken in
        if not stop and rng.random() < 0.008:  # a duplicate, merged into an earlier item of the place
            earlier = self.last_in_place.get((field.id, area_code))
            if earlier is not None:
                t = clock.add(t, rng.expovariate(1 / 7200) + 600)
                if move("closed", t, "staff", {"merged_into": earlier[1]}, actor_id=staff()):
                    s["merged_into_id"] = earlier[0]
                stop = True
        if not stop:
            # Taken in within the acknowledgement time, mostly.
            t = clock.add(t, min(rng.lognormvariate(math.log(3600 * 1.5), 0.9), 200 * 3600))
            move("in_progress", t, "staff", {}, actor_id=staff())
        if not stop and (rng.random() < 0.075 or (stuck and stuck_at >= 0.88)):
            t = clock.add(t, rng.expovariate(1 / 14400) + 600)
            move("waiting_citizen", t, "staff", {}, actor_id=staff(), message="Đề nghị bổ sung thông tin.")
            if stuck and stuck_at >= 0.88:
                stop = True  # the citizen never answered
            else:
                t = t + int(rng.expovariate(1 / (2.5 * DAY))) + 600
                if not stop and t <= now:
                    event("citizen_message", t, "citizen", {"attachments": 0}, public=False)
                move("in_progress", t, "citizen", {"reason": "citizen_replied"})
        if not stop and stuck:
            stop = True  # in progress, never finished
        if not stop:
            if fate > 1 - 0.043:  # rejected after a look at it
                t = clock.add(t, rng.expovariate(1 / 28800) + 600)
                reason = rng.choice(REJECT_REASONS)
                move("rejected", t, "staff", {"reason": reason}, actor_id=staff(),
                     message="Nội dung không đủ cơ sở xử lý.", changes={"rejection_reason": reason})
                stop = True
            else:
                # Working time from the clock's start, as a share of the allowed time: ~86% within it.
                allowed = clock.day_seconds * policy.resolve_days
                share = min(rng.lognormvariate(math.log(0.42), 0.75), 6.0)
                target = clock.add(s["clock_started_at"], share * allowed + s["paused_seconds"])
                t = target if target > t else clock.add(t, rng.expovariate(1 / 3600) + 300)
                move("resolved", t, "staff", {"evidence": [], "evidence_reason": "site_visit"}, actor_id=staff(),
                     message=ANSWER, changes={"answer": ANSWER, "answered_at": t})
        if not stop and s["status"] == "resolved" and rng.random() < 0.465:
            t = t + int(rng.lognormvariate(math.log(1.5 * DAY), 1.0)) + 300
            rating = self.pick_rating()
            if t <= now:
                s["rating"], s["rated_at"] = rating, t
                event("rating", t, "citizen", {"rating": rating})
                if rating <= 2 and t - s["resolved_at"] <= 14 * DAY:
                    move("reopened", t, "citizen", {"reason": "unsatisfied", "rating": rating})
                    t = clock.add(t, rng.expovariate(1 / 10800) + 600)
                    move("in_progress", t, "staff", {}, actor_id=staff())
                    t = clock.add(t, rng.lognormvariate(math.log(8 * 3600), 0.8))
                    move("resolved", t, "staff", {"evidence": [], "evidence_reason": "site_visit"},
                         actor_id=staff(), message=ANSWER, changes={"answered_at": t})
                else:
                    move("closed", t, "citizen", {"reason": "rated", "rating": rating})
        self.last_in_place[(field.id, area_code)] = (item_id, code)
        events.append("".join(out))
        st = s["status"]
        self.stats[st] += 1
        self.stats["events"] += len(out)
        if st in HANDLED:
            self.stats["handled"] += 1
            self.stats["on_time"] += s["due_at"] is None or s["handled_at"] <= s["due_at"]
        else:
            self.stats["overdue_open"] += s["due_at"] is not None and s["due_at"] < now and s["paused_at"] is None
        self.stats["rerouted"] += s["reroutes"] > 0
        self.stats["auto_routed"] += s["auto_routed"]
        self.stats["rated"] += s["rating"] is not None

        lat = lon = N
        if area is not None and area.lat is not None and rng.random() < 0.8:
            lat, lon = f"{area.lat + rng.uniform(-0.01, 0.01):.6f}", f"{area.lon + rng.uniform(-0.01, 0.01):.6f}"
        local_day = date(1970, 1, 1) + timedelta(days=(created + LOCAL_OFFSET) // DAY)
        v = lambda x: N if x is None else str(x)  # noqa: E731
        row = (
            sid, code, hashlib.sha256(item_id.bytes).hexdigest(), st, str(s["version"]), title,
            description, language, channel, priority, "t" if rng.random() < 0.1 else "f",
            "t" if rng.random() < 0.3 else "f", lat, lon, v(area.id if area else None),
            N if area is None else ("point" if lat != N else "address"),
            v(citizen_field.id if citizen_field else None), v(s["category_id"]), v(s["agency_id"]),
            v(prediction["predicted_category"]), v(probability), v(prediction["model_version"]), v(s["routed_by"]),
            ts(created), local_day.isoformat(), ts(s["updated_at"]), ts(s["routed_at"]), ts(s["triaged_at"]),
            ts(s["accepted_at"]), ts(s["resolved_at"]), ts(s["reopened_at"]), ts(s["closed_at"]),
            ts(s["rejected_at"]), ts(s["clock_started_at"]), ts(s["ack_warn_at"]), ts(s["ack_due_at"]),
            ts(s["warn_at"]), ts(s["due_at"]), ts(s["paused_at"]), ts(s["handled_at"]), v(s["resolve_seconds"]),
            str(s["paused_seconds"]), str(s["reroutes"]), v(s["routed_agency_id"]), "t" if s["auto_routed"] else "f",
            s["answer"] or N, ts(s["answered_at"]), v(s["merged_into_id"]), ts(s["sent_back_at"]),
            v(s["rejection_reason"]), v(s["rating"]), ts(s["rated_at"]),
        )
        items.append("\t".join(row) + "\n")

    @staticmethod
    def code(index: int) -> str:
        """A unique 8-character tracking code in the app's alphabet (a bijection of the index)."""
        alphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
        n = (index * 7_919_000_003 + 123_456_789) % (30 ** 8)
        chars = []
        for _ in range(8):
            n, r = divmod(n, 30)
            chars.append(alphabet[r])
        return "".join(chars)


def day_plan(n: int, anchor: int, clock: WorkClock, rng: random.Random) -> list[tuple[int, int]]:
    """(local midnight as epoch, items) for the 365 local days ending today: weekends and holidays quieter,
    a slow rise over the year; today only up to now."""
    today = (anchor + LOCAL_OFFSET) // DAY
    days = list(range(today - 364, today + 1))
    weights = []
    for k, d in enumerate(days):
        day = date(1970, 1, 1) + timedelta(days=d)
        w = 1.0 if day in clock.working_days else (0.55 if day.weekday() == 5 else 0.42)
        w *= 0.9 + 0.2 * k / len(days)
        if d == today:
            elapsed = (anchor + LOCAL_OFFSET) % DAY // 3600
            w *= sum(HOUR_WEIGHTS[:elapsed]) / sum(HOUR_WEIGHTS)
        weights.append(w)
    total = sum(weights)
    counts = [int(n * w / total) for w in weights]
    for k in rng.sample(range(len(days) - 1), n - sum(counts)):
        counts[k] += 1
    return [(d * DAY - LOCAL_OFFSET, c) for d, c in zip(days, counts)]


CHUNKS = 16
EVENT_IDS_PER_CHUNK = 1_000_000_000  # chunk k numbers its events from k * this: ids still grow with time
SECONDARY_INDEXES = """
    SELECT indexname, indexdef FROM pg_indexes i
    WHERE tablename IN ('feedback_items', 'item_events') AND schemaname = 'public'
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
    ORDER BY tablename, indexname
"""


_SEEDER: Seeder | None = None  # built before the workers fork: they inherit it


def _write_chunk(database_url: str, k: int, first_index: int, days: list[tuple[int, int]]):
    """One chunk of consecutive days in a worker process: generate, and COPY from a second thread meanwhile."""
    import queue
    import threading

    seeder = _SEEDER
    rng = random.Random(SEED * 1000 + k)
    seeder.start(rng, k * EVENT_IDS_PER_CHUNK)
    batches: queue.Queue = queue.Queue(maxsize=2)
    failed: list[BaseException] = []

    def writer():
        try:
            with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
                # The histories are consistent by construction: foreign-key triggers would only slow the load.
                conn.execute("SET session_replication_role = replica")
                while (batch := batches.get()) is not None:
                    items, events = batch
                    with conn.cursor().copy(f"COPY feedback_items ({', '.join(ITEM_COLUMNS)}) FROM STDIN") as copy:
                        copy.write(items)
                    with conn.cursor().copy(f"COPY item_events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                        copy.write(events)
                conn.commit()
        except BaseException as error:  # noqa: BLE001  (reported by the generating thread)
            failed.append(error)
            while batches.get() is not None:
                pass

    thread = threading.Thread(target=writer)
    thread.start()
    items: list[str] = []
    events: list[str] = []
    index = first_index
    for midnight, count in days:
        today = midnight + DAY > seeder.now
        pick = seeder.pick_hour_today if today else seeder.pick_hour
        times = sorted(min(midnight + pick() * 3600 + rng.randrange(3600), seeder.now - 60) for _ in range(count))
        for t in times:
            seeder.item(index, t, items, events)
            index += 1
            if len(items) >= 10_000:
                batches.put(("".join(items), "".join(events)))
                items, events = [], []
        if failed:
            break
    if items and not failed:
        batches.put(("".join(items), "".join(events)))
    batches.put(None)
    thread.join()
    if failed:
        raise failed[0]
    return seeder.stats, seeder.event_id


def seed(app, database_url: str, n: int, anchor: int, workers: int = 2) -> Counter:
    """COPY n items and their events: CHUNKS runs of consecutive days, `workers` processes at a time, with the
    secondary indexes of both tables dropped meanwhile and built again after (faster than keeping them up)."""
    import multiprocessing
    from zoneinfo import ZoneInfo

    global _SEEDER

    from feedback_app.extensions import db

    assert ZoneInfo("Asia/Ho_Chi_Minh").utcoffset(datetime.fromtimestamp(anchor)) == timedelta(seconds=LOCAL_OFFSET)
    rng = random.Random(SEED)
    seeder = _SEEDER = Seeder(app, anchor, rng)
    plan = day_plan(n, anchor, seeder.clock, rng)
    chunks, first, size = [], 0, -(-n // CHUNKS)
    current: list = []
    for midnight, count in plan:
        current.append((midnight, count))
        if sum(c for _, c in current) >= size:
            chunks.append((first, current))
            first += sum(c for _, c in current)
            current = []
    if current:
        chunks.append((first, current))
    with app.app_context():
        db.engine.dispose()  # no pooled connection crosses the fork
    dsn = database_url.replace("+psycopg", "")
    with psycopg.connect(dsn, autocommit=True) as conn:
        indexes = conn.execute(SECONDARY_INDEXES).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
    started = time.perf_counter()
    stats: Counter = Counter()
    last_event_id = 0
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pending = [pool.apply_async(_write_chunk, (database_url, k, first, days))
                   for k, (first, days) in enumerate(chunks)]
        for k, result in enumerate(pending):
            chunk_stats, last = result.get()
            stats.update(chunk_stats)
            last_event_id = max(last_event_id, last)
            print(f"  chunk {k + 1:2d}/{len(chunks)}: {sum(stats[s] for s in STATUSES):>9,} items, "
                  f"{stats['events']:>10,} events, {time.perf_counter() - started:6.1f} s", file=sys.stderr)
    t0 = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("SELECT setval(pg_get_serial_sequence('item_events', 'id'), %s)", (last_event_id,))
    print(f"  {len(indexes)} indexes built again in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return stats


# --- measuring -----------------------------------------------------------------------------------------------


def timed(fn, runs: int, warmups: int) -> dict:
    for _ in range(warmups):
        fn()
    timings = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    p95 = timings[min(len(timings) - 1, math.ceil(0.95 * len(timings)) - 1)]
    return {"p50_ms": round(statistics.median(timings), 1), "p95_ms": round(p95, 1), "runs": runs}


class StatementLog:
    """The SQL a call issues, with its parameters and time: for EXPLAIN ANALYZE when a target is missed."""

    def __init__(self, engine):
        self.engine, self.statements, self.on = engine, [], False
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.on:
            self.statements.append((statement, parameters, (time.perf_counter() - conn.info["bench_t0"]) * 1000))


def explain(db, log: StatementLog, fn, label: str) -> None:
    log.statements, log.on = [], True
    try:
        fn()
    finally:
        log.on = False
    print(f"\n--- EXPLAIN ANALYZE: {label} (statements over 10 ms) ---")
    for statement, parameters, ms in log.statements:
        if ms < 10 or not statement.lstrip().upper().startswith("SELECT"):
            continue
        print(f"[{ms:.1f} ms] {statement[:300]}{' ...' if len(statement) > 300 else ''}")
        with db.engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            with raw.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                for (line,) in cursor.fetchall():
                    print("    " + line)
            raw.rollback()


def check_sample(db, size: int = 2000) -> tuple[int, Counter]:
    """Fold a sample of items' events as the as_of report does and compare with the columns the live report reads."""
    from feedback_app.models import FeedbackItem, ItemEvent
    from feedback_app.services.directory import directory
    from feedback_app.services.reports import ItemFacts

    snap = directory()
    sample = sa.select(FeedbackItem).order_by(sa.func.md5(FeedbackItem.tracking_code)).limit(size)
    items = db.session.scalars(sample).all()
    facts: dict = {}
    for event in db.session.scalars(sa.select(ItemEvent).where(ItemEvent.item_id.in_([i.id for i in items]))
                                    .order_by(ItemEvent.item_id, ItemEvent.id)):
        facts.setdefault(event.item_id, ItemFacts(created_day=None)).apply(
            event.kind, event.to_status, event.actor_kind, event.data, event.created_at)
    mismatches: Counter = Counter()

    def code(refs, ref_id):
        return refs[ref_id].code if ref_id else None

    for item in items:
        f = facts[item.id]
        pairs = {"status": (f.status, item.status), "agency": (f.agency, code(snap.agencies_by_id, item.agency_id)),
                 "category": (f.category, code(snap.fields_by_id, item.category_id)),
                 "area": (f.area, code(snap.areas_by_id, item.area_id)), "due_at": (f.due_at, item.due_at),
                 "handled_at": (f.handled_at, item.handled_at),
                 "resolve_seconds": (f.working_seconds, item.resolve_seconds),
                 "reroutes": (f.reroutes, item.reroutes), "auto_routed": (bool(f.auto_routed), item.auto_routed),
                 "rating": (f.rating, item.rating)}
        mismatches.update(name for name, (a, b) in pairs.items() if a != b)
    db.session.rollback()
    return len(items), mismatches


def seeded_items(name: str) -> int | None:
    """How many items an earlier --keep run left in the bench database (None: no such database or table)."""
    engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        found = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
    engine.dispose()
    if not found:
        return None
    engine = sa.create_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text("SELECT count(*) FROM feedback_items"))
    except sa.exc.DBAPIError:
        return None
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true",
                        help="reuse the bench database if it holds --items items; keep it at the end")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE even when targets are met")
    args = parser.parse_args()

    os.environ["REDIS_URL"] = REDIS_URL
    database_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB_NAME}"
    reuse = args.keep and seeded_items(DB_NAME) == args.items
    if not reuse:
        database_url = fresh_database(DB_NAME)
    env = bench_env(database_url)
    t0 = time.perf_counter()
    if reuse:
        import subprocess

        subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], env=env, cwd=Path(__file__).parent.parent,
                       check=True, capture_output=True)
    else:
        migrate_and_load(env)
    print(f"database {DB_NAME}: {'reused, migrated' if reuse else 'created, migrated, directory loaded'} "
          f"in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    os.environ.update({k: env[k] for k in ("DATABASE_URL", "INSTANCE_PATH", "SECRET_KEY", "RATELIMIT_ENABLED")})
    from feedback_app import create_app
    from feedback_app.extensions import db
    from feedback_app.models import (FeedbackItem, ItemEvent, ReportRollupDay, ReportRollupState, StaffUser,
                                     report_rollups)
    from feedback_app.services.auth import create_staff
    from feedback_app.services.report_rollups import refresh_rollups
    from feedback_app.services.reports import ReportQuery, overdue_items, processing_rate

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": REDIS_URL, "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "bench", "INSTANCE_PATH": env["INSTANCE_PATH"], "LOG_LEVEL": "WARNING"})
    results: dict = {"items": args.items}
    with app.app_context():
        existing = db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackItem))
    if reuse:
        print(f"reusing the {existing:,} items seeded by an earlier run (--keep)", file=sys.stderr)
    else:
        anchor = int(time.time()) // 3600 * 3600  # the seed is the same for the same hour
        t0 = time.perf_counter()
        stats = seed(app, database_url, args.items, anchor)
        seconds = time.perf_counter() - t0
        handled = stats["handled"]
        open_ = args.items - handled
        print(f"seeded {args.items:,} items and {stats['events']:,} events in {seconds:.1f} s "
              f"({args.items / seconds:,.0f} items/s)")
        print(f"  handled {100 * handled / args.items:.1f}% (rejected {100 * stats['rejected'] / args.items:.1f}%), "
              f"on time {100 * stats['on_time'] / max(handled, 1):.1f}% of handled; open {open_:,} "
              f"(waiting for the citizen {100 * stats['waiting_citizen'] / max(open_, 1):.1f}%, "
              f"overdue {stats['overdue_open']:,}); rerouted {100 * stats['rerouted'] / args.items:.1f}%, "
              f"auto-routed {100 * stats['auto_routed'] / args.items:.1f}%, "
              f"rated {100 * stats['rated'] / args.items:.1f}%")
        results["seed"] = {"seconds": round(seconds, 1), "events": stats["events"],
                           "statuses": {k: stats[k] for k in STATUSES}}

    with app.app_context():
        # Every rollup from scratch, whatever an earlier (--keep) run left.
        db.session.execute(sa.delete(report_rollups))
        db.session.execute(sa.delete(ReportRollupDay))
        db.session.execute(sa.delete(ReportRollupState))
        db.session.commit()
        t0 = time.perf_counter()
        built = refresh_rollups()
        db.session.commit()
        seconds = time.perf_counter() - t0
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(report_rollups))
        # (refresh_rollups's own row count reads 0 on PostgreSQL with SQLAlchemy 2.1: counted here instead)
        print(f"refresh_rollups: {built['days']} days, {rows:,} rollup rows in {seconds:.1f} s")
        results["rollups"] = {"seconds": round(seconds, 1), "days": built["days"], "rows": rows}
        # VACUUM as well as ANALYZE: after a bulk COPY the visibility map is empty until autovacuum's first pass,
        # and a live database's index-only scans rely on it.
        t0 = time.perf_counter()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM (ANALYZE)"))
        print(f"VACUUM (ANALYZE) in {time.perf_counter() - t0:.1f} s")

        checked, mismatches = check_sample(db)
        print(f"events folded (services.reports.ItemFacts) against the item's own columns, {checked:,} items: "
              f"{'all agree' if not mismatches else mismatches}")
        results["sample_mismatches"] = dict(mismatches)

        manager = db.session.scalar(sa.select(StaffUser).where(StaffUser.username == MANAGER[0]))
        if manager is None:
            create_staff(username=MANAGER[0], password=MANAGER[1], role="manager")
            db.session.commit()
        events = db.session.scalar(sa.select(sa.func.count()).select_from(ItemEvent))
        results["events"] = events

    from feedback_app.models.types import local_day, utcnow

    today = local_day(utcnow())
    year = (today - timedelta(days=364), today)

    def service_report(group_by: str, **extra):
        def run():
            with app.app_context():
                user = db.session.scalar(sa.select(StaffUser).where(StaffUser.username == MANAGER[0]))
                body = processing_rate(ReportQuery(date_from=extra.get("date_from", year[0]),
                                                   date_to=extra.get("date_to", year[1]), group_by=group_by,
                                                   as_of=extra.get("as_of")), user)
                db.session.remove()
                return body
        return run

    measured: dict = {}
    print(f"\nA year's report ({year[0]} to {year[1]}), as a manager: p50/p95 of {args.runs} runs after 2 warm-ups "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: other work shares this machine)")
    with app.app_context():
        log = StatementLog(db.engine)
    for group_by in ("agency", "month", "category", "area"):
        run = service_report(group_by)
        body = run()
        measured[f"service_{group_by}"] = figures = timed(run, args.runs, 2)
        figures["rows"] = len(body["rows"])
        print(f"  service  by {group_by:9s} p50 {figures['p50_ms']:8.1f} ms  p95 {figures['p95_ms']:8.1f} ms  "
              f"({len(body['rows'])} rows)")
        if group_by == "agency":
            t = body["totals"]
            results["totals"] = {k: t[k] for k in ("received", "handled", "handled_pct", "on_time_pct", "open",
                                                  "overdue_open", "resolve_hours_p50", "resolve_hours_p90",
                                                  "reroute_rate", "auto_route_rate", "rating_avg", "ratings")}
            print("  totals: " + ", ".join(f"{k} {v}" for k, v in results["totals"].items()))

    client = app.test_client()
    response = client.post("/api/v1/auth/token", json={"username": MANAGER[0], "password": MANAGER[1]})
    assert response.status_code == 200, response.get_data(as_text=True)
    headers = {"Authorization": f"Bearer {response.get_json()['access_token']}"}
    for group_by in ("agency", "month", "category", "area"):
        url = f"/api/v1/reports/processing-rate?from={year[0]}&to={year[1]}&group_by={group_by}"

        def get(url=url):
            response = client.get(url, headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)[:500]
        measured[f"http_{group_by}"] = figures = timed(get, args.runs, 2)
        print(f"  HTTP     by {group_by:9s} p50 {figures['p50_ms']:8.1f} ms  p95 {figures['p95_ms']:8.1f} ms")

    # The dashboard (being written in feedback_app/dashboard/): sign in through its form, then the page.
    dashboard_note = None
    if (Path(__file__).resolve().parent.parent / "feedback_app" / "dashboard" / "routes.py").exists() \
            and "dashboard.index" in app.view_functions:
        browser = app.test_client()
        page = browser.get("/dashboard/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"',
                          page.get_data(as_text=True))
        if page.status_code != 200 or token is None:
            dashboard_note = f"TODO: dashboard login page answered {page.status_code} without a CSRF token"
        else:
            signed = browser.post("/dashboard/login", data={"username": MANAGER[0], "password": MANAGER[1],
                                                            "csrf_token": token.group(1) or token.group(2)})
            if signed.status_code not in (302, 303):
                dashboard_note = f"TODO: dashboard sign-in answered {signed.status_code}"
            for name, url in (("dashboard", "/dashboard"), ("dashboard_12_months", "/dashboard?preset=last_12_months")):
                if dashboard_note:
                    break

                def load(url=url):
                    response = browser.get(url)
                    assert response.status_code == 200, f"{url}: {response.status_code}"
                try:
                    measured[name] = figures = timed(load, 10, 1)
                except AssertionError as error:
                    dashboard_note = f"TODO: {error}"
                    break
                print(f"  dashboard {url:34s} p50 {figures['p50_ms']:8.1f} ms  p95 {figures['p95_ms']:8.1f} ms")
    else:
        dashboard_note = "TODO: no /dashboard route in this checkout yet: measure it once feedback_app/dashboard/ lands"
    if dashboard_note:
        print("  " + dashboard_note)
        results["dashboard_note"] = dashboard_note

    # A month as it read a week after it ended (the events alone), and the overdue list's first page.
    # as_of a minute ago (after every seeded event) folds the events alone: it must equal the report that reads
    # rollups and item facts at that instant, figure for figure.
    last_month_end = today.replace(day=1) - timedelta(days=1)
    last_month = (last_month_end.replace(day=1), last_month_end)
    as_of = utcnow() - timedelta(minutes=1)
    run = service_report("agency", date_from=last_month[0], date_to=last_month[1], as_of=as_of)
    body = run()
    measured["as_of_month_agency"] = figures = timed(run, 3, 1)
    with app.app_context():
        user = db.session.scalar(sa.select(StaffUser).where(StaffUser.username == MANAGER[0]))
        live = processing_rate(ReportQuery(date_from=last_month[0], date_to=last_month[1], group_by="agency"), user,
                               now=as_of)
        db.session.remove()
    folded_rows = {r["key"]: r for r in body["rows"] + [body["totals"]]}
    live_rows = {r["key"]: r for r in live["rows"] + [live["totals"]]}
    differ = sorted(set(folded_rows) | set(live_rows), key=str)
    differ = [key for key in differ if folded_rows.get(key) != live_rows.get(key)]
    results["as_of_equals_live"] = not differ
    print(f"  as_of    {last_month[0]}..{last_month[1]} by agency, as of a minute ago: p50 {figures['p50_ms']:8.1f} ms "
          f"({body['totals']['received']:,} items folded from their events); equal to the rollup report: "
          f"{'yes, every figure of every row' if not differ else 'NO, rows ' + ', '.join(differ[:10])}")

    def overdue():
        with app.app_context():
            user = db.session.scalar(sa.select(StaffUser).where(StaffUser.username == MANAGER[0]))
            page = overdue_items(user, page=1, page_size=50)
            db.session.remove()
            return page
    total = overdue()["total"]
    measured["overdue_first_page"] = figures = timed(overdue, args.runs, 2)
    print(f"  overdue  first page of 50 ({total:,} overdue): p50 {figures['p50_ms']:8.1f} ms  "
          f"p95 {figures['p95_ms']:8.1f} ms")
    results["measured"] = measured

    rows = [
        ("refresh_rollups, every day", None, results["rollups"]["seconds"] * 1000),
        ("year by agency (service)", TARGETS_MS["service_agency"], measured["service_agency"]["p50_ms"]),
        ("year by month (service)", TARGETS_MS["service_month"], measured["service_month"]["p50_ms"]),
        ("year by category (service)", None, measured["service_category"]["p50_ms"]),
        ("year by area (service)", None, measured["service_area"]["p50_ms"]),
        ("year by agency (HTTP)", TARGETS_MS["service_agency"], measured["http_agency"]["p50_ms"]),
        ("year by month (HTTP)", TARGETS_MS["service_month"], measured["http_month"]["p50_ms"]),
        ("year by category (HTTP)", None, measured["http_category"]["p50_ms"]),
        ("year by area (HTTP)", None, measured["http_area"]["p50_ms"]),
        ("dashboard page (this month)", TARGETS_MS["dashboard"], measured.get("dashboard", {}).get("p50_ms")),
        ("dashboard page (12 months)", TARGETS_MS["dashboard"], measured.get("dashboard_12_months", {}).get("p50_ms")),
        ("as_of one month by agency", None, measured["as_of_month_agency"]["p50_ms"]),
        ("overdue list, first page", None, measured["overdue_first_page"]["p50_ms"]),
    ]
    print(f"\nSummary ({results['items']:,} items, {results['events']:,} events, "
          f"{results['rollups']['rows']:,} rollup rows; p50; load average now {os.getloadavg()[0]:.1f})")
    print(f"  {'measure':32s} {'target':>10s} {'measured':>12s}  met")
    missed = []
    for name, target, value in rows:
        shown = "TODO" if value is None else (f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms")
        met = "-" if target is None else ("TODO" if value is None else ("yes" if value < target else "NO"))
        if met == "NO":
            missed.append(name)
        print(f"  {name:32s} {('< %d ms' % target) if target else 'info':>10s} {shown:>12s}  {met}")
    results["missed"] = missed

    if missed or args.explain:
        with app.app_context():
            for group_by in ("agency", "month"):
                explain(db, log, service_report(group_by), f"a year by {group_by}")
    print(json.dumps(results, default=str))
    if not args.keep:
        with app.app_context():
            db.engine.dispose()
        drop_database(DB_NAME)
        print(f"dropped {DB_NAME}", file=sys.stderr)


if __name__ == "__main__":
    main()
