"""The command line contract: train / evaluate / predict, JSON on the last stdout line, exit 2 on bad input."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from classifier_testdata import make_dataset

REPO_ROOT = Path(__file__).resolve().parents[2]

REQUIRED = {"n", "accuracy", "macro_f1", "auto_route"}


def run(*args, check_ok=True):
    result = subprocess.run(
        [sys.executable, "-m", "classifier", *map(str, args)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    if check_ok:
        assert result.returncode == 0, result.stderr
    return result


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    texts, labels, areas = make_dataset(per_label=30, seed=1)
    # Two text columns (title, description) exercise the joining of columns.
    rows = [(t.split()[0], " ".join(t.split()[1:]), y, a) for t, y, a in zip(texts, labels, areas)]
    rows.append(("lonely", "one of a kind", "singleton", "HN-01"))
    train = write_csv(folder / "train.csv", ["title", "description", "field", "ward"], rows)
    test_texts, test_labels, test_areas = make_dataset(per_label=10, seed=2)
    test_rows = [(t.split()[0], " ".join(t.split()[1:]), y, a)
                 for t, y, a in zip(test_texts, test_labels, test_areas)]
    test = write_csv(folder / "test.csv", ["title", "description", "field", "ward"], test_rows)
    model = folder / "model.skops"
    result = run("train", "--data", train, "--text", "title,description", "--label", "field",
                 "--area", "ward", "--out", model, "--min-examples", "2", "--target-precision", "0.9")
    return {"folder": folder, "train": train, "test": test, "model": model, "train_result": result}


def test_train_prints_metrics_last(files):
    result = files["train_result"]
    summary = last_json(result.stdout)
    assert REQUIRED <= set(summary)
    assert {"threshold", "coverage", "precision"} <= set(summary["auto_route"])
    assert summary["model"] == str(files["model"])
    assert summary["version"]
    assert summary["n"] > 0
    assert "singleton" in result.stderr  # dropped by --min-examples, and said so
    assert files["model"].exists()
    sidecar = json.loads((files["folder"] / "model.skops.json").read_text(encoding="utf-8"))
    assert sidecar["text_columns"] == ["title", "description"]
    assert sidecar["label_column"] == "field"
    assert sidecar["area_column"] == "ward"
    assert sidecar["target_precision"] == 0.9
    assert "singleton" not in sidecar["labels"]


def test_evaluate_uses_the_columns_of_the_model(files):
    result = run("evaluate", "--model", files["model"], "--data", files["test"])
    metrics = last_json(result.stdout)
    assert REQUIRED <= set(metrics)
    assert metrics["n"] == 40
    assert metrics["accuracy"] > 0.8
    assert metrics["version"] == last_json(files["train_result"].stdout)["version"]


def test_predict_prints_json(files):
    result = run("predict", "--model", files["model"], "Đường ngập nước, cống thoát nước", "--area", "HN-01")
    prediction = last_json(result.stdout)
    assert prediction["label"] == "water"
    assert 0 < prediction["probability"] <= 1
    assert isinstance(prediction["auto_route"], bool)
    assert prediction["top"][0] == [prediction["label"], prediction["probability"]]


def expect_bad_input(*args, mentions=()):
    result = run(*args, check_ok=False)
    assert result.returncode == 2
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("error:")
    for word in mentions:
        assert word in message
    return message


def test_missing_data_file(files, tmp_path):
    expect_bad_input("train", "--data", tmp_path / "none.csv", "--text", "t", "--label", "l",
                     "--out", tmp_path / "m.skops", mentions=["none.csv"])


def test_missing_column_lists_the_columns(files, tmp_path):
    expect_bad_input("train", "--data", files["train"], "--text", "title,body", "--label", "field",
                     "--out", tmp_path / "m.skops", mentions=["'body'", "title, description, field, ward"])


def test_empty_file(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    expect_bad_input("train", "--data", empty, "--text", "t", "--label", "l",
                     "--out", tmp_path / "m.skops", mentions=["empty"])


def test_header_only_file(tmp_path):
    header_only = write_csv(tmp_path / "header.csv", ["text", "label"], [])
    expect_bad_input("train", "--data", header_only, "--text", "text", "--label", "label",
                     "--out", tmp_path / "m.skops", mentions=["no data rows"])


def test_label_with_one_example(files, tmp_path):
    expect_bad_input("train", "--data", files["train"], "--text", "title,description", "--label", "field",
                     "--out", tmp_path / "m.skops", mentions=["singleton", "one example"])
    assert not (tmp_path / "m.skops").exists()


def test_unreadable_model(tmp_path, files):
    broken = tmp_path / "broken.skops"
    broken.write_bytes(b"definitely not a model")
    (tmp_path / "broken.skops.json").write_text(
        (files["folder"] / "model.skops.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    expect_bad_input("predict", "--model", broken, "some text", mentions=["broken.skops"])
    expect_bad_input("evaluate", "--model", tmp_path / "absent.skops", "--data", files["test"],
                     mentions=["absent.skops"])
