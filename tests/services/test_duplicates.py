"""Duplicate scoring: wording across diacritics and order, numbers that tell places apart, pool weighting."""
from __future__ import annotations

from feedback_app.services.duplicates import pool_similarity, text_similarity


def test_same_problem_in_other_words_scores_high():
    a = "Đèn đường trước nhà số 25 Ngô Gia Tự bị hỏng mấy hôm nay"
    b = "den duong truoc so 25 ngo gia tu hong may hom roi"
    assert text_similarity(a, b) > 0.6


def test_other_numbers_are_other_places():
    same = text_similarity("Mất nước ở tổ 3 phường Suối Hoa", "Mất nước ở tổ 3 phường Suối Hoa từ sáng")
    other = text_similarity("Mất nước ở tổ 3 phường Suối Hoa", "Mất nước ở tổ 8 phường Suối Hoa")
    assert same > 0.8 and other <= 0.5


def test_the_pool_discounts_what_every_report_says():
    pool = [
        "Đèn chiếu sáng hỏng ở ngõ Hoa Sữa phường Suối Hoa",
        "Đèn chiếu sáng hỏng ở ngõ Hoa Sữa, tối om",
        "Đèn chiếu sáng hỏng ở đường Lý Thái Tổ phường Suối Hoa",
        "Đèn chiếu sáng hỏng gần chợ phường Suối Hoa",
    ]
    similarity = pool_similarity(pool)
    assert similarity(0, 1) > similarity(0, 2) and similarity(0, 1) > similarity(0, 3)
