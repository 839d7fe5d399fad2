"""Likely duplicates of an item: open, same field, nearby (radius or same area), recent, and close in wording."""
from __future__ import annotations

import math
import re
from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import FeedbackItem, Field
from feedback_app.models.feedback import OPEN_STATUSES
from feedback_app.services.directory import fold

RECENT = timedelta(days=30)
MIN_SCORE = 0.35
MAX_CANDIDATES = 200


def _shingles(text: str) -> Counter:
    """Character 3-grams of the folded words: robust to diacritics, typos and word order."""
    words = re.findall(r"[a-z0-9]+", fold(text))
    joined = " ".join(w for w in words if len(w) > 1)
    return Counter(joined[i:i + 3] for i in range(max(0, len(joined) - 2)))


def text_similarity(a: str, b: str) -> float:
    sa_, sb = _shingles(a), _shingles(b)
    if not sa_ or not sb:
        return 0.0
    dot = sum(count * sb[gram] for gram, count in sa_.items() if gram in sb)
    return dot / (math.sqrt(sum(v * v for v in sa_.values())) * math.sqrt(sum(v * v for v in sb.values())))


def _metres(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 12_742_000 * math.asin(math.sqrt(a))


def likely_duplicates(item: FeedbackItem, *, limit: int = 5) -> list[tuple[FeedbackItem, float]]:
    """Scored candidates, best first; the score is the text similarity, 0..1."""
    if item.category_id is None:
        return []
    radius = db.session.scalar(sa.select(Field.dedup_radius_m).where(Field.id == item.category_id)) or 200
    query = sa.select(FeedbackItem).where(
        FeedbackItem.id != item.id,
        FeedbackItem.category_id == item.category_id,
        FeedbackItem.status.in_(OPEN_STATUSES),
        FeedbackItem.created_at >= item.created_at - RECENT,
        FeedbackItem.merged_into_id.is_(None),
    )
    if item.lat is not None and item.lon is not None:
        # A bounding box the index can use, then the exact distance.
        dlat = radius / 111_320
        dlon = radius / (111_320 * max(0.1, math.cos(math.radians(item.lat))))
        query = query.where(FeedbackItem.lat.between(item.lat - dlat, item.lat + dlat),
                            FeedbackItem.lon.between(item.lon - dlon, item.lon + dlon))
    elif item.area_id is not None:
        query = query.where(FeedbackItem.area_id == item.area_id)
    else:
        return []
    candidates = db.session.scalars(query.order_by(FeedbackItem.created_at.desc()).limit(MAX_CANDIDATES)).all()
    text = f"{item.title or ''} {item.description}"
    scored = []
    for other in candidates:
        if item.lat is not None and other.lat is not None and _metres(item.lat, item.lon, other.lat, other.lon) > radius:
            continue
        score = text_similarity(text, f"{other.title or ''} {other.description}")
        if score >= MIN_SCORE:
            scored.append((other, round(score, 3)))
    scored.sort(key=lambda pair: -pair[1])
    return scored[:limit]
