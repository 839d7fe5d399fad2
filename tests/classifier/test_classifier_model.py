"""Training, prediction, evaluation and auto-route threshold of the classifier on synthetic data."""

import copy
import csv
from pathlib import Path

import numpy as np
import pytest

from classifier import ClassifierInputError, Prediction, TrainedModel, strip_diacritics, train_model
from classifier.evaluation import choose_threshold
from classifier_testdata import make_dataset


def test_train_predict_evaluate(trained, dataset):
    assert isinstance(trained, TrainedModel)
    assert trained.labels == sorted(["water", "lighting", "waste", "roads"])
    prediction = trained.predict_one("Đường ngập nước, cống thoát nước bị tắc", area="HN-01")
    assert isinstance(prediction, Prediction)
    assert prediction.label == "water"
    assert prediction.top[0] == (prediction.label, prediction.probability)
    assert len(prediction.top) == 3
    assert [p for _, p in prediction.top] == sorted((p for _, p in prediction.top), reverse=True)
    assert prediction.auto_route == (prediction.probability >= trained.threshold_for("water"))

    fresh_texts, fresh_labels, fresh_areas = make_dataset(per_label=15, seed=99)
    report = trained.evaluate(fresh_texts, fresh_labels, fresh_areas)
    assert report["n"] == len(fresh_texts)
    assert report["accuracy"] > 0.9
    assert report["macro_f1"] > 0.9
    assert set(report["auto_route"]) >= {"threshold", "coverage", "precision"}
    assert set(report["per_class"]) == set(trained.labels)
    assert report["per_class"]["water"]["support"] == 15


def test_predictions_come_in_input_order(trained):
    texts = ["bóng đèn cháy, cột đèn", "rác thải bãi rác", "ổ gà mặt đường hư hỏng"]
    labels = [p.label for p in trained.predict(texts, k=2)]
    assert labels == ["lighting", "waste", "roads"]
    assert all(len(p.top) == 2 for p in trained.predict(texts, k=2))


def test_text_without_diacritics_routes_like_with_them(trained):
    with_marks = trained.predict_one("Đường ngập nước, cống thoát nước")
    without = trained.predict_one("duong ngap nuoc, cong thoat nuoc")
    assert with_marks.label == without.label == "water"


def test_fast_path_equals_pipeline(trained):
    texts = [
        "Đường ngập nước, cống thoát nước bị tắc",
        "street light out near the school",
        "a lámpa nem ég a ház előtt",
        "",
        "zzz qqq unseen words only",
        "Liên hệ 0912 345 678, https://example.com",
    ]
    for area in ("HN-01", "never-seen-area", None):
        areas = [area] * len(texts)
        batch = trained.pipeline.predict_proba([(t, area) for t in texts])
        via_model = trained.predict_proba(texts, areas)
        fast = np.vstack([trained.predict_proba_one(t, area) for t in texts])
        np.testing.assert_allclose(fast, batch, rtol=0, atol=1e-12)
        np.testing.assert_allclose(via_model, batch, rtol=0, atol=1e-12)
        np.testing.assert_allclose(fast.sum(axis=1), 1.0, atol=1e-9)


def test_area_feature_is_used():
    texts, labels, _ = make_dataset(per_label=30, seed=3)
    # The label here is decided by the area alone: the text cannot tell.
    areas = ["north" if i % 2 else "south" for i in range(len(texts))]
    by_area = ["north-agency" if a == "north" else "south-agency" for a in areas]
    model = train_model(texts, by_area, areas)
    assert model.predict_one(texts[0], "north").label == "north-agency"
    assert model.predict_one(texts[0], "south").label == "south-agency"


def test_training_is_reproducible(dataset):
    texts, labels, areas = dataset
    one = train_model(texts, labels, areas)
    two = train_model(texts, labels, areas)
    assert one.threshold == pytest.approx(two.threshold, abs=1e-4)
    assert one.metadata["data_sha256"] == two.metadata["data_sha256"]
    # liblinear draws from one process-wide generator and the calibration folds
    # are fitted in two threads, so the last digits may differ between runs.
    np.testing.assert_allclose(one.predict_proba(texts), two.predict_proba(texts), atol=1e-4)
    assert [p.label for p in one.predict(texts)] == [p.label for p in two.predict(texts)]


def test_metadata_and_version(trained):
    meta = trained.metadata
    sha = meta["data_sha256"]
    assert len(sha) == 64
    date, _, short = trained.version.partition("-")
    assert len(date) == 15 and date[8] == "T" and short == sha[:8]
    assert meta["created_at"][-6] in "+-"  # ISO 8601 with an offset
    assert meta["labels"] == trained.labels
    assert 0 < meta["threshold"] <= 1
    assert meta["target_precision"] == 0.95


# ---- threshold --------------------------------------------------------------------

def test_choose_threshold_takes_the_largest_share_that_keeps_precision():
    confidence = [0.99, 0.95, 0.9, 0.8, 0.7, 0.6]
    correct = [True, True, True, False, True, True]
    threshold, coverage, precision = choose_threshold(confidence, correct, 0.75)
    # top-5: 4/5 = 0.8 >= 0.75; top-6: 5/6 = 0.83 >= 0.75, so everything
    assert (threshold, coverage) == (0.6, 1.0)
    threshold, coverage, precision = choose_threshold(confidence, correct, 0.95)
    assert (threshold, coverage, precision) == (0.9, 0.5, 1.0)


def test_choose_threshold_does_not_split_ties():
    threshold, coverage, _ = choose_threshold([0.9, 0.8, 0.8], [True, True, False], 0.95)
    assert (threshold, coverage) == (0.9, 1 / 3)


def test_choose_threshold_when_nothing_reaches_the_target():
    threshold, coverage, precision = choose_threshold([0.9, 0.5], [False, True], 0.95)
    assert threshold == 1.0 and coverage == 0.0 and precision is None


def test_threshold_reaches_target_precision_on_held_out_rows(trained):
    holdout = trained.metadata["holdout"]
    assert holdout["n"] > 0
    route = holdout["auto_route"]
    assert route["threshold"] == trained.threshold
    if route["coverage"] > 0:
        assert route["precision"] >= 0.95


def test_stricter_target_gives_higher_threshold_and_lower_coverage():
    texts, labels, areas = make_dataset(per_label=40, seed=5)
    rng = np.random.RandomState(0)
    # Some wrong labels, so that precision varies with the threshold.
    noisy = [rng.choice(sorted(set(labels))) if rng.rand() < 0.3 else y for y in labels]
    lenient = train_model(texts, noisy, areas, target_precision=0.6)
    strict = train_model(texts, noisy, areas, target_precision=0.95)
    assert strict.threshold > lenient.threshold
    lenient_route = lenient.metadata["holdout"]["auto_route"]
    strict_route = strict.metadata["holdout"]["auto_route"]
    assert strict_route["coverage"] < lenient_route["coverage"]
    assert lenient_route["precision"] >= 0.6
    assert strict_route["precision"] is None or strict_route["precision"] >= 0.95


# ---- bad input ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("texts", "labels", "areas", "message"),
    [
        ([], [], None, "empty"),
        (["a b", "c d", "e f"], ["x", "y"], None, "lengths differ"),
        (["a b", "c d"], ["x", "y"], ["1"], "lengths differ"),
        (["a b", "c d", "e f"], ["x", "x", "y"], None, "only one example"),
        (["a b", "c d"], ["x", "x"], None, "two different labels"),
        (["a b", "c d", "e f", "g h"], ["x", "", "y", "y"], None, "empty label"),
    ],
)
def test_bad_training_input(texts, labels, areas, message):
    with pytest.raises(ClassifierInputError, match=message):
        train_model(texts, labels, areas)


def test_bad_target_precision(dataset):
    texts, labels, _ = dataset
    with pytest.raises(ClassifierInputError, match="target_precision"):
        train_model(texts, labels, target_precision=1.5)


def test_rare_labels_still_train():
    texts, labels, _ = make_dataset(per_label=20, seed=11)
    texts += ["ngập nước ổ gà", "rác đèn đường"]
    labels += ["rare", "rare"]
    model = train_model(texts, labels)
    assert "rare" in model.labels


SEED_CORPUS = Path(__file__).resolve().parents[2] / "classifier" / "seed" / "seed_vi.csv"


@pytest.mark.skipif(not SEED_CORPUS.exists(), reason="Vietnamese seed corpus not present")
def test_seed_corpus_routes_the_same_without_diacritics():
    with SEED_CORPUS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rng = np.random.RandomState(0)
    held = set(rng.permutation(len(rows))[: len(rows) // 4].tolist())
    train = [r for i, r in enumerate(rows) if i not in held]
    test = [r for i, r in enumerate(rows) if i in held]
    model = train_model([r["text"] for r in train], [r["category"] for r in train])
    original = [p.label for p in model.predict([r["text"] for r in test])]
    bare = [p.label for p in model.predict([strip_diacritics(r["text"]) for r in test])]
    assert np.mean([a == b for a, b in zip(original, bare)]) >= 0.95
    assert model.evaluate([r["text"] for r in test], [r["category"] for r in test])["accuracy"] > 0.6


def test_shipped_word_table_matches_fresh_lookups(trained):
    features = trained.pipeline.named_steps["features"]
    assert features._known_words, "the frequent training words should be shipped with the model"
    fresh = copy.deepcopy(features)
    fresh._known_words, fresh._word_cache = {}, {}
    shipped = list(features._known_words.items())[:200]
    looked_up = fresh._lookup_words([token for token, _ in shipped])
    for (token, (ids, bare)), (fresh_ids, fresh_bare) in zip(shipped, looked_up):
        np.testing.assert_array_equal(ids, fresh_ids)
        assert bare == fresh_bare
