"""Saving and loading: identical predictions after a round trip, refusal of files it cannot vouch for."""

import json
import os
import zipfile

import numpy as np
import pytest
import skops.io
import sklearn

from classifier import ModelLoadError, load_model
from classifier.io import sidecar_path


def test_round_trip_gives_identical_predictions(trained, saved_model, dataset):
    texts, _, areas = dataset
    loaded = load_model(saved_model)
    assert loaded.version == trained.version
    assert loaded.labels == trained.labels
    assert loaded.threshold == trained.threshold
    np.testing.assert_array_equal(loaded.predict_proba(texts, areas), trained.predict_proba(texts, areas))
    assert loaded.predict_one(texts[0], areas[0]) == trained.predict_one(texts[0], areas[0])


def test_sidecar_describes_the_model(trained, saved_model):
    side = json.loads(sidecar_path(saved_model).read_text(encoding="utf-8"))
    assert side["labels"] == trained.labels
    assert side["sklearn_version"] == sklearn.__version__
    assert side["skops_version"] == skops.__version__
    assert side["data_sha256"] == trained.metadata["data_sha256"]
    assert side["threshold"] == trained.threshold
    assert side["target_precision"] == 0.95
    assert side["version"] == trained.version
    assert side["created_at"][-6] in "+-"
    for key in ("text_columns", "label_column", "area_column", "holdout"):
        assert key in side


def _copy(saved_model, tmp_path):
    target = tmp_path / "copy.skops"
    target.write_bytes(saved_model.read_bytes())
    sidecar_path(target).write_text(sidecar_path(saved_model).read_text(encoding="utf-8"), encoding="utf-8")
    return target


def _edit_sidecar(path, **changes):
    side = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    side.update(changes)
    sidecar_path(path).write_text(json.dumps(side), encoding="utf-8")


def test_other_sklearn_version_is_refused(saved_model, tmp_path):
    path = _copy(saved_model, tmp_path)
    _edit_sidecar(path, sklearn_version="0.24.2")
    with pytest.raises(ModelLoadError) as caught:
        load_model(path)
    assert "0.24.2" in str(caught.value) and sklearn.__version__ in str(caught.value)


def test_modified_file_is_refused(saved_model, tmp_path):
    path = _copy(saved_model, tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="sha256"):
        load_model(path)


def test_unknown_types_are_refused_and_named(tmp_path, trained):
    path = tmp_path / "evil.skops"
    skops.io.dump({"format": "feedback-classifier/1", "pipeline": os.system, "metadata": "{}"}, path)
    with zipfile.ZipFile(path) as archive:
        assert "schema.json" in archive.namelist()
    sidecar_path(path).write_text(
        json.dumps({"sklearn_version": sklearn.__version__, "version": trained.version}),
        encoding="utf-8",
    )
    with pytest.raises(ModelLoadError) as caught:
        load_model(path)
    message = str(caught.value)
    assert "allow-list" in message and "system" in message


def test_missing_sidecar_is_refused(saved_model, tmp_path):
    path = tmp_path / "alone.skops"
    path.write_bytes(saved_model.read_bytes())
    with pytest.raises(ModelLoadError, match="sidecar"):
        load_model(path)


def test_sidecar_of_another_model_is_refused(saved_model, tmp_path):
    path = _copy(saved_model, tmp_path)
    _edit_sidecar(path, version="20000101T000000-deadbeef")
    with pytest.raises(ModelLoadError, match="deadbeef"):
        load_model(path)


@pytest.mark.parametrize("content", [b"", b"not a zip file at all"])
def test_garbage_file_is_refused(tmp_path, content):
    path = tmp_path / "garbage.skops"
    path.write_bytes(content)
    sidecar_path(path).write_text(json.dumps({"sklearn_version": sklearn.__version__}), encoding="utf-8")
    with pytest.raises(ModelLoadError, match="not a readable skops model"):
        load_model(path)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(ModelLoadError, match="no model file"):
        load_model(tmp_path / "nothing.skops")
