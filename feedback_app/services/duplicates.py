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
MIN_SCORE = 0.30
MAX_CANDIDATES = 200


NUMBER_MISMATCH = 0.5


def _shingles(text: str) -> Counter:
    """Character 3-grams of the folded words: robust to diacritics, typos and word order."""
    joined = " ".join(re.findall(r"[a-z0-9]+", fold(text)))
    return Counter(joined[i:i + 3] for i in range(max(0, len(joined) - 2)))


def _numbers(text: str) -> set[str]:
    """House, alley and hamlet numbers ("số 25", "ngõ 5", "tổ 3"): the same words with other numbers are other places."""
    return {n.lstrip("0") or "0" for n in re.findall(r"\d+", text)}


def _cosine(sa_: dict, sb: dict) -> float:
    if not sa_ or not sb:
        return 0.0
    dot = sum(weight * sb[gram] for gram, weight in sa_.items() if gram in sb)
    return dot / (math.sqrt(sum(v * v for v in sa_.values())) * math.sqrt(sum(v * v for v in sb.values())))


def _number_factor(a: str, b: str) -> float:
    na, nb = _numbers(a), _numbers(b)
    return NUMBER_MISMATCH if na and nb and not (na & nb) else 1.0


def text_similarity(a: str, b: str) -> float:
    """Two texts alone: cosine of 3-gram counts, halved when their numbers disagree."""
    return _cosine(_shingles(a), _shingles(b)) * _number_factor(a, b)


def pool_similarity(texts: list[str]):
    """Scores within a pool of reports (an item and its candidates): 3-grams every report of the pool shares
    ("đèn đường", the ward's name) weigh little, the ones that tell places and problems apart weigh much."""
    counts = [_shingles(t) for t in texts]
    df = Counter(gram for c in counts for gram in c)
    n = len(texts)
    idf = {gram: math.log((1 + n) / (1 + d)) + 1 for gram, d in df.items()}
    weighted = [{g: v * idf[g] for g, v in c.items()} for c in counts]

    def similarity(i: int, j: int) -> float:
        return _cosine(weighted[i], weighted[j]) * _number_factor(texts[i], texts[j])

    return similarity


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
    if item.lat is not None:
        candidates = [o for o in candidates
                      if o.lat is None or _metres(item.lat, item.lon, o.lat, o.lon) <= radius]
    similarity = pool_similarity([f"{x.title or ''} {x.description}" for x in [item, *candidates]])
    scored = []
    for index, other in enumerate(candidates, start=1):
        score = similarity(0, index)
        if score >= MIN_SCORE:
            scored.append((other, round(score, 3)))
    scored.sort(key=lambda pair: -pair[1])
    return scored[:limit]
