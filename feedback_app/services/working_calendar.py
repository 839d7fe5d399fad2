"""Working time the Vietnamese way: office hours, Monday to Friday, public holidays, decreed days off and make-up days.

A working day is the length of one day's office hours (8 h by default), so days and hours are one clock:
`add_working_time(t, days=5)` is `add_working_time(t, hours=40)`, and pausing shifts by exactly what was paused.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

MAX_DAYS = 3660  # no deadline is ten years away; a calendar without working days must not loop forever


def parse_office_hours(text: str) -> tuple[tuple[time, time], ...]:
    """'07:30-11:30,13:00-17:00' -> ((07:30, 11:30), (13:00, 17:00)); ordered, non-overlapping, non-empty."""
    periods = []
    for part in text.split(","):
        start, end = (time.fromisoformat(x.strip()) for x in part.split("-"))
        if end <= start:
            raise ValueError(f"office period {part!r} ends before it starts")
        periods.append((start, end))
    periods.sort()
    for (_, end), (start, _) in zip(periods, periods[1:]):
        if start < end:
            raise ValueError("office periods overlap")
    if not periods:
        raise ValueError("no office hours")
    return tuple(periods)


@lru_cache(maxsize=64)
def _public_holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=year))


@dataclass(frozen=True)
class WorkingCalendar:
    timezone: str = "Asia/Ho_Chi_Minh"
    office_hours: tuple[tuple[time, time], ...] = ((time(7, 30), time(11, 30)), (time(13, 0), time(17, 0)))
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    country: str = "VN"
    days_off: frozenset[date] = field(default_factory=frozenset)  # decreed extra days off
    working_days: frozenset[date] = field(default_factory=frozenset)  # decreed make-up days (often Saturdays)

    def __post_init__(self):
        # Each day's periods, computed once per calendar (a calendar is immutable; a decree makes a new one):
        # every submission asks for the same few days four times over.
        object.__setattr__(self, "_periods", {})
        object.__setattr__(self, "zone", ZoneInfo(self.timezone))
        object.__setattr__(self, "day_length", sum(
            (datetime.combine(date.min, e) - datetime.combine(date.min, s) for s, e in self.office_hours), timedelta()))

    zone: ZoneInfo = field(init=False, repr=False, compare=False)
    day_length: timedelta = field(init=False, repr=False, compare=False)  # one day's office time

    def is_working_day(self, day: date) -> bool:
        if day in self.working_days:
            return True
        if day in self.days_off or day in _public_holidays(self.country, day.year):
            return False
        return day.weekday() in self.weekdays

    def periods(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The day's office periods as UTC instants (none on a day off)."""
        cached = self._periods.get(day)
        if cached is None:
            cached = self._periods[day] = self._compute_periods(day)
        return cached

    def _compute_periods(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        if not self.is_working_day(day):
            return ()
        zone = self.zone
        return tuple(
            (datetime.combine(day, s, zone).astimezone(timezone.utc), datetime.combine(day, e, zone).astimezone(timezone.utc))
            for s, e in self.office_hours
        )

    def _days_from(self, instant: datetime):
        day = instant.astimezone(self.zone).date()
        for offset in range(MAX_DAYS):
            yield day + timedelta(days=offset)

    def add_working_time(self, start: datetime, *, hours: float = 0, days: float = 0) -> datetime:
        """The instant when `hours` + `days` of working time have passed since `start`; always inside office hours."""
        return self._add_spans(start, [timedelta(hours=hours) + self.day_length * days])[0]

    def add_working_times(self, start: datetime, hours: list[float]) -> list[datetime]:
        """`add_working_time(start, hours=h)` for each h, in one walk over the days (a new item's four marks)."""
        return self._add_spans(start, [timedelta(hours=h) for h in hours])

    def _add_spans(self, start: datetime, spans: list[timedelta]) -> list[datetime]:
        targets = sorted((span, i) for i, span in enumerate(spans))
        if not targets:
            return []
        if targets[0][0] < timedelta(0):
            raise ValueError("working time to add must not be negative")
        marks: list = [None] * len(targets)
        found, spent = 0, timedelta(0)
        for day in self._days_from(start):
            for period_start, period_end in self.periods(day):
                if period_end <= start:
                    continue
                begin = max(period_start, start)  # before period_end: an instant inside or before the period
                available = period_end - begin
                while found < len(targets) and targets[found][0] - spent <= available:
                    wanted, index = targets[found]
                    marks[index] = begin + (wanted - spent)
                    found += 1
                if found == len(targets):
                    return marks
                spent += available
        raise ValueError("no working time within ten years: check the calendar")

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Office time inside [start, end]; zero when end is not after start."""
        total = timedelta(0)
        if end <= start:
            return total
        for day in self._days_from(start):
            periods = self.periods(day)
            if day > end.astimezone(self.zone).date():
                break
            for period_start, period_end in periods:
                overlap = min(period_end, end) - max(period_start, start)
                if overlap > timedelta(0):
                    total += overlap
        return total

    def is_working_time(self, instant: datetime) -> bool:
        return any(s <= instant <= e for s, e in self.periods(instant.astimezone(self.zone).date()))
