"""Shared fixtures for the classifier tests: a small synthetic multilingual dataset and a model trained on it."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # the tests run from any working directory
    sys.path.insert(0, str(REPO_ROOT))

# Each field has its own words in three languages; filler words are shared, so
# the model has to pick up the field words, as on real reports.
FIELD_WORDS = {
    "water": ["ngập nước", "cống thoát nước", "mất nước", "vỡ ống nước", "flooded street",
              "burst water pipe", "csőtörés", "vízvezeték", "nước bẩn", "drain blocked"],
    "lighting": ["đèn đường hỏng", "cột đèn", "mất điện", "chiếu sáng", "street light out",
                 "lamp post broken", "közvilágítás", "lámpa nem ég", "bóng đèn cháy", "dark street"],
    "waste": ["rác thải", "bãi rác", "xả rác", "thu gom rác", "garbage not collected",
              "illegal dumping", "szemét", "hulladék", "mùi hôi rác", "overflowing bin"],
    "roads": ["ổ gà", "mặt đường hư hỏng", "sụt lún", "vỉa hè", "pothole on the road",
              "cracked pavement", "kátyú", "úttest", "đường xuống cấp", "road surface broken"],
}
FILLERS = ["xin phản ánh", "tại khu phố", "đã lâu rồi", "please fix", "near the school",
           "kérem javítsák", "a ház előtt", "đề nghị xử lý", "since last week", "rất nguy hiểm"]
AREAS = ["HN-01", "HN-02", "BN-07"]


def make_dataset(per_label: int = 40, seed: int = 7):
    rng = random.Random(seed)
    texts, labels, areas = [], [], []
    for label, words in FIELD_WORDS.items():
        for _ in range(per_label):
            parts = rng.sample(words, 2) + rng.sample(FILLERS, 2)
            rng.shuffle(parts)
            texts.append(" ".join(parts).capitalize())
            labels.append(label)
            areas.append(rng.choice(AREAS))
    order = list(range(len(texts)))
    rng.shuffle(order)
    return [texts[i] for i in order], [labels[i] for i in order], [areas[i] for i in order]


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
