"""The working calendar: golden days around Tết 2026, and the properties any deadline must keep."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback_app.services.working_calendar import WorkingCalendar, parse_office_hours

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = WorkingCalendar()


def vn(*args) -> datetime:
    return datetime(*args, tzinfo=VN)


def test_tet_2026_is_five_days_off():
    for day in range(16, 21):
        assert not CAL.is_working_day(date(2026, 2, day)), day
    assert CAL.is_working_day(date(2026, 2, 13)) and CAL.is_working_day(date(2026, 2, 23))


def test_a_day_that_starts_friday_before_tet_ends_the_monday_after():
    # Friday 13 Feb 16:00: one hour left that day, then Tết and the weekend, then seven hours on Monday 23.
    assert CAL.add_working_time(vn(2026, 2, 13, 16, 0), days=1) == vn(2026, 2, 23, 16, 0)
    assert CAL.working_time_between(vn(2026, 2, 13, 16, 0), vn(2026, 2, 23, 16, 0)) == timedelta(hours=8)


def test_eight_working_hours_from_tet_eve_afternoon():
    # Submitted during Tết (Wednesday 18 Feb, a holiday): the clock starts Monday 23 Feb 07:30.
    assert CAL.add_working_time(vn(2026, 2, 18, 10, 0), hours=8) == vn(2026, 2, 23, 17, 0)
    assert CAL.add_working_time(vn(2026, 2, 18, 10, 0), hours=4) == vn(2026, 2, 23, 11, 30)
    assert CAL.add_working_time(vn(2026, 2, 18, 10, 0), hours=4.5) == vn(2026, 2, 23, 13, 30)


def test_five_working_days_across_tet():
    # Thursday 12 Feb 09:00 + 40 h: 6.5 h that Thursday and 8 h on Friday before Tết, then Mon 23 onward.
    assert CAL.add_working_time(vn(2026, 2, 12, 9, 0), days=5) == vn(2026, 2, 26, 9, 0)


def test_lunch_and_evenings_do_not_count():
    assert CAL.working_time_between(vn(2026, 3, 2, 11, 0), vn(2026, 3, 2, 13, 30)) == timedelta(minutes=60)
    assert CAL.add_working_time(vn(2026, 3, 2, 11, 0), hours=1) == vn(2026, 3, 2, 13, 30)
    assert CAL.add_working_time(vn(2026, 3, 2, 20, 0), hours=1) == vn(2026, 3, 3, 8, 30)


def test_decreed_days_off_and_make_up_saturdays():
    decreed = WorkingCalendar(days_off=frozenset({date(2026, 3, 3)}), working_days=frozenset({date(2026, 3, 7)}))
    assert not decreed.is_working_day(date(2026, 3, 3))
    assert decreed.is_working_day(date(2026, 3, 7))  # a Saturday made a working day
    assert decreed.add_working_time(vn(2026, 3, 6, 17, 0), hours=1) == vn(2026, 3, 7, 8, 30)


def test_office_hours_are_configurable_and_checked():
    short = WorkingCalendar(office_hours=parse_office_hours("08:00-12:00"))
    assert short.day_length == timedelta(hours=4)
    assert short.add_working_time(vn(2026, 3, 2, 8, 0), days=1) == vn(2026, 3, 2, 12, 0)
    with pytest.raises(ValueError):
        parse_office_hours("12:00-08:00")
    with pytest.raises(ValueError):
        parse_office_hours("08:00-12:00,11:00-13:00")


instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)).map(
    lambda d: d.replace(tzinfo=timezone.utc))
amounts = st.integers(min_value=0, max_value=60 * 24 * 40).map(lambda m: timedelta(minutes=m))


@settings(max_examples=300, deadline=None)
@given(start=instants, amount=amounts)
def test_a_deadline_never_falls_outside_working_time(start, amount):
    deadline = CAL.add_working_time(start, hours=amount.total_seconds() / 3600)
    assert CAL.is_working_time(deadline)
    assert deadline >= start


@settings(max_examples=300, deadline=None)
@given(start=instants, a=amounts, b=amounts)
def test_adding_more_never_gives_an_earlier_deadline(start, a, b):
    small, large = sorted((a, b))
    assert CAL.add_working_time(start, hours=small.total_seconds() / 3600) <= CAL.add_working_time(
        start, hours=large.total_seconds() / 3600)


@settings(max_examples=300, deadline=None)
@given(start=instants, amount=amounts)
def test_the_two_functions_agree(start, amount):
    deadline = CAL.add_working_time(start, hours=amount.total_seconds() / 3600)
    assert CAL.working_time_between(start, deadline) == amount


@settings(max_examples=200, deadline=None)
@given(a=instants, b=instants, c=instants)
def test_working_time_adds_up_over_consecutive_spans(a, b, c):
    a, b, c = sorted((a, b, c))
    assert CAL.working_time_between(a, b) + CAL.working_time_between(b, c) == CAL.working_time_between(a, c)


@settings(max_examples=300, deadline=None)
@given(start=instants, spans=st.lists(amounts, max_size=5))
def test_several_marks_in_one_walk_are_each_mark_alone(start, spans):
    # A new item's four marks (75% and 100% of acknowledgement and resolution) come from one walk over the days.
    hours = [span.total_seconds() / 3600 for span in spans]
    assert CAL.add_working_times(start, hours) == [CAL.add_working_time(start, hours=h) for h in hours]


def test_several_marks_refuse_a_negative_amount():
    with pytest.raises(ValueError):
        CAL.add_working_times(vn(2026, 3, 2, 8, 0), [1, -1])
