"""Cron monitor schedules (pure functions): crontab fields, macros and timezones, intervals, Sentry's messages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from localsentry.models.schedule import check_schedule, next_after

pytestmark = pytest.mark.sentry


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def at(value: float) -> str:
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(("schedule", "timezone", "after", "expected"), [
    ("0 3 * * *", "UTC", "2026-01-05 02:59:30", "2026-01-05 03:00"),
    ("0 3 * * *", "UTC", "2026-01-05 03:00:00", "2026-01-06 03:00"),  # strictly after
    ("0 3 * * *", "Europe/Vienna", "2026-01-05 00:00:00", "2026-01-05 02:00"),  # UTC+1 in winter
    ("0 3 * * *", "Europe/Vienna", "2026-07-05 00:00:00", "2026-07-05 01:00"),  # UTC+2 in summer
    ("*/15 * * * *", "UTC", "2026-01-05 10:07:00", "2026-01-05 10:15"),
    ("0 9 * * 1-5", "UTC", "2026-01-09 10:00:00", "2026-01-12 09:00"),  # Friday after 9 → Monday
    ("0 0 1 * 0", "UTC", "2026-01-02 00:00:00", "2026-01-04 00:00"),  # day of month OR weekday (Sunday)
    ("30 2 * jan,feb sun", "UTC", "2026-01-05 00:00:00", "2026-01-11 02:30"),
    ("@hourly", "UTC", "2026-01-05 10:07:00", "2026-01-05 11:00"),
    ("@monthly", "UTC", "2026-01-31 12:00:00", "2026-02-01 00:00"),
    ("0 0 * * 7", "UTC", "2026-01-05 00:00:00", "2026-01-11 00:00"),  # 7 is Sunday too
])  # fmt: skip
def test_crontab_next(schedule: str, timezone: str, after: str, expected: str) -> None:
    assert at(next_after("crontab", schedule, timezone, ts(after))) == expected


@pytest.mark.parametrize(("schedule", "after", "expected"), [
    ([10, "minute"], "2026-01-05 10:07:45", "2026-01-05 10:17"),
    ([2, "hour"], "2026-01-05 23:30:00", "2026-01-06 01:30"),
    ([1, "month"], "2026-01-31 08:00:00", "2026-02-28 08:00"),  # clamped to the month's last day
    ([1, "year"], "2028-02-29 08:00:00", "2029-02-28 08:00"),
    ([1, "week"], "2026-01-05 08:00:00", "2026-01-12 08:00"),
])  # fmt: skip
def test_interval_next(schedule: list[object], after: str, expected: str) -> None:
    assert at(next_after("interval", schedule, None, ts(after))) == expected


@pytest.mark.parametrize(("kind", "schedule", "timezone", "problem"), [
    ("crontab", "every day", "UTC", "Schedule was not parseable"),
    ("crontab", "61 * * * *", "UTC", "Schedule was not parseable"),
    ("crontab", "* * * *", "UTC", "Schedule was not parseable"),
    ("crontab", "0 0 31 2 *", "UTC", "Schedule was not parseable"),  # never happens
    ("crontab", "0 0 * * *", "Mars/Olympus", '"Mars/Olympus" is not a valid choice.'),
    ("interval", [0, "day"], None, "Invalid interval"),
    ("interval", [1, "fortnight"], None, "Invalid interval"),
    ("interval", "1 day", None, "Invalid interval"),
    ("crontab", "0 0 * * *", "America/New_York", None),
    ("interval", [3, "day"], None, None),
])  # fmt: skip
def test_schedule_problems(kind: str, schedule: object, timezone: str | None, problem: str | None) -> None:
    assert check_schedule(kind, schedule, timezone) == problem
