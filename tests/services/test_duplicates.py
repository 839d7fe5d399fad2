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


def _varied_pools():
    """Pools as the detail view scores them: real reports of every field, near-copies of the item (a word
    added, upper case, half of it), the same words with other numbers, and texts with no 3-gram at all."""
    import csv
    import random

    from feedback_app.config import PROJECT_ROOT

    with open(PROJECT_ROOT / "classifier" / "seed" / "seed_vi.csv", encoding="utf-8") as handle:
        reports = [row["text"] for row in csv.DictReader(handle) if len(row["text"]) >= 10]
    draw = random.Random(11)
    for size in (2, 3, 7, 40, 120, 201, 201):
        pool = [draw.choice(reports) for _ in range(size)]
        item = pool[0]
        for k in range(1, size, 4):
            pool[k] = draw.choice([item + " Đề nghị xử lý sớm.", item.upper(), item[: len(item) // 2],
                                   item.replace("5", "7").replace("3", "8"), "", "!!!", "ab", item])
        yield pool
    yield ["", "Đèn đường hỏng", "den duong hong"]  # an item with no 3-gram: nothing scores


def test_the_detail_views_scores_are_the_pools_to_the_last_bit():
    """`scores_at_least` (numpy, cached 3-grams, the few near the threshold summed again) gives exactly
    the floats of `pool_similarity`, the definition, and leaves out exactly the ones under the threshold."""
    from feedback_app.services.duplicates import MIN_SCORE, scores_at_least

    for pool in _varied_pools():
        similarity = pool_similarity(pool)
        scores = [(j, similarity(0, j)) for j in range(1, len(pool))]
        for threshold in (MIN_SCORE, 1e-300, 0.9):
            assert scores_at_least(pool, threshold) == [(j, s) for j, s in scores if s >= threshold]


def test_a_cached_profile_is_small_and_counts_past_a_byte():
    """The cache keeps a 3-gram's number in 2 bytes and its count in as few as the text's length needs; a
    3-gram repeated thousands of times (a description of 4,000 letters) is still counted exactly."""
    from collections import Counter

    from feedback_app.services.duplicates import _profile, _shingles

    text = "Đèn đường trước nhà số 25 Ngô Gia Tự bị hỏng mấy hôm nay"
    ids, tallies, numbers = _profile(text)
    assert ids.itemsize == 2 and tallies.itemsize == 1 and numbers == {"25"}
    for long_text in ("a" * 4000, "ô " * 2000 + "ngõ 5", "Nước " * 800):
        ids, tallies, _ = _profile(long_text)
        grams = {g: n for g, n in _shingles(long_text).items()}
        assert max(grams.values()) > 255 and tallies.itemsize == 2
        symbols = "abcdefghijklmnopqrstuvwxyz0123456789 "
        names = ["".join(symbols[int(i) // 37 ** k % 37] for k in (2, 1, 0)) for i in ids]
        assert dict(zip(names, tallies.tolist())) == grams and list(Counter(grams)) == names


def test_likely_duplicates_scores_the_open_items_of_the_field_nearby(app_ctx, db_session):
    """Through the database: the same field and area (or radius), open, not merged; scored as the pool says."""
    import sqlalchemy as sa

    from feedback_app.models import FeedbackItem
    from feedback_app.services.duplicates import MIN_SCORE, likely_duplicates
    from tests.factories import ROAD_REPORT

    client = app_ctx.test_client()
    base = "Đèn đường trước nhà số 25 Ngô Gia Tự bị hỏng mấy hôm nay, buổi tối rất tối"
    texts = [base, base + ", đề nghị sửa", "den duong truoc nha so 25 ngo gia tu hong", base.replace("25", "27"),
             "Ổ gà lớn trên đường Ngô Gia Tự gây nguy hiểm", base + " (gửi lại)"]
    codes = []
    for text in texts:
        created = client.post("/api/v1/feedback", json={**ROAD_REPORT, "description": text})
        assert created.status_code == 201, created.get_json()
        codes.append(created.get_json()["tracking_code"])
    other_field = client.post("/api/v1/feedback", json={**ROAD_REPORT, "description": base, "category": "water"})
    assert other_field.status_code == 201
    items = {i.tracking_code: i for i in db_session.scalars(sa.select(FeedbackItem))}
    closed = items[codes[-1]]
    closed.status = "closed"
    db_session.flush()
    item = items[codes[0]]
    pool = sorted((items[c] for c in codes[1:-1]), key=lambda i: i.created_at, reverse=True)
    similarity = pool_similarity([f"{i.title or ''} {i.description}" for i in [item, *pool]])
    expected = sorted(((other.tracking_code, round(similarity(0, j), 3)) for j, other in enumerate(pool, start=1)
                       if similarity(0, j) >= MIN_SCORE), key=lambda pair: -pair[1])
    found = [(row.tracking_code, score) for row, score in likely_duplicates(item)]
    assert found == expected and len(found) >= 3
    # Placed by a point instead: the field's radius around it, whatever the area.
    for i in [item, *pool]:
        i.lat, i.lon = 21.1861, 106.0763
    pool[0].lat = 21.1861 + 0.01  # about 1.1 km away: out of the radius
    db_session.flush()
    near = [(row.tracking_code, score) for row, score in likely_duplicates(item)]
    assert pool[0].tracking_code not in [code for code, _ in near]
    assert {code for code, _ in near} == {code for code, _ in expected} - {pool[0].tracking_code}


def test_fold_drops_exactly_the_combining_marks_whatever_the_characters():
    """`fold` drops marks with a translate table filled in as characters are met (and kept only below
    U+3000): the same text as testing each character's category, for every character of the planes a
    report may hold, composed or not, and for text beyond them."""
    import random
    import re
    import unicodedata

    from feedback_app.services.directory import _WITHOUT_MARKS, fold

    def by_category(text: str) -> str:  # the definition
        text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
        return re.sub(r"\s+", " ", text).strip().lower()

    every = [chr(c) for c in range(0x20, 0x3400) if not 0xD800 <= c < 0xE000]
    draw = random.Random(5)
    texts = ["Đèn đường trước nhà số 25 Ngô Gia Tự bị hỏng", "Ðiện  chập\tchờn ở THÔN Đông", "Kátyú a Szent István körúton",
             unicodedata.normalize("NFD", "Ổ gà ở đường Lý Thái Tổ"), "", "   ", "\u0301\u0323a\u0303",
             "".join(every)] + ["".join(draw.choice(every) for _ in range(200)) for _ in range(300)]
    texts += ["".join(chr(draw.randrange(0x3000, 0x30000)) for _ in range(50)) + " đường" for _ in range(50)]
    for text in texts:
        assert fold(text) == by_category(text)
    assert max(_WITHOUT_MARKS) < 0x3000  # what lies beyond is looked up, not kept
