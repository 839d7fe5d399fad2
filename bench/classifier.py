"""Benchmark of the classifier against plain TF-IDF baselines on real datasets; prints figures, asserts nothing."""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import random
import sys
import tempfile
import time
import warnings
from collections import Counter
from datetime import datetime
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_union
from sklearn.preprocessing import OneHotEncoder
from sklearn.svm import LinearSVC

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from classifier import join_fields, load_model, strip_diacritics, train_model  # noqa: E402
from classifier.evaluation import choose_threshold  # noqa: E402

JAROKELO = "jarokelo_budapest_2023-11_2025-03.csv"
SEECLICKFIX = "seeclickfix_georgia_2013.csv"
CFPB = "cfpb_complaints_sample.csv"
SEED_CORPUS = REPO_ROOT / "classifier" / "seed" / "seed_vi.csv"
TARGET_PRECISION = 0.95
SPLIT_SEED = 0

SKIP_BASELINES = False  # --no-baselines
results: dict[str, dict] = {}
# The Járókelő category model (trained to 2024-12-31) and its 2025 test texts, for
# measuring speed on texts the model has never seen.
held_out_model: dict[str, tuple] = {}
targets: list[tuple[str, str, float, float | None, bool | None]] = []


def say(message: str = "") -> None:
    print(message, flush=True)


def read_csv(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(2**31 - 1)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def check(name: str, value: float | None, op: str, goal: float) -> None:
    reached = None if value is None else (value >= goal if op == ">=" else value <= goal)
    targets.append((name, op, goal, value, reached))


# ---- the plain baselines --------------------------------------------------------------

def baseline_features():
    return make_union(
        TfidfVectorizer(ngram_range=(1, 2)),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)),
    )


def baseline(train_texts, train_labels, test_texts, train_areas=None, test_areas=None, logistic=False):
    """TF-IDF words 1-2 + char_wb 2-5, LinearSVC C=0.5 (and optionally logistic regression)."""
    if SKIP_BASELINES:
        return dict.fromkeys(("svm_predicted", "svm_seconds", "lr_predicted", "lr_confidence", "lr_seconds"))
    started = time.perf_counter()
    union = baseline_features()
    x_train = union.fit_transform(train_texts)
    x_test = union.transform(test_texts)
    if train_areas is not None:
        encoder = OneHotEncoder(handle_unknown="ignore")
        x_train = sp.hstack([x_train, encoder.fit_transform(np.array(train_areas, dtype=object)[:, None])]).tocsr()
        x_test = sp.hstack([x_test, encoder.transform(np.array(test_areas, dtype=object)[:, None])]).tocsr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        svm = LinearSVC(C=0.5, random_state=SPLIT_SEED).fit(x_train, train_labels)
    out = {"svm_predicted": svm.predict(x_test), "svm_seconds": time.perf_counter() - started}
    if logistic:
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            lr = LogisticRegression(C=10.0, max_iter=300).fit(x_train, train_labels)
        proba = lr.predict_proba(x_test)
        out["lr_predicted"] = lr.classes_[proba.argmax(axis=1)]
        out["lr_confidence"] = proba.max(axis=1)
        out["lr_seconds"] = time.perf_counter() - started
    return out


def scores(truth, predicted) -> dict:
    if predicted is None:  # baseline skipped
        return {"accuracy": None, "macro_f1": None}
    return {
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(f1_score(truth, predicted, average="macro", zero_division=0)),
    }


def oracle_coverage(confidence, predicted, truth) -> float:
    """Largest share of rows whose top confidence ranks high enough to be 95% right."""
    if confidence is None:  # baseline skipped
        return None
    correct = np.asarray(predicted) == np.asarray(truth)
    return choose_threshold(confidence, correct, TARGET_PRECISION)[1]


def ours(train_texts, train_labels, test_texts, test_labels, train_areas=None, test_areas=None):
    started = time.perf_counter()
    model = train_model(train_texts, train_labels, train_areas, target_precision=TARGET_PRECISION)
    seconds = time.perf_counter() - started
    proba = model.predict_proba(test_texts, test_areas)
    predicted = model.labels_array[proba.argmax(axis=1)]
    confidence = proba.max(axis=1)
    routed = confidence >= model.threshold
    correct = predicted == np.asarray(test_labels, dtype=object)
    return model, {
        **scores(test_labels, predicted),
        "train_seconds": seconds,
        "threshold": model.threshold,
        "coverage": float(routed.mean()),
        "precision_of_routed": float(correct[routed].mean()) if routed.any() else None,
        "oracle_coverage": oracle_coverage(confidence, predicted, test_labels),
    }


def row(name, base, mine, fmt="{:.3f}") -> None:
    show = lambda v: "-" if v is None else fmt.format(v)  # noqa: E731
    say(f"  {name:<44} {show(base):>10} {show(mine):>10}")


# ---- datasets -------------------------------------------------------------------------

def bench_jarokelo(data_dir: Path) -> None:
    rows = read_csv(data_dir / JAROKELO)
    train = [r for r in rows if r["date"] <= "2024-12-31"]
    test = [r for r in rows if "2025-01-01" <= r["date"] <= "2025-03-31"]
    text = lambda r: join_fields(r["title"], r["description"])  # noqa: E731
    say(f"\n== Járókelő: train {len(train)} rows (to 2024-12-31), test {len(test)} rows (2025-01..03)")

    tr_texts, te_texts = [text(r) for r in train], [text(r) for r in test]
    base_texts_tr = [f"{r['title']} {r['description']}" for r in train]
    base_texts_te = [f"{r['title']} {r['description']}" for r in test]
    tr_cat, te_cat = [r["category"] for r in train], [r["category"] for r in test]
    tr_area, te_area = [r["district"] or None for r in train], [r["district"] or None for r in test]

    base = baseline(base_texts_tr, tr_cat, base_texts_te, logistic=True)
    model, mine = ours(tr_texts, tr_cat, te_texts, te_cat, tr_area, te_area)
    held_out_model["category"] = (model, te_texts, te_area)
    b = scores(te_cat, base["svm_predicted"])
    lr_cov = oracle_coverage(base["lr_confidence"], base["lr_predicted"], te_cat)
    say(f"  {'category (14 fields)':<44} {'baseline':>10} {'ours':>10}")
    row("accuracy", b["accuracy"], mine["accuracy"])
    row("macro-F1", b["macro_f1"], mine["macro_f1"])
    row("LR baseline accuracy", scores(te_cat, base["lr_predicted"])["accuracy"], None)
    row("coverage at precision 0.95 (best cut on test)", lr_cov, mine["oracle_coverage"])
    row("coverage with the threshold set in training", None, mine["coverage"])
    row("  precision of those rows on test", None, mine["precision_of_routed"])
    row("  threshold", None, mine["threshold"], "{:.4f}")
    row("fit seconds (baseline: SVM / LR)", base["svm_seconds"], mine["train_seconds"], "{:.1f}")
    row("LR fit seconds", base["lr_seconds"], None, "{:.1f}")
    results["jarokelo_category"] = {"baseline_svm": b, "baseline_lr_oracle_coverage": lr_cov, "ours": mine}
    check("Járókelő category accuracy", mine["accuracy"], ">=", 0.86)
    check("Járókelő category macro-F1", mine["macro_f1"], ">=", 0.80)
    check("Járókelő auto-route coverage @0.95 (threshold from training)", mine["coverage"], ">=", 0.68)
    check("Járókelő auto-route coverage @0.95 (best cut on test)", mine["oracle_coverage"], ">=", 0.68)

    counts = Counter(r["institution"] for r in train)
    big = {name for name, n in counts.items() if n >= 50}
    itrain = [r for r in train if r["institution"] in big]
    itest = [r for r in test if r["institution"] in big]
    say(f"\n  institution: {len(big)} institutions with >= 50 training rows; "
        f"train {len(itrain)}, test {len(itest)}; district as area")
    base = baseline([f"{r['title']} {r['description']}" for r in itrain], [r["institution"] for r in itrain],
                    [f"{r['title']} {r['description']}" for r in itest],
                    [r["district"] for r in itrain], [r["district"] for r in itest])
    _, mine = ours([text(r) for r in itrain], [r["institution"] for r in itrain],
                   [text(r) for r in itest], [r["institution"] for r in itest],
                   [r["district"] or None for r in itrain], [r["district"] or None for r in itest])
    b = scores([r["institution"] for r in itest], base["svm_predicted"])
    row("institution accuracy", b["accuracy"], mine["accuracy"])
    row("institution macro-F1", b["macro_f1"], mine["macro_f1"])
    row("institution coverage at 0.95 (threshold from training)", None, mine["coverage"])
    row("  precision of those rows on test", None, mine["precision_of_routed"])
    results["jarokelo_institution"] = {"baseline_svm": b, "ours": mine}
    check("Járókelő institution accuracy (district as area)", mine["accuracy"], ">=", 0.69)


def _seeclickfix_date(value: str) -> datetime:
    try:
        return datetime.strptime(value.strip(), "%m/%d/%Y - %I:%M%p")
    except ValueError:
        return datetime.max


def bench_seeclickfix(data_dir: Path) -> None:
    rows = read_csv(data_dir / SEECLICKFIX)
    rows = [r for r in rows if r["text"].strip() and r["type_large"].strip()]
    rows.sort(key=lambda r: _seeclickfix_date(r["created_at"]))
    cut = int(len(rows) * 0.8)
    train, test = rows[:cut], rows[cut:]
    # Our trainer needs two rows per label; the baseline gets the same rows.
    counts = Counter(r["type_large"] for r in train)
    train = [r for r in train if counts[r["type_large"]] >= 2]
    say(f"\n== SeeClickFix: text -> type_large, first 80% by date ({len(train)} rows) vs the rest ({len(test)})")
    base = baseline([r["text"] for r in train], [r["type_large"] for r in train], [r["text"] for r in test])
    _, mine = ours([r["text"] for r in train], [r["type_large"] for r in train],
                   [r["text"] for r in test], [r["type_large"] for r in test],
                   [r["city"].strip() or None for r in train], [r["city"].strip() or None for r in test])
    b = scores([r["type_large"] for r in test], base["svm_predicted"])
    say(f"  {'':<44} {'baseline':>10} {'ours':>10}")
    row("accuracy", b["accuracy"], mine["accuracy"])
    row("macro-F1", b["macro_f1"], mine["macro_f1"])
    row("coverage with the threshold set in training", None, mine["coverage"])
    row("  precision of those rows on test", None, mine["precision_of_routed"])
    results["seeclickfix"] = {"baseline_svm": b, "ours": mine}
    check("SeeClickFix macro-F1", mine["macro_f1"], ">=", 0.70)


def latency(model, texts, calls: int) -> dict:
    timings = []
    gc.collect()
    for i in range(calls):
        text = texts[i % len(texts)]
        started = time.perf_counter()
        model.predict_one(text)
        timings.append(time.perf_counter() - started)
    timings.sort()
    return {
        "p50_ms": 1000 * timings[len(timings) // 2],
        "p99_ms": 1000 * timings[min(len(timings) - 1, int(len(timings) * 0.99))],
    }


def bench_cfpb(data_dir: Path) -> None:
    rows = [r for r in read_csv(data_dir / CFPB) if r["text"].strip() and r["product"].strip()]
    counts = Counter(r["product"] for r in rows)
    rows = [r for r in rows if counts[r["product"]] >= 2]
    train, test = train_test_split(rows, test_size=0.2, random_state=SPLIT_SEED,
                                   stratify=[r["product"] for r in rows])
    mean_chars = sum(len(r["text"]) for r in test) / len(test)
    say(f"\n== CFPB: text -> product, stratified 80/20 ({len(train)}/{len(test)}), "
        f"mean {mean_chars:.0f} characters per test text")
    base = baseline([r["text"] for r in train], [r["product"] for r in train], [r["text"] for r in test])
    model, mine = ours([r["text"] for r in train], [r["product"] for r in train],
                       [r["text"] for r in test], [r["product"] for r in test])
    b = scores([r["product"] for r in test], base["svm_predicted"])
    texts = [r["text"] for r in test]
    started = time.perf_counter()
    model.predict(texts)
    batch = len(texts) / (time.perf_counter() - started)
    single = latency(model, texts, 1000)
    say(f"  {'':<44} {'baseline':>10} {'ours':>10}")
    row("accuracy", b["accuracy"], mine["accuracy"])
    row("macro-F1", b["macro_f1"], mine["macro_f1"])
    row("coverage with the threshold set in training", None, mine["coverage"])
    row("  precision of those rows on test", None, mine["precision_of_routed"])
    row("fit seconds", base["svm_seconds"], mine["train_seconds"], "{:.1f}")
    row("one long text p50 ms", None, single["p50_ms"])
    row("one long text p99 ms", None, single["p99_ms"])
    row("batch of long texts, texts/s", None, batch, "{:.0f}")
    results["cfpb"] = {"baseline_svm": b, "ours": mine, "latency": single, "batch_texts_per_s": batch}


def bench_seed() -> None:
    if not SEED_CORPUS.exists():
        say(f"\n== Vietnamese seed corpus: {SEED_CORPUS} not present, skipped")
        return
    rows = read_csv(SEED_CORPUS)
    texts, labels = [r["text"] for r in rows], [r["category"] for r in rows]
    tr_t, te_t, tr_l, te_l = train_test_split(texts, labels, test_size=0.25, stratify=labels,
                                              random_state=SPLIT_SEED)
    model = train_model(tr_t, tr_l)
    original = [p.label for p in model.predict(te_t)]
    bare = [p.label for p in model.predict([strip_diacritics(t) for t in te_t])]
    same = float(np.mean([a == b for a, b in zip(original, bare)]))
    with_marks = [i for i, t in enumerate(te_t) if strip_diacritics(t) != t]
    same_marked = float(np.mean([original[i] == bare[i] for i in with_marks])) if with_marks else None
    report = model.evaluate(te_t, te_l)
    say(f"\n== Vietnamese seed corpus: {len(tr_t)} training rows, {len(te_t)} held out (25%, stratified)")
    row("accuracy (held out)", None, report["accuracy"])
    row("macro-F1 (held out)", None, report["macro_f1"])
    row("accuracy of the diacritic-free copies", None, float(np.mean(np.array(bare) == np.array(te_l))))
    row("diacritic-free copy routes the same", None, same)
    row(f"  among the {len(with_marks)} texts that have diacritics", None, same_marked)
    results["seed"] = {"accuracy": report["accuracy"], "macro_f1": report["macro_f1"],
                       "same_route_without_diacritics": same, "same_among_texts_with_diacritics": same_marked}
    check("Seed: diacritic-free copy routes the same", same, ">=", 0.95)


def bench_speed(data_dir: Path) -> None:
    rows = read_csv(data_dir / JAROKELO)
    texts = [join_fields(r["title"], r["description"]) for r in rows]
    labels = [r["category"] for r in rows]
    areas = [r["district"] or None for r in rows]
    say(f"\n== Speed and size: category model trained on all {len(rows)} Járókelő rows")
    started = time.perf_counter()
    model = train_model(texts, labels, areas)
    train_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "jarokelo_category.skops"
        model.save(path)
        size_mb = path.stat().st_size / 1e6
        del model
        gc.collect()
        started = time.perf_counter()
        load_model(path)
        load_seconds = time.perf_counter() - started

    # Speed is measured on texts the model has never seen: the 2025 test texts,
    # with the model trained to 2024-12-31, freshly loaded (empty caches).
    if "category" not in held_out_model:
        train = [r for r in rows if r["date"] <= "2024-12-31"]
        test = [r for r in rows if "2025-01-01" <= r["date"] <= "2025-03-31"]
        held_out_model["category"] = (
            train_model([join_fields(r["title"], r["description"]) for r in train],
                        [r["category"] for r in train], [r["district"] or None for r in train]),
            [join_fields(r["title"], r["description"]) for r in test],
            [r["district"] or None for r in test],
        )
    trained_model, unseen_texts, unseen_areas = held_out_model["category"]
    rng = random.Random(SPLIT_SEED)
    long_texts = [t for t in unseen_texts if len(t) >= 400]
    rng.shuffle(long_texts)
    samples = [t[:400] for t in long_texts[:1000]]
    model = load_model_from_copy(trained_model)
    cold = latency(model, samples, len(samples))
    warm = latency(model, samples, 3 * len(samples))

    batch_texts, batch_areas = unseen_texts[:5000], unseen_areas[:5000]
    fresh = load_model_from_copy(trained_model)
    started = time.perf_counter()
    fresh.predict(batch_texts, batch_areas)
    batch_cold = len(batch_texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    fresh.predict(batch_texts, batch_areas)
    batch_warm = len(batch_texts) / (time.perf_counter() - started)

    say(f"  {'':<44} {'value':>10} {'target':>10}")
    say(f"  {'training on all rows, s':<44} {train_seconds:>10.1f} {'< 60':>10}")
    say(f"  {'model file, MB':<44} {size_mb:>10.1f} {'< 25':>10}")
    say(f"  {'load, s':<44} {load_seconds:>10.3f} {'< 0.5':>10}")
    say(f"  ({len(samples)} unseen 400-char texts; batch: {len(batch_texts)} unseen texts)")
    say(f"  {'one 400-char text p50 ms (first sight)':<44} {cold['p50_ms']:>10.3f} {'<= 0.7':>10}")
    say(f"  {'one 400-char text p99 ms (first sight)':<44} {cold['p99_ms']:>10.3f} {'<= 2':>10}")
    say(f"  {'one 400-char text p50 ms (3000 calls)':<44} {warm['p50_ms']:>10.3f} {'<= 0.7':>10}")
    say(f"  {'one 400-char text p99 ms (3000 calls)':<44} {warm['p99_ms']:>10.3f} {'<= 2':>10}")
    say(f"  {'batch, texts/s (first sight)':<44} {batch_cold:>10.0f} {'>= 10000':>10}")
    say(f"  {'batch, texts/s (same texts again)':<44} {batch_warm:>10.0f} {'>= 10000':>10}")
    results["speed"] = {
        "train_seconds_all_rows": train_seconds, "model_mb": size_mb, "load_seconds": load_seconds,
        "single_first_sight": cold, "single_3000_calls": warm,
        "batch_texts_per_s_first_sight": batch_cold, "batch_texts_per_s_again": batch_warm,
    }
    check("Training on ~27k Járókelő rows, s", train_seconds, "<=", 60)
    check("Model file, MB", size_mb, "<=", 25)
    check("Load, s", load_seconds, "<=", 0.5)
    check("One 400-char text p50 ms (3000 calls)", warm["p50_ms"], "<=", 0.7)
    check("One 400-char text p99 ms (3000 calls)", warm["p99_ms"], "<=", 2.0)
    check("One 400-char text p99 ms (first sight)", cold["p99_ms"], "<=", 2.0)
    check("Batch texts/s (first sight)", batch_cold, ">=", 10_000)
    check("Batch texts/s (same texts again)", batch_warm, ">=", 10_000)


def load_model_from_copy(model):
    """The same model with empty word caches, as right after loading."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "copy.skops"
        model.save(path)
        return load_model(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data",
                        help="folder with the real datasets (default: ../shared/data from the repo root)")
    parser.add_argument("--only", choices=["jarokelo", "seeclickfix", "cfpb", "seed", "speed"],
                        action="append", help="run only these parts (default: all)")
    parser.add_argument("--no-baselines", action="store_true",
                        help="skip the plain TF-IDF baselines (their columns show '-')")
    args = parser.parse_args()
    global SKIP_BASELINES
    SKIP_BASELINES = args.no_baselines
    parts = args.only or ["jarokelo", "seeclickfix", "cfpb", "seed", "speed"]
    missing = [name for name in (JAROKELO, SEECLICKFIX, CFPB) if not (args.data_dir / name).exists()]
    if missing and set(parts) - {"seed"}:
        print(f"error: {args.data_dir} lacks {', '.join(missing)}", file=sys.stderr)
        return 2
    say(f"classifier benchmark, {os.cpu_count()} cores, data from {args.data_dir}")
    started = time.perf_counter()
    for part in parts:
        if part == "jarokelo":
            bench_jarokelo(args.data_dir)
        elif part == "seeclickfix":
            bench_seeclickfix(args.data_dir)
        elif part == "cfpb":
            bench_cfpb(args.data_dir)
        elif part == "seed":
            bench_seed()
        elif part == "speed":
            bench_speed(args.data_dir)
    say("\n== Targets")
    for name, op, goal, value, reached in targets:
        state = "n/a" if reached is None else ("reached" if reached else "NOT reached")
        shown = "-" if value is None else f"{value:.3f}"
        say(f"  {name:<62} {shown:>9} {op} {goal:<7} {state}")
    say(f"\n(benchmark took {time.perf_counter() - started:.0f} s)")
    print(json.dumps({"results": results, "targets": [
        {"name": n, "op": o, "goal": g, "value": v, "reached": r} for n, o, g, v, r in targets
    ]}, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
