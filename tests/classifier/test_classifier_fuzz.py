"""Property tests: normalisation never raises and is stable under repetition and decomposition."""

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from classifier import normalize_text, strip_diacritics

VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
vietnamese_text = st.text(alphabet=VIETNAMESE + VIETNAMESE.upper() + " .,0123456789+@/:", max_size=200)
any_text = st.text(max_size=300)

FUZZ = settings(max_examples=300, deadline=None)


@FUZZ
@given(any_text)
def test_normalize_never_raises_and_is_idempotent(text):
    once = normalize_text(text)
    assert isinstance(once, str)
    assert normalize_text(once) == once


@FUZZ
@given(vietnamese_text)
def test_normalize_is_idempotent_on_vietnamese(text):
    once = normalize_text(text)
    assert normalize_text(once) == once


@FUZZ
@given(st.one_of(any_text, vietnamese_text))
def test_decomposition_does_not_change_the_result(text):
    assert normalize_text(unicodedata.normalize("NFD", text)) == normalize_text(text)


@FUZZ
@given(st.one_of(any_text, vietnamese_text))
def test_strip_diacritics_never_raises_and_is_idempotent(text):
    once = strip_diacritics(text)
    assert strip_diacritics(once) == once
    assert not any(unicodedata.category(ch) == "Mn" for ch in unicodedata.normalize("NFD", once))


@FUZZ
@given(vietnamese_text)
def test_vietnamese_without_diacritics_is_ascii(text):
    assert strip_diacritics(normalize_text(text)).isascii()


ONSETS = ["", "h", "th", "kh", "l", "t", "x", "ng", "qu"]
OPEN_RHYMES = ["oa", "oe", "uy"]
TONES = ["\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]


@FUZZ
@given(st.sampled_from(ONSETS), st.sampled_from(OPEN_RHYMES), st.sampled_from(TONES), st.booleans())
def test_tone_on_either_vowel_of_oa_oe_uy_is_one_word(onset, rhyme, tone, upper):
    if onset == "qu" and rhyme == "uy":
        return  # "quuy" is not a syllable
    first = unicodedata.normalize("NFC", onset + rhyme[0] + tone + rhyme[1])
    second = unicodedata.normalize("NFC", onset + rhyme + tone)
    if upper:
        first = first.upper()
    assert normalize_text(first) == normalize_text(second)
