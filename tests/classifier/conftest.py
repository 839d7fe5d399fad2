"""Shared fixtures for the classifier tests: a small synthetic multilingual dataset and a model trained on it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
# The tests run from any working directory and under any pytest import mode:
# the package and the shared test data must be importable by name.
for folder in (REPO_ROOT, HERE):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from classifier_testdata import make_dataset  # noqa: E402


@pytest.fixture(scope="session")
def dataset():
    return make_dataset()


@pytest.fixture(scope="session")
def trained(dataset):
    from classifier import train_model

    texts, labels, areas = dataset
    return train_model(texts, labels, areas)


@pytest.fixture(scope="session")
def saved_model(trained, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.skops"
    trained.save(path)
    return path
