"""Normalisation: NFC/NFD, Vietnamese tone placement, masking of contacts, diacritic-free matching."""

import unicodedata

import pytest

from classifier import normalize_text, strip_diacritics
from classifier.normalize import EMAIL_TOKEN, PHONE_TOKEN, URL_TOKEN


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("hoà", "hòa"),
        ("thuỷ", "thủy"),
        ("khoẻ", "khỏe"),
        ("quý", "qúy"),
        ("hoá đơn", "hóa đơn"),
        ("tuỳ", "tùy"),
        ("xoá", "xóa"),
        ("Hoà Bình", "HÒA BÌNH"),
        ("uỷ ban", "ủy ban"),
    ],
)
def test_old_and_new_tone_placement_are_one_word(one, other):
    assert normalize_text(one) == normalize_text(other)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hoà", "hòa"),
        ("thuỷ", "thủy"),
        ("qúy", "quý"),
        ("ngoài", "ngoài"),
        ("người", "người"),
        ("hoàn", "hoàn"),
        ("khuỷu", "khuỷu"),
        ("giữa", "giữa"),
        ("gì", "gì"),
        ("quà", "quà"),
    ],
)
def test_canonical_tone_position(text, expected):
    assert normalize_text(text) == expected


def test_decomposed_input_gives_the_same_result_as_composed():
    text = "Đường Nguyễn Trãi ngập nước, khoẻ không? Thuỷ lợi. Hoà Bình"
    decomposed = unicodedata.normalize("NFD", text)
    assert decomposed != text
    assert normalize_text(decomposed) == normalize_text(text)
    assert unicodedata.is_normalized("NFC", normalize_text(decomposed))


def test_case_folding_and_whitespace():
    assert normalize_text("  ĐƯỜNG\tNgập\n\nNƯỚC  ") == "đường ngập nước"
    assert normalize_text("Straße") == normalize_text("STRASSE")


def test_foreign_words_keep_their_accents():
    # Hungarian and French words that merely look like Vietnamese vowel clusters stay as they are.
    assert normalize_text("Kátyú a fiú előtt, où") == "kátyú a fiú előtt, où"


@pytest.mark.parametrize(
    "phone",
    [
        "0912 345 678",
        "0912345678",
        "0912.345.678",
        "+84 912345678",
        "+84912345678",
        "(+84) 912 345 678",
        "0222.3822.123",
        "0222.3822.xxx",
        "(028) 3822 1234",
        "1900 1234",
        "+1 (404) 555-1234",
        "404-555-1234",
        "+36 1 234 5678",
        "06 30 123 4567",
        "+44 20 7946 0958",
    ],
)
def test_phone_numbers_are_masked(phone):
    assert normalize_text(f"Liên hệ {phone} ngay") == f"liên hệ {PHONE_TOKEN} ngay"


@pytest.mark.parametrize(
    "not_a_phone",
    ["ngày 01.02.2024", "giá 12.500.000 đồng", "số nhà 15", "năm 2024", "km 12+300", "2024-12-31"],
)
def test_dates_amounts_and_house_numbers_are_not_phones(not_a_phone):
    assert PHONE_TOKEN not in normalize_text(not_a_phone)


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("xem https://example.com/a?b=1 nhé", URL_TOKEN),
        ("xem http://facebook.com/groups/123 nhé", URL_TOKEN),
        ("xem www.bacninh.gov.vn nhé", URL_TOKEN),
        ("xem bacninh.gov.vn/tin-tuc nhé", URL_TOKEN),
        ("gửi Nguyen.Van-A@gmail.com nhé", EMAIL_TOKEN),
        ("gửi a_b+c@so.bacninh.gov.vn nhé", EMAIL_TOKEN),
    ],
)
def test_urls_and_emails_are_masked(text, token):
    assert normalize_text(text) == f"{text.split()[0]} {token} nhé"


def test_url_keeps_following_punctuation_out():
    assert normalize_text("(xem https://a.vn/x).") == f"(xem {URL_TOKEN} )."


@pytest.mark.parametrize(
    ("with_marks", "without"),
    [
        ("đường ngập nước", "duong ngap nuoc"),
        ("Đường Ngập Nước", "Duong Ngap Nuoc"),
        ("kátyú, közvilágítás, őrség", "katyu, kozvilagitas, orseg"),
        ("naïve café", "naive cafe"),
    ],
)
def test_strip_diacritics(with_marks, without):
    assert strip_diacritics(with_marks) == without
    assert strip_diacritics(unicodedata.normalize("NFD", with_marks)) == without


def test_text_typed_without_diacritics_matches_after_stripping():
    typed = normalize_text("Duong ngap nuoc o phuong Vu Ninh")
    proper = normalize_text("Đường ngập nước ở phường Vũ Ninh")
    assert typed != proper
    assert strip_diacritics(proper) == typed


@pytest.mark.parametrize("value", [None, 42, ""])
def test_non_text_values_do_not_raise(value):
    assert isinstance(normalize_text(value), str)
    assert isinstance(strip_diacritics(value), str)


@pytest.mark.parametrize(
    "numbers",
    ["0912 345 678 0987 654 321", "0912345678 0987654321", "+84 912 345 678 0912 345 678"],
)
def test_numbers_one_after_another_are_each_masked(numbers):
    assert normalize_text(f"gọi {numbers} nhé") == f"gọi {PHONE_TOKEN} {PHONE_TOKEN} nhé"


@pytest.mark.parametrize(
    ("hostile", "starts_with"),
    [
        ("x.com " + "a." * 20000, f"{URL_TOKEN} a.a."),
        ("@ " + "a" * 50000, "@ aaa"),
        ("0 " * 50000, "0 0 0"),
        ("1" * 100000, "111"),
        ("www." * 20000 + "...", f"{URL_TOKEN} ..."),
    ],
)
def test_hostile_input_is_handled(hostile, starts_with):
    # Each of these took quadratic time with the first patterns (minutes at this size).
    assert normalize_text(hostile).startswith(starts_with)


def test_lone_surrogates_and_odd_characters_do_not_raise():
    for text in ["\ud800abc", "a\x00b\u200bc", "\U0001f600 ổ gà", "ﬁ ǅ İstanbul", "\u0301\u0309"]:
        assert normalize_text(normalize_text(text)) == normalize_text(text)
        assert isinstance(strip_diacritics(text), str)
