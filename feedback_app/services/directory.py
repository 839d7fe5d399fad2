"""Reading the directory: a per-process snapshot (areas, fields, agencies, rules) refreshed when a new version loads."""
from __future__ import annotations

import math
import re
import threading
import time
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import Agency, Area, DirectoryVersion, Field, RoutingRule
from feedback_app.services.errors import Unprocessable

LEVEL_WORDS = r"^(tinh|thanh pho|tp\.?|thi xa|tx\.?|huyen|quan|phuong|xa|thi tran|tt\.?)\s+"
MAX_NEAREST_KM = 25.0
CHECK_EVERY_SECONDS = 30.0


class _WithoutMarks(dict):
    """`str.translate`'s table for `fold`: a combining mark (category Mn) to None, which drops it, any other
    character to itself, looked up once per character below U+3000 (Latin, Vietnamese, the marks
    themselves; what `fold` meets) and kept, so that the table stays small whatever a text holds."""

    def __missing__(self, code: int):
        value = None if unicodedata.category(chr(code)) == "Mn" else code
        if code < 0x3000:
            self[code] = value
        return value


_WITHOUT_MARKS = _WithoutMarks()
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower case without diacritics (đ -> d): how addresses are typed on phones. The marks are dropped by
    one `translate` (a Python test of each character's category took 25 us of a 190-character report)."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return _SPACES.sub(" ", text.translate(_WITHOUT_MARKS)).strip().lower()


@dataclass(frozen=True)
class Ref:
    """A directory entry as a request needs it: id, code and names, no ORM session attached."""

    id: int
    code: str
    name_vi: str
    name_en: str

    def public(self) -> dict:
        return {"code": self.code, "name_vi": self.name_vi, "name_en": self.name_en}


@dataclass(frozen=True)
class AreaRef(Ref):
    path: str = ""
    depth: int = 0
    lat: float | None = None
    lon: float | None = None

    @property
    def ancestor_codes(self) -> list[str]:
        return list(reversed(self.path.split("/")))


def _haversine_km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 12742.0 * math.asin(math.sqrt(a))


def _public(ref: Ref | None) -> dict | None:
    return ref.public() if ref is not None else None


class DirectorySnapshot:
    """Everything routing reads, in memory: the directory changes a few times a year, items every second."""

    def __init__(self, version: int):
        self.version = version
        areas = db.session.scalars(sa.select(Area)).all()
        self.areas = {
            a.code: AreaRef(a.id, a.code, a.name_vi, a.name_en, a.path, a.depth, a.lat, a.lon) for a in areas
        }
        self.areas_by_id = {a.id: a for a in self.areas.values()}
        fields = db.session.scalars(sa.select(Field)).all()
        # By id: every entry, for showing old items; by code and in rules: the active ones only.
        self.fields_by_id = {f.id: Ref(f.id, f.code, f.name_vi, f.name_en) for f in fields}
        self.fields = {f.code: self.fields_by_id[f.id] for f in fields if f.active}
        agencies = db.session.scalars(sa.select(Agency)).all()
        self.agencies_by_id = {a.id: Ref(a.id, a.code, a.name_vi, a.name_en) for a in agencies}
        active_agencies = {a.id for a in agencies if a.active}
        self.rules: dict[tuple[int, str], Ref] = {}
        for field_id, area_id, agency_id in db.session.execute(
            sa.select(RoutingRule.field_id, RoutingRule.area_id, RoutingRule.agency_id)
        ):
            if agency_id in active_agencies and area_id in self.areas_by_id:
                self.rules[(field_id, self.areas_by_id[area_id].code)] = self.agencies_by_id[agency_id]
        roots = [a for a in self.areas.values() if a.depth == 0]
        self.root = roots[0] if roots else None
        deepest = max((a.depth for a in self.areas.values() if a.lat is not None), default=None)
        self.leaves = [a for a in self.areas.values() if a.depth == deepest and a.lat is not None and a.lon is not None]
        patterns = []
        for area in sorted(self.areas.values(), key=lambda a: -a.depth):
            name = re.sub(LEVEL_WORDS, "", fold(area.name_vi))
            if len(name) >= 3:
                patterns.append((re.compile(rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])"), area))
        self.address_patterns = patterns

    def refs(self, item) -> dict:
        """The public names of an item's field, agency and area."""
        return {
            "category": _public(self.fields_by_id.get(item.category_id)),
            "agency": _public(self.agencies_by_id.get(item.agency_id)),
            "area": _public(self.areas_by_id.get(item.area_id)),
        }

    def area(self, code: str) -> AreaRef | None:
        return self.areas.get(code)

    def field(self, code: str) -> Ref | None:
        return self.fields.get(code)

    def agency_for(self, field_id: int, area: AreaRef | None) -> Ref | None:
        """The rule of the most specific area first, the province level last."""
        codes = area.ancestor_codes if area else ([self.root.code] if self.root else [])
        for code in codes:
            agency = self.rules.get((field_id, code))
            if agency is not None:
                return agency
        return None

    def area_for_point(self, lat: float, lon: float) -> AreaRef | None:
        """The deepest area whose centroid is nearest: a good guess until boundary polygons are loaded."""
        if not self.leaves:
            return None
        best = min(self.leaves, key=lambda a: _haversine_km(lat, lon, a.lat, a.lon))
        return best if _haversine_km(lat, lon, best.lat, best.lon) <= MAX_NEAREST_KM else None

    def area_for_address(self, address: str) -> AreaRef | None:
        """The most specific area whose name (without 'phường', 'huyện'...) appears in the address."""
        folded = fold(address)
        for pattern, area in self.address_patterns:  # deepest first
            if pattern.search(folded):
                return area
        return None


class _SnapshotHolder:
    def __init__(self):
        self._lock = threading.Lock()
        self._snapshot: DirectorySnapshot | None = None
        self._checked_at = 0.0

    def invalidate(self) -> None:
        with self._lock:
            self._snapshot, self._checked_at = None, 0.0

    def get(self) -> DirectorySnapshot:
        now = time.monotonic()
        snapshot = self._snapshot
        if snapshot is not None and now - self._checked_at < CHECK_EVERY_SECONDS:
            return snapshot
        with self._lock:
            version = db.session.scalar(sa.select(sa.func.max(DirectoryVersion.id))) or 0
            if self._snapshot is None or self._snapshot.version != version:
                self._snapshot = DirectorySnapshot(version)
            self._checked_at = now
            return self._snapshot


_holder = _SnapshotHolder()
directory = _holder.get
invalidate_directory = _holder.invalidate


def find_area(code: str) -> AreaRef | None:
    return directory().area(code)


def get_area(code: str) -> AreaRef:
    area = directory().area(code)
    if area is None:
        raise Unprocessable("unknown_area", errors={"area_code": [f"unknown area '{code}'"]})
    return area


def get_field(code: str) -> Ref:
    field = directory().field(code)
    if field is None:
        raise Unprocessable("unknown_category", errors={"category": [f"unknown category '{code}'"]})
    return field


def directory_version() -> int:
    return directory().version
