"""Tracking codes: eight letters of an alphabet without look-alikes, every letter in every place."""
from __future__ import annotations

from collections import Counter

from feedback_app.services.intake import TRACKING_ALPHABET, TRACKING_LENGTH, new_tracking_code


def test_codes_are_eight_letters_of_the_unambiguous_alphabet():
    assert set(TRACKING_ALPHABET).isdisjoint("01OILU")
    for _ in range(500):
        code = new_tracking_code()
        assert len(code) == TRACKING_LENGTH and set(code) <= set(TRACKING_ALPHABET)


def test_every_letter_shows_up_in_every_position_about_equally():
    draws = 6000  # 200 expected per letter and position
    by_position = [Counter() for _ in range(TRACKING_LENGTH)]
    for _ in range(draws):
        for position, letter in enumerate(new_tracking_code()):
            by_position[position][letter] += 1
    for counts in by_position:
        assert set(counts) == set(TRACKING_ALPHABET)
        # A letter under 110 or over 300 of 6,000 draws is about 7 standard deviations out (a biased draw).
        assert 110 < min(counts.values()) and max(counts.values()) < 300
