"""Synthetic multilingual reports for the classifier tests (importable by name from every test module)."""

from __future__ import annotations

import random

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
