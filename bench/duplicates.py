"""Precision and recall of the "likely duplicates" suggestions on a hand-labelled sample; prints figures, asserts nothing.

The sample (bench/duplicates_sample.csv, columns cluster,category,area,text) groups reports into clusters: reports in
one cluster describe the same real-world problem, so every pair of them is a true duplicate; any other pair is not.
Candidate pairs are the ones the product would compare when an item has no GPS point: same category AND same area
(the 30-day / open-status filters are assumed to hold for the whole sample). Each pair is scored with the product's
pool_similarity (the same scoring likely_duplicates() uses) and suggested when score >= threshold (MIN_SCORE).

Run from the repo root: .venv/bin/python bench/duplicates.py [--sample PATH]
The last stdout line is one JSON object with the figures.

.venv/bin/python bench/duplicates.py --cost: what scoring costs instead, on the load's texts (bench/load.py's 6,000
submissions from ../shared/data): the memory a cached text takes, and an officer's detail view scoring 200
candidates drawn from them, timed once every text has been seen (best of 5 rounds of 50 pools).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from itertools import combinations
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from feedback_app.services.duplicates import MIN_SCORE, pool_similarity  # noqa: E402

SAMPLE = Path(__file__).resolve().with_name("duplicates_sample.csv")
SWEEP = [round(0.2 + 0.05 * i, 2) for i in range(13)]  # 0.20 .. 0.80
TARGET_PRECISION = 0.9


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [row for row in csv.DictReader(fh)]


def candidate_pairs(items: list[dict]) -> list[tuple[int, int, float, bool]]:
    """(i, j, score, is_duplicate) for every unordered pair in the same category and area."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for idx, item in enumerate(items):
        groups[(item["category"], item["area"])].append(idx)
    pairs = []
    for members in groups.values():
        # The pool the product scores within: an item and its same-field, same-area candidates.
        similarity = pool_similarity([items[k]["text"] for k in members])
        for (a, i), (b, j) in combinations(enumerate(members), 2):
            score = similarity(a, b)
            pairs.append((i, j, score, items[i]["cluster"] == items[j]["cluster"]))
    return pairs


def ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def at_threshold(items: list[dict], pairs: list[tuple[int, int, float, bool]], threshold: float) -> dict:
    true_pairs = sum(1 for *_, dup in pairs if dup)
    suggested = [(i, j, s, dup) for i, j, s, dup in pairs if s >= threshold]
    hits = sum(1 for *_, dup in suggested if dup)
    # Top-1: for each item with at least one suggestion, is its best-scoring candidate a true duplicate?
    best: dict[int, tuple[float, bool]] = {}
    for i, j, s, dup in suggested:
        for me in (i, j):
            if me not in best or s > best[me][0]:
                best[me] = (s, dup)
    top1_hits = sum(1 for _, dup in best.values() if dup)
    # Items that have at least one true duplicate among their candidates, and of those, how many get it suggested.
    has_dup = {k for i, j, _, dup in pairs if dup for k in (i, j)}
    found = {k for i, j, _, dup in suggested if dup for k in (i, j)}
    return {
        "threshold": threshold,
        "suggested_pairs": len(suggested),
        "true_positive_pairs": hits,
        "precision": ratio(hits, len(suggested)),
        "recall": ratio(hits, true_pairs),
        "items_with_suggestion": len(best),
        "top1_precision": ratio(top1_hits, len(best)),
        "items_with_a_duplicate_found": ratio(len(found), len(has_dup)),
    }


def fmt(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:.3f}"


def cost() -> None:
    import random
    import time
    import tracemalloc

    from bench.load import build_bodies
    from feedback_app.services import duplicates

    texts = [body["description"] for body in build_bodies(6000)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = [duplicates._profile.__wrapped__(text) for text in texts]
    each = (tracemalloc.get_traced_memory()[0] - before) / len(kept)
    tracemalloc.stop()
    print(f"{len(texts)} texts of {sum(map(len, texts)) / len(texts):.0f} characters on average: a cached profile "
          f"{each:.0f} bytes, its text {sum(sys.getsizeof(t) for t in texts) / len(texts):.0f} bytes; "
          f"the cache holds {duplicates.PROFILE_CACHE} texts")
    draw = random.Random(1)
    pools = [[draw.choice(texts) for _ in range(duplicates.MAX_CANDIDATES + 1)] for _ in range(50)]
    for pool in pools:
        duplicates.scores_at_least(pool, MIN_SCORE)
    rounds = []
    for _ in range(5):
        misses = duplicates._profile.cache_info().misses
        started = time.perf_counter()
        for pool in pools:
            duplicates.scores_at_least(pool, MIN_SCORE)
        rounds.append((time.perf_counter() - started) / len(pools))
        missed = duplicates._profile.cache_info().misses - misses
    print(f"scoring an item against {duplicates.MAX_CANDIDATES} candidates: {min(rounds) * 1e6:.0f} us "
          f"(best of 5 rounds; {missed / len(pools):.0f} texts a pool not in the cache in the last round)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=SAMPLE)
    parser.add_argument("--cost", action="store_true", help="memory and time of scoring instead of its precision")
    args = parser.parse_args()
    if args.cost:
        return cost()

    items = load(args.sample)
    pairs = candidate_pairs(items)
    clusters = defaultdict(int)
    for item in items:
        clusters[item["cluster"]] += 1
    true_pairs = sum(1 for *_, dup in pairs if dup)
    cross_cell_dups = sum(n * (n - 1) // 2 for n in clusters.values()) - true_pairs

    print(f"sample: {args.sample.relative_to(REPO_ROOT) if args.sample.is_relative_to(REPO_ROOT) else args.sample}")
    print(f"items: {len(items)}  clusters: {len(clusters)} "
          f"(multi-report {sum(1 for n in clusters.values() if n > 1)}, singletons {sum(1 for n in clusters.values() if n == 1)})  "
          f"category/area cells: {len({(i['category'], i['area']) for i in items})}")
    print(f"candidate pairs (same category and area): {len(pairs)}  true duplicate pairs: {true_pairs}  "
          f"non-duplicate pairs: {len(pairs) - true_pairs}")
    if cross_cell_dups:
        print(f"warning: {cross_cell_dups} duplicate pairs span different category/area and are never candidates")

    product = at_threshold(items, pairs, MIN_SCORE)
    print()
    print(f"at the product's MIN_SCORE = {MIN_SCORE}:")
    print(f"  suggestions made (pairs): {product['suggested_pairs']}  of which true duplicates: {product['true_positive_pairs']}")
    print(f"  precision: {fmt(product['precision'])}  recall: {fmt(product['recall'])}")
    print(f"  top-1 precision: {fmt(product['top1_precision'])} over {product['items_with_suggestion']} items with a suggestion")
    print(f"  items having a true duplicate that get at least one suggested: {fmt(product['items_with_a_duplicate_found'])}")

    sweep = [at_threshold(items, pairs, t) for t in SWEEP]
    print()
    print("threshold  suggested  true_pos  precision  recall  top1_prec  items_w_sugg")
    for row in sweep:
        print(f"   {row['threshold']:.2f}    {row['suggested_pairs']:7d}  {row['true_positive_pairs']:8d}    "
              f"{fmt(row['precision'])}   {fmt(row['recall'])}      {fmt(row['top1_precision'])}  {row['items_with_suggestion']:12d}")

    eligible = [r for r in sweep if r["precision"] is not None and r["precision"] >= TARGET_PRECISION]
    recommended = max(eligible, key=lambda r: (r["recall"], -r["threshold"])) if eligible else None
    print()
    if recommended:
        print(f"best-recall swept threshold with precision >= {TARGET_PRECISION}: {recommended['threshold']:.2f} "
              f"(precision {fmt(recommended['precision'])}, recall {fmt(recommended['recall'])})")
    else:
        print(f"no swept threshold reaches precision {TARGET_PRECISION}")

    # Highest-scoring non-duplicates and lowest-scoring duplicates, to see what the score gets wrong.
    print()
    print("highest-scoring non-duplicate pairs:")
    for i, j, s, _ in sorted((p for p in pairs if not p[3]), key=lambda p: -p[2])[:5]:
        print(f"  {s:.3f}  [{items[i]['cluster']}] {items[i]['text'][:70]!r}\n         [{items[j]['cluster']}] {items[j]['text'][:70]!r}")
    print("lowest-scoring true duplicate pairs:")
    for i, j, s, _ in sorted((p for p in pairs if p[3]), key=lambda p: p[2])[:5]:
        print(f"  {s:.3f}  [{items[i]['cluster']}] {items[i]['text'][:70]!r}\n         [{items[j]['cluster']}] {items[j]['text'][:70]!r}")

    print()
    print(json.dumps({
        "items": len(items),
        "candidate_pairs": len(pairs),
        "true_duplicate_pairs": true_pairs,
        "min_score": MIN_SCORE,
        "at_min_score": product,
        "sweep": sweep,
        "target_precision": TARGET_PRECISION,
        "recommended_threshold": recommended["threshold"] if recommended else None,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
