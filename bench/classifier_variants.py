"""Structural variants of the classifier on the benchmark's time splits; prints figures, asserts nothing.

Issue #3 asks for more than the linear pipeline reaches (bench/classifier.py).
This script measures the ideas that change its structure rather than its
settings, on the same splits as bench/classifier.py (Járókelő: train to
2024-12-31, test 2025-01..03; SeeClickFix: first 80% by date vs the rest), so
that the next attempt can start from numbers instead of repeating them. Every
variant uses the same features (classifier.features.FeedbackVectorizer with
the model's settings) unless it says otherwise, and one set of settings for
every dataset.

Columns: accuracy, macro-F1 (over the labels present in the test rows), and
coverage at precision 0.95 with the best cut on the test rows (the upper bound
of what a threshold chosen in training can route).

    .venv/bin/python bench/classifier_variants.py [--data-dir ../shared/data] [--only jarokelo|seeclickfix|institution|thresholds|recency|ceiling]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from classifier import join_fields, normalize_text, strip_diacritics  # noqa: E402
from classifier.evaluation import choose_threshold  # noqa: E402
from classifier.features import FeedbackVectorizer  # noqa: E402
from classifier.model import CALIBRATION_FOLDS, CHAR_NGRAMS, MIN_DF, SEED, SVM_C  # noqa: E402

TARGET_PRECISION = 0.95


def say(message: str = "") -> None:
    print(message, flush=True)


def load_bench():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_classifier", REPO_ROOT / "bench" / "classifier.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- the splits of bench/classifier.py --------------------------------------------------

def jarokelo_split(bench, data_dir: Path, label: str):
    rows = bench.read_csv(data_dir / bench.JAROKELO)
    train = [r for r in rows if r["date"] <= "2024-12-31"]
    test = [r for r in rows if "2025-01-01" <= r["date"] <= "2025-03-31"]
    if label == "institution":
        counts = Counter(r["institution"] for r in train)
        train = [r for r in train if counts[r["institution"]] >= 50]
        test = [r for r in test if counts[r["institution"]] >= 50]
    text = lambda r: join_fields(r["title"], r["description"])  # noqa: E731
    return (
        [text(r) for r in train], [r[label] for r in train], [r["district"] or None for r in train],
        [text(r) for r in test], [r[label] for r in test], [r["district"] or None for r in test],
    )


def seeclickfix_split(bench, data_dir: Path):
    rows = bench.read_csv(data_dir / bench.SEECLICKFIX)
    rows = [r for r in rows if r["text"].strip() and r["type_large"].strip()]
    rows.sort(key=lambda r: bench._seeclickfix_date(r["created_at"]))
    cut = int(len(rows) * 0.8)
    train, test = rows[:cut], rows[cut:]
    counts = Counter(r["type_large"] for r in train)
    train = [r for r in train if counts[r["type_large"]] >= 2]
    city = lambda r: r["city"].strip() or None  # noqa: E731
    return (
        [r["text"] for r in train], [r["type_large"] for r in train], [city(r) for r in train],
        [r["text"] for r in test], [r["type_large"] for r in test], [city(r) for r in test],
    )


# ---- building blocks ----------------------------------------------------------------------

def svm(class_weight=None, C=SVM_C):
    return LinearSVC(C=C, class_weight=class_weight, random_state=SEED)


def calibrated(estimator, method="sigmoid", ensemble=True, folds=CALIBRATION_FOLDS):
    return CalibratedClassifierCV(
        estimator, method=method, ensemble=ensemble,
        cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED),
    )


def features(train_texts, train_areas, test_texts, test_areas):
    vectorizer = FeedbackVectorizer(min_df=MIN_DF, char_ngram_range=CHAR_NGRAMS)
    return (
        vectorizer.fit_transform(list(zip(train_texts, train_areas))),
        vectorizer.transform(list(zip(test_texts, test_areas))),
    )


def title_block(train_texts, test_texts):
    """The first field (the title, see join_fields) as its own word + character block."""
    first = lambda t: t.split("\n", 1)[0] if "\n" in t else ""  # noqa: E731
    vectorizer = FeedbackVectorizer(min_df=MIN_DF, char_ngram_range=CHAR_NGRAMS, block_weights={"a": 0.0})
    return (
        vectorizer.fit_transform([(first(t), None) for t in train_texts]),
        vectorizer.transform([(first(t), None) for t in test_texts]),
    )


def area_word_block(train_texts, train_areas, test_texts, test_areas):
    """area x diacritic-free word interactions (TF-IDF, sublinear, min_df 5)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    def analyse(doc):
        text, area = doc
        words = strip_diacritics(normalize_text(text)).split()
        return [f"{area or '-'}|{w}" for w in words]

    vectorizer = TfidfVectorizer(analyzer=analyse, min_df=MIN_DF, sublinear_tf=True)
    return (
        vectorizer.fit_transform(list(zip(train_texts, train_areas))),
        vectorizer.transform(list(zip(test_texts, test_areas))),
    )


# ---- variants -------------------------------------------------------------------------------

def run_variants(name, split, variants):
    train_texts, y, train_areas, test_texts, truth, test_areas = split
    y = np.asarray(y, dtype=object)
    truth = np.asarray(truth, dtype=object)
    present = sorted(set(truth.tolist()))
    say(f"\n== {name}: train {len(y)}, test {len(truth)}")
    say(f"  {'variant':<66} {'accuracy':>9} {'macro-F1':>9} {'coverage':>9} {'s':>5}")
    X, Xt = features(train_texts, train_areas, test_texts, test_areas)
    context = {"X": X, "Xt": Xt, "y": y, "texts": (train_texts, test_texts), "areas": (train_areas, test_areas)}
    for label, make in variants:
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            classes, proba = make(context)
        predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
        correct = predicted == truth
        coverage = choose_threshold(proba.max(axis=1), correct, TARGET_PRECISION)[1]
        say(
            f"  {label:<66} {accuracy_score(truth, predicted):>9.3f} "
            f"{f1_score(truth, predicted, labels=present, average='macro', zero_division=0):>9.3f} "
            f"{coverage:>9.3f} {time.perf_counter() - started:>5.0f}"
        )


def fitted(model, X, y, Xt):
    model.fit(X, y)
    return model.classes_, model.predict_proba(Xt)


def v_current(c):
    return fitted(calibrated(svm()), c["X"], c["y"], c["Xt"])


def v_balanced(c):
    return fitted(calibrated(svm("balanced")), c["X"], c["y"], c["Xt"])


def v_balanced_temperature(c):
    return fitted(calibrated(svm("balanced"), method="temperature"), c["X"], c["y"], c["Xt"])


def v_one_svm(c):
    return fitted(calibrated(svm(), ensemble=False), c["X"], c["y"], c["Xt"])


def v_five_folds(c):
    return fitted(calibrated(svm(), folds=5), c["X"], c["y"], c["Xt"])


def v_title(c):
    T, Tt = title_block(*c["texts"])
    return fitted(calibrated(svm()), sp.hstack([c["X"], 0.3 * T]).tocsr(), c["y"], sp.hstack([c["Xt"], 0.3 * Tt]).tocsr())


def v_area_words(c):
    A, At = area_word_block(c["texts"][0], c["areas"][0], c["texts"][1], c["areas"][1])
    return fitted(calibrated(svm()), sp.hstack([c["X"], 0.5 * A]).tocsr(), c["y"], sp.hstack([c["Xt"], 0.5 * At]).tocsr())


def v_prior_corrected(c):
    """Calibrated probabilities divided by the training prior ** 0.5 (a softer 'balanced')."""
    classes, proba = v_current(c)
    counts = Counter(c["y"].tolist())
    prior = np.array([counts[k] for k in classes], dtype=float) / len(c["y"])
    proba = proba / prior**0.5
    return classes, proba / proba.sum(axis=1, keepdims=True)


def v_noise_filtered(c):
    """Confident learning: drop training rows whose label an out-of-fold SVM rejects by a margin >= 1."""
    X, y = c["X"], c["y"]
    classes = np.unique(y)
    decision = cross_val_predict(svm(), X, y, method="decision_function",
                                 cv=StratifiedKFold(n_splits=4, shuffle=True, random_state=SEED))
    given = decision[np.arange(len(y)), np.searchsorted(classes, y)]
    keep = decision.max(axis=1) - given < 1.0
    return fitted(calibrated(svm()), X[keep], y[keep], c["Xt"])


def v_with_sgd(c):
    """Soft vote: 0.7 x calibrated SVM + 0.3 x calibrated modified-Huber SGD."""
    classes, proba = v_current(c)
    _, other = fitted(calibrated(SGDClassifier(loss="modified_huber", alpha=2e-5, random_state=SEED)),
                      c["X"], c["y"], c["Xt"])
    return classes, 0.7 * proba + 0.3 * other


def v_complement_nb(c):
    """Complement naive Bayes alone (the 'second opinion'), calibrated the same way."""
    return fitted(calibrated(ComplementNB(alpha=0.3)), c["X"], c["y"], c["Xt"])


def v_area_stack(c):
    """A second stage over the text model's out-of-fold SVM scores: the scores, the scores x area one-hot
    (which label a text like this goes to in this area) and the area, into a logistic regression (C=0.3)."""
    train_areas, test_areas = c["areas"]
    names = sorted({a or "-" for a in train_areas})
    column = {a: i for i, a in enumerate(names)}

    def block(scores, areas):
        n, k = scores.shape
        at = np.asarray([column.get(a or "-", -1) for a in areas])
        known = at >= 0
        rows = np.repeat(np.arange(n)[known], k)
        cols = (at[known][:, None] * k + np.arange(k)[None, :]).ravel()
        cross = sp.csr_matrix((scores[known].ravel(), (rows, cols)), shape=(n, k * len(names)))
        onehot = sp.csr_matrix((np.ones(known.sum()), (np.arange(n)[known], at[known])), shape=(n, len(names)))
        return sp.hstack([sp.csr_matrix(scores), cross, onehot]).tocsr()

    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    oof = cross_val_predict(svm(), c["X"], c["y"], cv=folds, method="decision_function")
    text_model = svm().fit(c["X"], c["y"])
    stage = LogisticRegression(C=0.3, max_iter=2000).fit(block(oof, train_areas), c["y"])
    return stage.classes_, stage.predict_proba(block(text_model.decision_function(c["Xt"]), test_areas))


VARIANTS = [
    ("current: CalibratedClassifierCV(LinearSVC C=0.3, sigmoid, 3 folds)", v_current),
    ("class_weight=balanced (sigmoid)", v_balanced),
    ("class_weight=balanced, temperature calibration", v_balanced_temperature),
    ("one SVM on all rows, calibration from 3-fold predictions", v_one_svm),
    ("5 folds, 5 calibrated SVMs averaged", v_five_folds),
    ("+ title as its own word/char block (weight 0.3)", v_title),
    ("+ area x word interactions (weight 0.5)", v_area_words),
    ("probabilities / prior ** 0.5", v_prior_corrected),
    ("label-noise filtering (out-of-fold margin >= 1 dropped)", v_noise_filtered),
    ("soft vote with calibrated modified-Huber SGD (0.3)", v_with_sgd),
    ("complement naive Bayes", v_complement_nb),
    ("stack: out-of-fold SVM scores, scores x area, area -> logistic (C=0.3)", v_area_stack),
]


# ---- auto-route thresholds chosen from training rows only (third round) ------------------------

def _top_two(proba):
    order = np.argsort(-proba, axis=1)
    rows = np.arange(len(proba))
    return order[:, 0], proba[rows, order[:, 0]], proba[rows, order[:, 1]]


def _report_policy(label, routed_train, correct_train, routed_test, correct_test, best=None):
    say(
        f"  {label:<60} {routed_train.mean():>6.3f} {correct_train[routed_train].mean():>6.3f} "
        f"{routed_test.mean():>6.3f} {correct_test[routed_test].mean():>6.3f} "
        + ("" if best is None else f"{best:>6.3f}")
    )


def _global_policy(label, score_train, correct_train, score_test, correct_test):
    threshold = choose_threshold(score_train, correct_train, TARGET_PRECISION)[0]
    best = choose_threshold(score_test, correct_test, TARGET_PRECISION)[1]
    _report_policy(label, score_train >= threshold, correct_train, score_test >= threshold, correct_test, best)


def _per_class_policy(label, shrink, top_train, predicted_train, correct_train, top_test, predicted_test, correct_test):
    """One threshold per predicted class, pulled towards the global one by `shrink` pseudo-rows."""
    overall = choose_threshold(top_train, correct_train, TARGET_PRECISION)[0]
    thresholds = {}
    for k in np.unique(predicted_train):
        mine = predicted_train == k
        own = choose_threshold(top_train[mine], correct_train[mine], TARGET_PRECISION)[0]
        thresholds[k] = (mine.sum() * own + shrink * overall) / (mine.sum() + shrink)
    cut = lambda predicted: np.array([thresholds.get(k, overall) for k in predicted])  # noqa: E731
    _report_policy(label, top_train >= cut(predicted_train), correct_train,
                   top_test >= cut(predicted_test), correct_test)


def run_thresholds(split):
    """Out-of-fold confidences of all training rows instead of one 20% holdout (train_model's way)."""
    from sklearn.calibration import _SigmoidCalibration
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import label_binarize

    train_texts, y, train_areas, test_texts, truth, test_areas = split
    y, truth = np.asarray(y, dtype=object), np.asarray(truth, dtype=object)
    say(f"\n== Járókelő category: auto-route thresholds from training rows only (train {len(y)}, test {len(truth)})")
    say("  columns: coverage and precision on the training rows (out of fold), the same on the test")
    say("  rows with that threshold, and the best cut on the test rows")
    X, Xt = features(train_texts, train_areas, test_texts, test_areas)
    folds = list(StratifiedKFold(n_splits=CALIBRATION_FOLDS, shuffle=True, random_state=SEED).split(X, y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        shipped = calibrated(svm()).fit(X, y)
        fold_svms = [svm().fit(X[fit_rows], y[fit_rows]) for fit_rows, _ in folds]
        full_svm = svm().fit(X, y)
    classes = shipped.classes_

    # The shipped ensemble: each calibrated member scores the fold it was calibrated on.
    oof = np.zeros((len(y), len(classes)))
    for (_, held), member in zip(folds, shipped.calibrated_classifiers_):
        oof[held] = member.predict_proba(X[held])
    label_train, top_train, _ = _top_two(oof)
    label_test, top_test, _ = _top_two(shipped.predict_proba(Xt))
    _global_policy("shipped 3-member ensemble, from the members' out-of-fold",
                   top_train, classes[label_train] == y, top_test, classes[label_test] == truth)

    # One SVM on all rows calibrated on 3-fold decisions: its out-of-fold probabilities
    # are the same kind of number as its probabilities on new rows.
    decision = np.zeros((len(y), len(classes)))
    for (_, held), model in zip(folds, fold_svms):
        decision[held] = model.decision_function(X[held])
    binary = label_binarize(y, classes=classes)
    calibrators = [_SigmoidCalibration().fit(decision[:, k], binary[:, k]) for k in range(len(classes))]

    def probabilities(values):
        proba = np.column_stack([c.predict(values[:, k]) for k, c in enumerate(calibrators)])
        return proba / proba.sum(axis=1, keepdims=True)

    label_train, top_train, second_train = _top_two(probabilities(decision))
    label_test, top_test, second_test = _top_two(probabilities(full_svm.decision_function(Xt)))
    correct_train, correct_test = classes[label_train] == y, classes[label_test] == truth
    _global_policy("one SVM (3-fold calibration), top probability", top_train, correct_train, top_test, correct_test)
    _global_policy("one SVM, margin top - second", top_train - second_train, correct_train,
                   top_test - second_test, correct_test)
    for shrink in (0, 200, 1000):
        _per_class_policy(f"one SVM, per-class thresholds, shrinkage {shrink} rows", shrink, top_train,
                          label_train, correct_train, top_test, label_test, correct_test)

    def correctness_features(top, second, label):
        logit = lambda p: np.log(np.clip(p, 1e-6, 1 - 1e-6) / np.clip(1 - p, 1e-6, 1))  # noqa: E731
        onehot = (label[:, None] == np.arange(len(classes))[None, :]).astype(float)
        return np.column_stack([logit(top), logit(second), onehot, onehot * logit(top)[:, None]])

    correctness = LogisticRegression(C=1.0, max_iter=2000).fit(
        correctness_features(top_train, second_train, label_train), correct_train
    )
    _global_policy("one SVM, logistic P(correct | top, second, class)",
                   correctness.predict_proba(correctness_features(top_train, second_train, label_train))[:, 1],
                   correct_train,
                   correctness.predict_proba(correctness_features(top_test, second_test, label_test))[:, 1],
                   correct_test)


def run_recency(bench, data_dir: Path):
    """Training rows weighted by exp(-age / tau), age in days before the first test day; plain LinearSVC."""
    from datetime import date

    rows = bench.read_csv(data_dir / bench.JAROKELO)
    train = [r for r in rows if r["date"] <= "2024-12-31"]
    test = [r for r in rows if "2025-01-01" <= r["date"] <= "2025-03-31"]
    text = lambda r: join_fields(r["title"], r["description"])  # noqa: E731
    X, Xt = features([text(r) for r in train], [r["district"] or None for r in train],
                     [text(r) for r in test], [r["district"] or None for r in test])
    y = np.array([r["category"] for r in train], dtype=object)
    truth = np.array([r["category"] for r in test], dtype=object)
    age = np.array([(date(2025, 1, 1) - date.fromisoformat(r["date"][:10])).days for r in train], dtype=float)
    say(f"\n== Járókelő category: recency-weighted training rows (plain LinearSVC C={SVM_C})")
    for tau in (None, 90, 180, 365, 730):
        weight = None if tau is None else np.exp(-age / tau)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            predicted = svm().fit(X, y, sample_weight=None if weight is None else weight / weight.mean()).predict(Xt)
        say(f"  tau {'none' if tau is None else f'{tau} days':<10} accuracy {accuracy_score(truth, predicted):.3f} "
            f"macro-F1 {f1_score(truth, predicted, average='macro', zero_division=0):.3f}")


# ---- the data's own ceiling --------------------------------------------------------------------

def _shipped_scores(split) -> tuple[float, float, np.ndarray, np.ndarray]:
    """The shipped pipeline on `split`: accuracy, macro-F1 (labels present in the test rows), predictions, truth."""
    train_texts, y, train_areas, test_texts, truth, test_areas = split
    X, Xt = features(train_texts, train_areas, test_texts, test_areas)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        classes, proba = v_current({"X": X, "Xt": Xt, "y": np.asarray(y, dtype=object)})
    predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    truth = np.asarray(truth, dtype=object)
    present = sorted(set(truth.tolist()))
    return (accuracy_score(truth, predicted), f1_score(truth, predicted, labels=present, average="macro",
                                                       zero_division=0), predicted, truth)


def _random_split(split, seed: int):
    """The same rows, pooled and split 80/20 at random (stratified): training and test rows of one period."""
    from sklearn.model_selection import train_test_split

    texts, labels, areas = (list(split[0]) + list(split[3]), list(split[1]) + list(split[4]),
                            list(split[2]) + list(split[5]))
    counts = Counter(labels)
    keep = [i for i, label in enumerate(labels) if counts[label] >= 2]  # stratifying needs two of each
    train, test = train_test_split(keep, test_size=0.2, stratify=[labels[i] for i in keep], random_state=seed)
    pick = lambda values, rows: [values[i] for i in rows]  # noqa: E731
    return (pick(texts, train), pick(labels, train), pick(areas, train),
            pick(texts, test), pick(labels, test), pick(areas, test))


def _near_duplicates(split, thresholds=(0.8, 0.9, 0.95)) -> None:
    """Test rows whose nearest training row (cosine on the shipped features) is at least this similar, and how
    often the two carry different labels: the labels' own disagreement, which no model of the text removes."""
    train_texts, y, train_areas, test_texts, truth, test_areas = split
    X, Xt = features(train_texts, train_areas, test_texts, test_areas)
    y, truth = np.asarray(y, dtype=object), np.asarray(truth, dtype=object)
    norms = lambda M: np.sqrt(np.asarray(M.multiply(M).sum(axis=1)).ravel()) + 1e-12  # noqa: E731
    Xn, Xtn = sp.diags(1 / norms(X)) @ X, sp.diags(1 / norms(Xt)) @ Xt
    nearest, cosine = np.zeros(Xt.shape[0], dtype=int), np.zeros(Xt.shape[0])
    for start in range(0, Xt.shape[0], 1000):
        similarity = (Xtn[start:start + 1000] @ Xn.T).toarray()
        nearest[start:start + 1000] = similarity.argmax(axis=1)
        cosine[start:start + 1000] = similarity.max(axis=1)
    for threshold in thresholds:
        close = cosine >= threshold
        differs = (y[nearest[close]] != truth[close]).mean() if close.any() else float("nan")
        say(f"  nearest training row at cosine >= {threshold}: {close.mean():.3f} of the test rows; "
            f"its label differs in {differs:.3f} of them")


def run_ceiling(bench, data_dir: Path) -> None:
    """Are the targets within what the data allows? The shipped pipeline on a random split of the same rows
    (no drift between training and test), the labels' disagreement between near-identical texts, and how
    much a test set of this size moves macro-F1 (bootstrap over the test rows)."""
    splits = {"Járókelő category": jarokelo_split(bench, data_dir, "category"),
              "SeeClickFix type_large": seeclickfix_split(bench, data_dir)}
    for name, split in splits.items():
        say(f"\n== {name}")
        accuracy, macro, predicted, truth = _shipped_scores(split)
        say(f"  time split (as bench/classifier.py): accuracy {accuracy:.3f}, macro-F1 {macro:.3f}")
        rng = np.random.default_rng(SEED)
        samples = []
        for _ in range(500):
            rows = rng.integers(0, len(truth), len(truth))
            present = sorted(set(truth[rows].tolist()))
            samples.append(f1_score(truth[rows], predicted[rows], labels=present, average="macro", zero_division=0))
        say(f"  its macro-F1 over 500 bootstrap samples of the test rows: 95% between "
            f"{np.percentile(samples, 2.5):.3f} and {np.percentile(samples, 97.5):.3f}")
        for seed in (0, 1, 2):
            accuracy, macro, _, _ = _shipped_scores(_random_split(split, seed))
            say(f"  random 80/20 of the same rows, seed {seed}: accuracy {accuracy:.3f}, macro-F1 {macro:.3f}")
        _near_duplicates(split)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--only", choices=["jarokelo", "seeclickfix", "institution", "thresholds", "recency", "ceiling"],
                        action="append")
    args = parser.parse_args()
    bench = load_bench()
    parts = args.only or ["seeclickfix", "jarokelo"]
    started = time.perf_counter()
    for part in parts:
        if part == "seeclickfix":
            run_variants("SeeClickFix text -> type_large", seeclickfix_split(bench, args.data_dir), VARIANTS)
        elif part == "jarokelo":
            run_variants("Járókelő category", jarokelo_split(bench, args.data_dir, "category"), VARIANTS)
        elif part == "institution":
            run_variants("Járókelő institution (>= 50 training rows, district as area)",
                         jarokelo_split(bench, args.data_dir, "institution"),
                         [VARIANTS[0], VARIANTS[1], VARIANTS[6], VARIANTS[-1]])
        elif part == "thresholds":
            run_thresholds(jarokelo_split(bench, args.data_dir, "category"))
        elif part == "recency":
            run_recency(bench, args.data_dir)
        elif part == "ceiling":
            run_ceiling(bench, args.data_dir)
    say(f"\n(took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
