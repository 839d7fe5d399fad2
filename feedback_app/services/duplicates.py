"""Likely duplicates of an item: open, same field, nearby (radius or same area), recent, and close in wording."""
from __future__ import annotations

import functools
import math
import re
from collections import Counter
from datetime import timedelta

import numpy as np
import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import FeedbackItem, Field
from feedback_app.models.feedback import OPEN_STATUSES
from feedback_app.services.directory import fold

RECENT = timedelta(days=30)
MIN_SCORE = 0.30
MAX_CANDIDATES = 200
# Texts whose 3-grams are kept (about 1.5 KB each with the text, 12 MB at most): the pools officers work in.
PROFILE_CACHE = 8192


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
    ("đèn đường", the ward's name) weigh little, the ones that tell places and problems apart weigh much.
    The definition; `scores_at_least` scores the detail view's item, a test holds the two equal."""
    counts = [_shingles(t) for t in texts]
    df = Counter(gram for c in counts for gram in c)
    n = len(texts)
    idf = {gram: math.log((1 + n) / (1 + d)) + 1 for gram, d in df.items()}
    weighted = [{g: v * idf[g] for g, v in c.items()} for c in counts]

    def similarity(i: int, j: int) -> float:
        return _cosine(weighted[i], weighted[j]) * _number_factor(texts[i], texts[j])

    return similarity


# A 3-gram of folded words is made of a-z, 0-9 and the space that joins words: a number below 37 ** 3.
_SYMBOLS = {c: i for i, c in enumerate("abcdefghijklmnopqrstuvwxyz0123456789 ")}
_GRAM_IDS = len(_SYMBOLS) ** 3
_CODES = bytes.maketrans("".join(_SYMBOLS).encode("ascii"), bytes(range(len(_SYMBOLS))))
_WORDS = re.compile(r"[a-z0-9]+")


@functools.lru_cache(maxsize=PROFILE_CACHE)
def _profile(text: str) -> tuple[np.ndarray, np.ndarray, frozenset[str]]:
    """A text's 3-grams (as numbers, in first-seen order), their counts and the text's numbers: what scoring
    needs of it whatever the pool: the 3-grams and counts of `_shingles`, in its order, counted in numpy.

    Folding and counting were most of a detail view's time, and a text not in the cache is the usual case
    under `bench/load.py` (6,000 texts for 4,096 places): 95 us a text with a Counter, about 50 us this way
    (folding included; the counting alone 55-77 us against 23)."""
    codes = np.frombuffer(" ".join(_WORDS.findall(fold(text))).encode("ascii").translate(_CODES), dtype=np.uint8)
    if len(codes) < 3:
        ids, tallies = np.zeros(0, dtype=np.uint16), np.zeros(0, dtype=np.uint16)
    else:
        codes = codes.astype(np.int64)
        grams = codes[:-2] * 1369 + codes[1:-1] * 37 + codes[2:]
        unique, first, counts = np.unique(grams, return_index=True, return_counts=True)
        order = np.argsort(first)  # the order in which the text first has each 3-gram, as a Counter keeps them
        # Kept small (a 3-gram's number is below 2 ** 16, a count below the text's length): 4 bytes a 3-gram
        # instead of 16. Scoring widens them to the same float64 values, so every score is the same float.
        ids, tallies = unique[order].astype(np.uint16), counts[order].astype(np.min_scalar_type(len(codes)))
    ids.flags.writeable = tallies.flags.writeable = False  # shared by every later call
    return ids, tallies, frozenset(_numbers(text))


@functools.lru_cache(maxsize=MAX_CANDIDATES + 1)
def _idf(n: int) -> np.ndarray:
    """The weight of a 3-gram found in d of a pool's n texts, by d."""
    weights = np.array([math.log((1 + n) / (1 + d)) + 1 for d in range(n + 1)])
    weights.flags.writeable = False
    return weights


def scores_at_least(texts: list[str], threshold: float) -> list[tuple[int, float]]:
    """(j, `pool_similarity(texts)(0, j)`) for every j >= 1 scoring at least `threshold` (> 0), the same floats
    bit for bit at a fraction of the cost: cached 3-grams, and the whole pool scored at once in numpy, where
    sums may round otherwise; the few candidates near or above the threshold are then scored again with
    Python's own `sum` over the same terms in the same order (text 0's 3-grams for a dot product)."""
    n = len(texts)
    profiles = [_profile(t) for t in texts]
    lengths = [len(p[0]) for p in profiles]
    first = lengths[0]
    if n < 2 or not first:
        return []  # every score is 0
    ids = np.concatenate([p[0] for p in profiles])
    # Each text holds a 3-gram once: its document frequency is the count of its occurrences in the pool.
    df = np.bincount(ids, minlength=_GRAM_IDS)
    weights = np.concatenate([p[1] for p in profiles]) * _idf(n)[df[ids]]
    owner = np.repeat(np.arange(n), lengths)
    norms = np.sqrt(np.bincount(owner, weights=weights * weights, minlength=n))
    place = np.full(_GRAM_IDS, -1, dtype=np.int64)
    place[ids[:first]] = np.arange(first)
    where = place[ids]  # each 3-gram's place in text 0, -1 for the ones text 0 lacks
    shared = np.flatnonzero(where[first:] >= 0) + first
    dots = np.bincount(owner[shared], weights=weights[shared] * weights[where[shared]], minlength=n)
    bound = np.zeros(n)  # the score without the number factor, which only lowers it
    np.divide(dots, norms[0] * norms, out=bound, where=norms > 0)
    ends = np.cumsum(lengths).tolist()
    weight0 = weights[:first]
    norm0 = math.sqrt(sum((weight0 * weight0).tolist()))
    numbers = profiles[0][2]
    scored = []
    for j in (np.flatnonzero(bound[1:] >= threshold * (1 - 1e-9)) + 1).tolist():
        mine, at = weights[ends[j - 1]:ends[j]], where[ends[j - 1]:ends[j]]
        both = at >= 0
        products = (mine[both] * weights[at[both]])[np.argsort(at[both])]
        score = sum(products.tolist()) / (norm0 * math.sqrt(sum((mine * mine).tolist())))
        other = profiles[j][2]
        if numbers and other and numbers.isdisjoint(other):
            score *= NUMBER_MISMATCH
        if score >= threshold:
            scored.append((j, score))
    return scored


def _metres(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 12_742_000 * math.asin(math.sqrt(a))


# Built once, read as plain rows: only the columns the detail view shows and scoring needs.
_ITEMS = FeedbackItem.__table__
_OPEN_OF_FIELD = sa.select(
    _ITEMS.c.id, _ITEMS.c.tracking_code, _ITEMS.c.status, _ITEMS.c.created_at, _ITEMS.c.title,
    _ITEMS.c.description, _ITEMS.c.lat, _ITEMS.c.lon,
).where(
    _ITEMS.c.id != sa.bindparam("item_id"),
    _ITEMS.c.category_id == sa.bindparam("category_id"),
    _ITEMS.c.status.in_(OPEN_STATUSES),
    _ITEMS.c.created_at >= sa.bindparam("since"),
    _ITEMS.c.merged_into_id.is_(None),
)
_NEAR = (_OPEN_OF_FIELD.where(_ITEMS.c.lat.between(sa.bindparam("lat_low"), sa.bindparam("lat_high")),
                              _ITEMS.c.lon.between(sa.bindparam("lon_low"), sa.bindparam("lon_high")))
         .order_by(_ITEMS.c.created_at.desc()).limit(MAX_CANDIDATES))
_IN_AREA = (_OPEN_OF_FIELD.where(_ITEMS.c.area_id == sa.bindparam("area_id"))
            .order_by(_ITEMS.c.created_at.desc()).limit(MAX_CANDIDATES))
_RADIUS = sa.select(Field.dedup_radius_m).where(Field.id == sa.bindparam("field_id"))


def likely_duplicates(item: FeedbackItem, *, limit: int = 5) -> list[tuple[sa.Row, float]]:
    """Scored candidates (rows with id, tracking_code, status, created_at), best first; the score is the text
    similarity, 0..1."""
    if item.category_id is None:
        return []
    params = {"item_id": item.id, "category_id": item.category_id, "since": item.created_at - RECENT}
    # The radius matters only around a point: an item placed by its area alone needs no look-up of it.
    radius = None
    if item.lat is not None:
        radius = db.session.scalar(_RADIUS, {"field_id": item.category_id}) or 200
    if item.lat is not None and item.lon is not None:
        # A bounding box the index can use, then the exact distance.
        dlat = radius / 111_320
        dlon = radius / (111_320 * max(0.1, math.cos(math.radians(item.lat))))
        query = _NEAR
        params.update(lat_low=item.lat - dlat, lat_high=item.lat + dlat, lon_low=item.lon - dlon,
                      lon_high=item.lon + dlon)
    elif item.area_id is not None:
        query = _IN_AREA
        params["area_id"] = item.area_id
    else:
        return []
    candidates = db.session.execute(query, params).all()
    if item.lat is not None:
        candidates = [o for o in candidates
                      if o.lat is None or _metres(item.lat, item.lon, o.lat, o.lon) <= radius]
    if not candidates:
        return []
    texts = [f"{x.title or ''} {x.description}" for x in [item, *candidates]]
    scored = [(candidates[j - 1], round(score, 3)) for j, score in scores_at_least(texts, MIN_SCORE)]
    scored.sort(key=lambda pair: -pair[1])
    return scored[:limit]
