"""Reading the directory: the area a place falls in, the agency a rule names, the lists the app's form needs."""
from __future__ import annotations

import math
import re
import unicodedata

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import Agency, Area, DirectoryVersion, Field, RoutingRule
from feedback_app.services.errors import Unprocessable

LEVEL_WORDS = r"^(tinh|thanh pho|tp\.?|thi xa|tx\.?|huyen|quan|phuong|xa|thi tran|tt\.?)\s+"
MAX_NEAREST_KM = 25.0


def fold(text: str) -> str:
    """Lower case without diacritics (đ -> d): how addresses are typed on phones."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return re.sub(r"\s+", " ", text).strip().lower()


def directory_version() -> str:
    """Changes whenever the directory is loaded again: part of the directory endpoints' ETag."""
    row = db.session.scalar(sa.select(DirectoryVersion).order_by(DirectoryVersion.id.desc()).limit(1))
    return f"{row.id}-{row.sha256[:12]}" if row else "empty"


def get_field(code: str) -> Field:
    field = db.session.scalar(sa.select(Field).where(Field.code == code, Field.active.is_(True)))
    if field is None:
        raise Unprocessable("unknown_category", errors={"category": [f"unknown category '{code}'"]})
    return field


def find_area(code: str) -> Area | None:
    return db.session.scalar(sa.select(Area).where(Area.code == code))


def get_area(code: str) -> Area:
    area = db.session.scalar(sa.select(Area).where(Area.code == code))
    if area is None:
        raise Unprocessable("unknown_area", errors={"area_code": [f"unknown area '{code}'"]})
    return area


def _haversine_km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 12742.0 * math.asin(math.sqrt(a))


def area_for_point(lat: float, lon: float) -> Area | None:
    """The deepest area whose centroid is nearest: a good guess until boundary polygons are loaded."""
    leaves = db.session.scalars(
        sa.select(Area).where(Area.lat.is_not(None), Area.lon.is_not(None)).order_by(Area.depth.desc())
    ).all()
    if not leaves:
        return None
    deepest = leaves[0].depth
    best = min(
        (a for a in leaves if a.depth == deepest), key=lambda a: _haversine_km(lat, lon, a.lat, a.lon)
    )
    return best if _haversine_km(lat, lon, best.lat, best.lon) <= MAX_NEAREST_KM else None


def area_for_address(address: str) -> Area | None:
    """The most specific area whose name (without 'phường', 'huyện'...) appears in the address."""
    folded = f" {fold(address)} "
    best: Area | None = None
    for area in db.session.scalars(sa.select(Area)):
        name = re.sub(LEVEL_WORDS, "", fold(area.name_vi))
        if len(name) >= 3 and re.search(rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])", folded):
            if best is None or area.depth > best.depth:
                best = area
    return best


def agency_for(field: Field, area: Area | None) -> Agency | None:
    """The rule of the most specific area first, the province level last."""
    if area is None:
        root = db.session.scalar(sa.select(Area).where(Area.parent_id.is_(None)))
        codes = [root.code] if root else []
    else:
        codes = area.ancestor_codes
    if not codes:
        return None
    rows = db.session.execute(
        sa.select(Area.code, Agency)
        .join(RoutingRule, RoutingRule.area_id == Area.id)
        .join(Agency, Agency.id == RoutingRule.agency_id)
        .where(RoutingRule.field_id == field.id, Area.code.in_(codes), Agency.active.is_(True))
    ).all()
    by_code = {code: agency for code, agency in rows}
    for code in codes:
        if code in by_code:
            return by_code[code]
    return None
