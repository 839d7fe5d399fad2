"""The batch path (one sparse product per batch, n-grams found with numpy) gives the numbers of the one-text path and of the plain definition of the features."""

from __future__ import annotations

import copy
import math
import re
import unicodedata
from collections import Counter
from unittest.mock import patch

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from classifier import ngrams
from classifier.features import FeedbackVectorizer
from classifier.ngrams import NgramIndex
from classifier.normalize import (
    _MARK_CHARS,
    _PHONE_HINT,
    _SYLLABLE_SHAPE,
    _TONES,
    _mask_phones,
    _place_tone_mark,
    normalize_text,
    normalize_untoned,
    place_tone_marks,
    strip_diacritics,
    untoned_words,
)

FUZZ = settings(max_examples=300, deadline=None)
WORD = re.compile(r"\w+")

TEXTS = [
    "Đường ngập nước, cống thoát nước bị tắc",
    "nước nước nước nước",  # one word many times: sublinear counts
    "street light out near the school",
    "a lámpa nem ég a ház előtt",
    "",
    None,
    "zzz qqq unseen words only",
    "Liên hệ 0912 345",  # with the next text, this would read as a phone number
    "678 hoặc www.example.com",
    "Thuỷ lợi, hoà bình, khoẻ",  # new-style tone placement
    "Thủy lợi, hòa bình, khỏe",  # the same words in the traditional style
    "x\x00y\u200bz \ue000 \udcff",
]


def test_batch_equals_one_by_one_and_the_pipeline(trained):
    areas = ["HN-01", None, "never-seen-area", "BN-07"] * 3
    fresh = copy.deepcopy(trained)  # empty word caches: every word is looked up in the batch
    fresh.pipeline.named_steps["features"]._word_cache = {}
    batch = fresh.predict_proba(TEXTS, areas)
    one_by_one = np.vstack([trained.predict_proba_one(t or "", a) for t, a in zip(TEXTS, areas)])
    pipeline = trained.pipeline.predict_proba([(t or "", a) for t, a in zip(TEXTS, areas)])
    np.testing.assert_allclose(batch, one_by_one, rtol=0, atol=1e-12)
    np.testing.assert_allclose(batch, pipeline, rtol=0, atol=1e-12)
    predictions = trained.predict(TEXTS, areas, k=2)
    for prediction, text, area in zip(predictions, TEXTS, areas):
        alone = trained.predict_one(text or "", area, k=2)
        assert prediction.label == alone.label
        assert [label for label, _ in prediction.top] == [label for label, _ in alone.top]
        assert abs(prediction.probability - alone.probability) <= 1e-12
        assert prediction.auto_route == alone.auto_route


def test_tone_placement_styles_give_the_same_features(trained):
    features = trained.pipeline.named_steps["features"]
    matrix = features.transform([(TEXTS[9], None), (TEXTS[10], None)]).toarray()
    np.testing.assert_array_equal(matrix[0], matrix[1])


def _reference_features(vectorizer: FeedbackVectorizer, docs) -> np.ndarray:
    """The features by their definition, one term string at a time."""
    names = {name: i for i, name in enumerate(vectorizer.get_feature_names_out())}
    weights = vectorizer._weights()
    lo, hi = vectorizer.char_ngram_range
    out = np.zeros((len(docs), len(names)))
    for row, (text, area) in enumerate(docs):
        words = WORD.findall(normalize_text(text or ""))
        bare = [strip_diacritics(word) for word in words]
        terms = [f"w:{word}" for word in words] + [f"W:{word}" for word in bare]
        for word in bare:
            padded = f" {word} "
            terms += [f"c:{padded[i:i + n]}" for n in range(lo, hi + 1) for i in range(len(padded) - n + 1)]
        terms += [f"W:{a} {b}" for a, b in zip(bare, bare[1:])]
        if area is not None:
            terms.append("a:" + " ".join(area.split()).casefold())
        counts = Counter(term for term in terms if term in names)
        values = {}
        for term, n in counts.items():
            i = names[term]
            values[i] = (1.0 + math.log(n)) * vectorizer.idf_[i]
        for block in range(len(weights)):
            ids = [i for i in values if vectorizer.term_blocks_[i] == block]
            norm = math.sqrt(sum(values[i] ** 2 for i in ids))
            for i in ids:
                out[row, i] = values[i] / norm * weights[block]
    return out


def test_batch_features_match_their_definition(trained, dataset):
    features = trained.pipeline.named_steps["features"]
    texts, _, areas = dataset
    docs = list(zip(TEXTS + texts[:30], [None, "HN-01", "unknown"] * 4 + areas[:30]))
    fresh = copy.deepcopy(features)
    fresh._word_cache = {}
    for vectorizer in (features, fresh):
        np.testing.assert_allclose(
            vectorizer.transform(docs).toarray(), _reference_features(features, docs), rtol=0, atol=1e-12
        )


@FUZZ
@given(
    st.lists(st.text(alphabet="ab é\u0301\udcff", min_size=1, max_size=4), max_size=30, unique=True),
    st.text(alphabet="ab é\u0301\udcffx", max_size=40),
)
def test_ngram_index_finds_what_a_dictionary_finds(vocabulary, text):
    ids = dict(zip(vocabulary, range(100, 100 + len(vocabulary))))
    for dense_limit in (0, 1 << 20):  # binary searches, tables
        with patch.object(ngrams, "_DENSE_LIMIT", dense_limit):
            index = NgramIndex(vocabulary, np.arange(100, 100 + len(vocabulary)))
        found = index.find(text, range(1, 6))
        for n, row in zip(range(1, 6), found):
            expected = [ids.get(text[i : i + n], -1) if i + n <= len(text) else -1 for i in range(len(text))]
            assert row.tolist() == expected


VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
MARKED = VIETNAMESE + "".join(sorted(_TONES)) + _MARK_CHARS + "îŏǵńḿjfwzöőű"


@FUZZ
@given(
    st.one_of(
        st.text(max_size=200),
        st.text(alphabet=VIETNAMESE + VIETNAMESE.upper() + " .,0123456789@/:", max_size=200),
        st.text(alphabet="0123456789 \t\u00a0.-()+x", max_size=60),
    )
)
@example("gọi 0912   345   678 hoặc 0912\t345\u00a0678")
@example("xem WWW.Example.COM/a, thư a@b.co, trang x.com")
def test_tones_placed_word_by_word_give_the_words_of_normalize_text(text):
    expected = WORD.findall(normalize_text(text))
    assert [place_tone_marks(word) for word in WORD.findall(normalize_untoned(text))] == expected
    assert [place_tone_marks(word) for word in untoned_words(text)] == expected


@FUZZ
@given(st.text(alphabet=MARKED, min_size=1, max_size=9))
def test_words_of_another_shape_are_never_retoned(word):
    word = unicodedata.normalize("NFC", word)
    if not _SYLLABLE_SHAPE.fullmatch(word):
        assert _place_tone_mark(word) == word


@FUZZ
@given(st.text(alphabet="0123456789 .-()+x/,:\t", max_size=40))
def test_text_without_the_phone_hint_has_no_phone_number(text):
    if not _PHONE_HINT.search(text):
        assert _mask_phones(text) == text
